using Npgsql;
using NpgsqlTypes;
using Transit.Analytics.Chaining;
using Transit.Analytics.Rollups;

namespace Transit.Analytics.Web.Store;

/// <summary>What one refresh did.</summary>
public sealed record RefreshResult(int RiderDays, int Changed, int Taps, int Cells)
{
    public override string ToString() => $"{RiderDays} rider-days read, {Changed} changed, {Taps} taps, {Cells} cells updated";
}

/// <summary>
/// Brings the rollups up to date for rider-days whose taps changed. Each rider-day is replaced whole: its old
/// contribution (rebuilt from the taps it was last computed from) is taken out and the new one added, so the cells
/// stay exact, distinct riders included, however late a tap arrives.
/// </summary>
public sealed class RollupRefresher(NpgsqlDataSource dataSource, TripChainer chainer)
{
    /// <summary>Applies the current taps of each given rider-day (all of that rider's taps of the day).</summary>
    public async Task<RefreshResult> RefreshAsync(DateOnly day, IReadOnlyDictionary<long, List<AnalyticsTap>> riderTaps, CancellationToken cancellation)
    {
        var riders = riderTaps.Keys.ToArray();
        var old = new Dictionary<long, long[]>(riders.Length);
        await using (var command = dataSource.CreateCommand("SELECT rider, tap_ids FROM analytics_rider_days WHERE service_day = $1 AND rider = ANY ($2)"))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = day, NpgsqlDbType = NpgsqlDbType.Date });
            command.Parameters.Add(new NpgsqlParameter { Value = riders, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
            await using var reader = await command.ExecuteReaderAsync(cancellation);
            while (await reader.ReadAsync(cancellation))
            {
                old[reader.GetInt64(0)] = reader.GetFieldValue<long[]>(1);
            }
        }

        // Chaining and projecting rider-days is independent per rider: spread it over the cores.
        var computed = riderTaps.AsParallel().Select(pair =>
        {
            var (rider, all) = pair;
            var ids = all.Select(TapId).Order().ToArray();
            var before = old.GetValueOrDefault(rider);
            if (before is not null && before.AsSpan().SequenceEqual(ids))
            {
                return default;
            }

            IReadOnlyDictionary<CellKey, Measures>? oldContribution = null;
            if (before is not null)
            {
                var known = before.ToHashSet();
                oldContribution = Contribution(rider, day, [.. all.Where(t => known.Contains(TapId(t)))]);
            }

            return (Rider: rider, Ids: ids, Old: oldContribution, New: (IReadOnlyDictionary<CellKey, Measures>?)Contribution(rider, day, all));
        }).Where(c => c.Ids is not null).ToList();
        var taps = riderTaps.Values.Sum(t => t.Count);
        var newIds = computed.Select(c => (c.Rider, c.Ids)).ToList();
        var deltas = RollupSet.Diff(computed.Select(c => (c.Rider, c.Old, c.New)));
        await using var connection = await dataSource.OpenConnectionAsync(cancellation);
        await using var transaction = await connection.BeginTransactionAsync(cancellation);
        var cells = await PostgresRollupStore.ApplyAsync(connection, deltas, cancellation);
        await SaveRiderDaysAsync(connection, day, newIds, cancellation);
        await transaction.CommitAsync(cancellation);
        return new RefreshResult(riderTaps.Count, newIds.Count, taps, cells);
    }

    private Dictionary<CellKey, Measures> Contribution(long rider, DateOnly day, List<AnalyticsTap> taps) =>
        RollupProjection.Project(new RiderDay(rider, day, taps, chainer.Chain(rider, day, taps), []), chainer.Options);

    private static async Task SaveRiderDaysAsync(NpgsqlConnection connection, DateOnly day, List<(long Rider, long[] Ids)> riderDays, CancellationToken cancellation)
    {
        if (riderDays.Count == 0)
        {
            return;
        }

        await using (var create = new NpgsqlCommand("CREATE TEMP TABLE IF NOT EXISTS analytics_rider_delta (LIKE analytics_rider_days) ON COMMIT DELETE ROWS", connection))
        {
            await create.ExecuteNonQueryAsync(cancellation);
        }

        await using (var copy = await connection.BeginBinaryImportAsync("COPY analytics_rider_delta (service_day, rider, tap_ids) FROM STDIN (FORMAT BINARY)", cancellation))
        {
            foreach (var (rider, ids) in riderDays)
            {
                await copy.StartRowAsync(cancellation);
                await copy.WriteAsync(day, NpgsqlDbType.Date, cancellation);
                await copy.WriteAsync(rider, NpgsqlDbType.Bigint, cancellation);
                await copy.WriteAsync(ids, NpgsqlDbType.Array | NpgsqlDbType.Bigint, cancellation);
            }

            await copy.CompleteAsync(cancellation);
        }

        await using var upsert = new NpgsqlCommand("""
            INSERT INTO analytics_rider_days (service_day, rider, tap_ids) SELECT service_day, rider, tap_ids FROM analytics_rider_delta
            ON CONFLICT (service_day, rider) DO UPDATE SET tap_ids = EXCLUDED.tap_ids;
            TRUNCATE analytics_rider_delta;
            """, connection);
        await upsert.ExecuteNonQueryAsync(cancellation);
    }

    /// <summary>A tap's identity, (device, sequence), as 64 bits (FNV-1a): what a rider-day was computed from.</summary>
    public static long TapId(AnalyticsTap tap)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in tap.DeviceId ?? "")
        {
            hash = unchecked((hash ^ c) * 1099511628211UL);
        }

        hash = unchecked((hash ^ 0xFF) * 1099511628211UL);
        hash = unchecked((hash ^ (ulong)tap.Sequence) * 1099511628211UL);
        return unchecked((long)hash);
    }
}
