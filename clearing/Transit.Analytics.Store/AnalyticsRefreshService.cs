using Npgsql;
using NpgsqlTypes;
using Transit.Analytics.Privacy;
using Transit.DeviceApi;

namespace Transit.Analytics.Store;

/// <summary>
/// Refreshes one service day's rollups from clearing's <c>taps</c> table: the rider-days with taps received since
/// the day's watermark (less a margin for ingest transactions that committed late) are read, pseudonymized on the
/// way in, and replaced in the rollups. A full refresh (when the day closes) reads every rider-day and changes only
/// those whose taps differ, so it also catches anything a watermark could have missed.
/// </summary>
public sealed class AnalyticsRefreshService(NpgsqlDataSource dataSource, RollupRefresher refresher, Pseudonymizer pseudonyms)
{
    /// <summary>How far before the watermark a refresh looks again: longer than any ingest transaction runs.</summary>
    public static readonly TimeSpan CommitMargin = TimeSpan.FromMinutes(5);

    /// <summary>The day is read in parts by account shard (0–255, as clearing stores it), each holding whole rider-days.</summary>
    private const int ShardsPerPart = 64;

    private const long LockSpace = 0x414E_0000_0000_0000;

    /// <summary>
    /// Refreshes a day. The refresh and the close-of-day job of one day are different jobs and may run at once on
    /// two workers; a session advisory lock per day makes them take turns, since each replaces rider-days whole.
    /// </summary>
    public async Task<RefreshResult> RefreshDayAsync(DateOnly day, bool full, CancellationToken cancellation)
    {
        await using var lockConnection = await dataSource.OpenConnectionAsync(cancellation);
        await using (var take = new NpgsqlCommand("SELECT pg_advisory_lock($1)", lockConnection) { Parameters = { new() { Value = LockSpace | (uint)day.DayNumber } } })
        {
            await take.ExecuteNonQueryAsync(cancellation);
        }

        try
        {
            return await RefreshLockedAsync(day, full, cancellation);
        }
        finally
        {
            await using var release = new NpgsqlCommand("SELECT pg_advisory_unlock($1)", lockConnection) { Parameters = { new() { Value = LockSpace | (uint)day.DayNumber } } };
            await release.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    private async Task<RefreshResult> RefreshLockedAsync(DateOnly day, bool full, CancellationToken cancellation)
    {
        DateTimeOffset? since = null;
        DateTimeOffset? newWatermark;
        await using (var connection = await dataSource.OpenConnectionAsync(cancellation))
        {
            if (!full)
            {
                await using var read = new NpgsqlCommand("SELECT watermark FROM analytics_days WHERE service_day = $1", connection) { Parameters = { Date(day) } };
                since = await read.ExecuteScalarAsync(cancellation) is DateTime watermark ? new DateTimeOffset(watermark, TimeSpan.Zero) - CommitMargin : null;
            }

            // Read the new watermark first: taps received after it are read now or by the next refresh.
            await using var max = new NpgsqlCommand("SELECT max(received_at) FROM taps WHERE service_day = $1", connection) { Parameters = { Date(day) } };
            newWatermark = await max.ExecuteScalarAsync(cancellation) is DateTime m ? new DateTimeOffset(m, TimeSpan.Zero) : null;
        }

        // While one part is chained and written, the next is read: the database and the cores work side by side.
        var total = new RefreshResult(0, 0, 0, 0);
        var next = ReadRiderDaysAsync(day, since, 0, cancellation);
        for (var shard = 0; shard < 256; shard += ShardsPerPart)
        {
            var part = await next;
            if (shard + ShardsPerPart < 256)
            {
                next = ReadRiderDaysAsync(day, since, shard + ShardsPerPart, cancellation);
            }

            var result = await refresher.RefreshAsync(day, part, cancellation);
            total = new RefreshResult(total.RiderDays + result.RiderDays, total.Changed + result.Changed, total.Taps + result.Taps, total.Cells + result.Cells);
        }

        await using var save = dataSource.CreateCommand($"""
            INSERT INTO analytics_days (service_day, watermark, refreshed_at, closed_refresh_at, rider_days)
            VALUES ($1, $2, now(), CASE WHEN $3 THEN now() END, (SELECT count(*) FROM analytics_rider_days WHERE service_day = $1))
            ON CONFLICT (service_day) DO UPDATE SET watermark = GREATEST(analytics_days.watermark, EXCLUDED.watermark), refreshed_at = now(),
              closed_refresh_at = COALESCE(EXCLUDED.closed_refresh_at, analytics_days.closed_refresh_at), rider_days = EXCLUDED.rider_days
            """);
        save.Parameters.Add(Date(day));
        save.Parameters.Add(new NpgsqlParameter { Value = (object?)newWatermark ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        save.Parameters.Add(new NpgsqlParameter { Value = full, NpgsqlDbType = NpgsqlDbType.Boolean });
        await save.ExecuteNonQueryAsync(cancellation);
        return total;
    }

    /// <summary>Every rider-day of the day, read part by part.</summary>
    public async Task<Dictionary<long, List<AnalyticsTap>>> ReadDayAsync(DateOnly day, CancellationToken cancellation)
    {
        var all = new Dictionary<long, List<AnalyticsTap>>();
        for (var shard = 0; shard < 256; shard += ShardsPerPart)
        {
            foreach (var (rider, taps) in await ReadRiderDaysAsync(day, null, shard, cancellation))
            {
                all[rider] = taps;
            }
        }

        return all;
    }

    /// <summary>
    /// All taps of the day of every account of shards <paramref name="fromShard"/> to <paramref name="fromShard"/> + 63 with a tap
    /// received after <paramref name="since"/> (all accounts when null).
    /// </summary>
    private async Task<Dictionary<long, List<AnalyticsTap>>> ReadRiderDaysAsync(DateOnly day, DateTimeOffset? since, int fromShard, CancellationToken cancellation)
    {
        await Task.Yield();
        var byRider = new Dictionary<long, List<AnalyticsTap>>();
        var riders = new Dictionary<string, (long Rider, List<AnalyticsTap> Taps)>(StringComparer.Ordinal);
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        await using var connection = await dataSource.OpenConnectionAsync(cancellation);
        var changed = since is null ? "" : """
            AND (t.account IS NULL OR t.account IN (SELECT account FROM taps WHERE service_day = $1 AND shard BETWEEN $3 AND $4 AND received_at > $2))
            """;
        await using var command = new NpgsqlCommand($"""
            SELECT t.account, t.at, t.mode, t.operator_id, COALESCE(t.station_id, t.stop_id), t.route_id, t.accepted, t.gate_reason, t.category, t.device_id, t.seq
            FROM taps t WHERE t.service_day = $1 AND t.shard BETWEEN $3 AND $4 {changed}
            """, connection);
        command.Parameters.Add(Date(day));
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)since ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter { Value = (short)fromShard, NpgsqlDbType = NpgsqlDbType.Smallint });
        command.Parameters.Add(new NpgsqlParameter { Value = (short)(fromShard + ShardsPerPart - 1), NpgsqlDbType = NpgsqlDbType.Smallint });

        await using var reader = await command.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation))
        {
            // Taps without an account (codes that did not parse) all belong to the unknown rider.
            var account = reader.TextOrNull(0) ?? "";
            if (!riders.TryGetValue(account, out var known))
            {
                riders[account] = known = (pseudonyms.Of(account), []);
                byRider[known.Rider] = known.Taps;
            }

            // A mode analytics does not know would be chained and exported as something it is not: refuse the day
            // loudly rather than skip the tap.
            var mode = (TapMode)reader.GetInt16(2);
            if (!Enum.IsDefined(mode))
            {
                throw new InvalidDataException($"taps.mode {(short)mode} of device {reader.GetString(9)} is not a tap mode of the device contract");
            }

            known.Taps.Add(new AnalyticsTap(
                known.Rider,
                reader.Field<DateTimeOffset>(1),
                mode,
                Name(names, reader.GetString(3))!,
                Name(names, reader.TextOrNull(4)),
                Name(names, reader.TextOrNull(5)),
                reader.GetBoolean(6),
                Name(names, reader.GetString(7))!,
                Name(names, reader.TextOrNull(8)),
                Name(names, reader.GetString(9)),
                reader.GetInt64(10)));
        }

        return byRider;
    }

    private static NpgsqlParameter Date(DateOnly day) => new() { Value = day, NpgsqlDbType = NpgsqlDbType.Date };

    /// <summary>Ids repeat a million times a day: one string each.</summary>
    private static string? Name(Dictionary<string, string> names, string? value)
    {
        if (value is null)
        {
            return null;
        }

        if (!names.TryGetValue(value, out var known))
        {
            names[value] = known = value;
        }

        return known;
    }
}
