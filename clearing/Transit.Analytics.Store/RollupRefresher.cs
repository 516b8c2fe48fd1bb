using Npgsql;
using NpgsqlTypes;
using Transit.Analytics.Chaining;
using Transit.Analytics.Rollups;

namespace Transit.Analytics.Store;

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
        if (riderTaps.Count == 0)
        {
            return new RefreshResult(0, 0, 0, 0);
        }

        var riders = riderTaps.Keys.ToArray();
        var old = new Dictionary<long, long[]>(riders.Length);
        await using (var command = dataSource.CreateCommand("SELECT rider, tap_ids FROM analytics_rider_days WHERE service_day = $1 AND rider = ANY ($2)"))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = day, NpgsqlDbType = NpgsqlDbType.Date });
            command.Parameters.Add(new NpgsqlParameter { Value = riders, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
            await using var reader = await command.ExecuteReaderAsync(cancellation);
            while (await reader.ReadAsync(cancellation))
            {
                old[reader.GetInt64(0)] = reader.Field<long[]>(1);
            }
        }

        // Chaining, projecting and diffing rider-days is independent per rider: each core folds its share of the
        // riders into deltas of its own, reusing one contribution dictionary, and the deltas are merged at the end.
        var parts = riderTaps.Chunk(Math.Max(1, (riderTaps.Count + Environment.ProcessorCount - 1) / Environment.ProcessorCount))
            .Select(part => Task.Run(() => Compute(day, part, old), cancellation)).ToArray();
        var results = await Task.WhenAll(parts);
        var deltas = results[0].Deltas;
        var newIds = results[0].Ids;
        foreach (var (partDeltas, partIds) in results.Skip(1))
        {
            RollupSet.Merge(deltas, partDeltas);
            newIds.AddRange(partIds);
        }

        deltas = RollupSet.WithoutEmpty(deltas);
        var taps = riderTaps.Values.Sum(t => t.Count);
        await using var connection = await dataSource.OpenConnectionAsync(cancellation);
        await using var transaction = await connection.BeginTransactionAsync(cancellation);
        var cells = await PostgresRollupStore.ApplyAsync(connection, deltas, cancellation);
        await SaveRiderDaysAsync(connection, day, newIds, cancellation);
        await transaction.CommitAsync(cancellation);
        return new RefreshResult(riderTaps.Count, newIds.Count, taps, cells);
    }

    private (Dictionary<CellKey, CellDelta> Deltas, List<(long Rider, long[] Ids)> Ids) Compute(DateOnly day, KeyValuePair<long, List<AnalyticsTap>>[] riderTaps, Dictionary<long, long[]> old)
    {
        var deltas = new Dictionary<CellKey, CellDelta>();
        var newIds = new List<(long, long[])>();
        var before = new Dictionary<CellKey, Measures>();
        var after = new Dictionary<CellKey, Measures>();
        foreach (var (rider, all) in riderTaps)
        {
            var ids = new long[all.Count];
            for (var i = 0; i < ids.Length; i++)
            {
                ids[i] = TapId(all[i]);
            }

            Array.Sort(ids);
            var oldIds = old.GetValueOrDefault(rider);
            if (oldIds is not null && oldIds.AsSpan().SequenceEqual(ids))
            {
                continue;
            }

            before.Clear();
            if (oldIds is not null)
            {
                var known = oldIds.ToHashSet();
                Project(rider, day, [.. all.Where(t => known.Contains(TapId(t)))], before);
            }

            after.Clear();
            Project(rider, day, all, after);
            RollupSet.Accumulate(deltas, rider, oldIds is null ? null : before, after);
            newIds.Add((rider, ids));
        }

        return (deltas, newIds);
    }

    private void Project(long rider, DateOnly day, List<AnalyticsTap> taps, Dictionary<CellKey, Measures> into) =>
        RollupProjection.Project(new RiderDay(rider, day, taps, chainer.Chain(rider, day, taps), []), chainer.Options, into);

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
