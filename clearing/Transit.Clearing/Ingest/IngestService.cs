using System.Security.Cryptography;
using System.Text;
using Npgsql;
using NpgsqlTypes;
using Transit.Clearing.Database;
using Transit.Clearing.Devices;
using Transit.Clearing.Trust;
using Transit.RideCodes;

namespace Transit.Clearing.Ingest;

/// <summary>What became of an upload.</summary>
public abstract record IngestOutcome
{
    public sealed record Stored(TapBatchResult Result) : IngestOutcome;

    public sealed record Invalid(string Detail, IDictionary<string, string[]> Errors) : IngestOutcome;

    public sealed record Conflict(string Detail) : IngestOutcome;

    public sealed record Forbidden(string Detail) : IngestOutcome;

    public sealed record TooLarge(string Detail) : IngestOutcome;
}

/// <summary>
/// Stores tap batches (docs/device-api.md): validated whole, re-verified, then written in one transaction — binary
/// COPY into a temporary table, then inserts that ignore what is already stored — so a retry stores nothing twice
/// and a failure stores nothing at all.
/// </summary>
public sealed class IngestService(
    NpgsqlDataSource dataSource, TapPartitions partitions, TrustHistory trust, ServiceCalendar calendar, TimeProvider time)
{
    /// <summary>Largest batch a gate may send.</summary>
    public const int MaxTaps = 5_000;

    private const int MaxMissingRanges = 100;

    /// <summary>Checks and stores <paramref name="batch"/> sent by <paramref name="device"/>.</summary>
    public async Task<IngestOutcome> IngestAsync(RegisteredDevice device, TapBatch batch, CancellationToken cancellation)
    {
        if (batch.DeviceId is null)
        {
            return InvalidBatch("deviceId is missing", "deviceId", "required");
        }

        if (batch.DeviceId != device.DeviceId)
        {
            return new IngestOutcome.Forbidden($"the batch names device '{batch.DeviceId}' but the certificate is device '{device.DeviceId}'");
        }

        if (batch.Taps is null || batch.Taps.Count == 0)
        {
            return InvalidBatch("taps must hold 1 to 5,000 taps", "taps", "required, at least one tap");
        }

        if (batch.Taps.Count > MaxTaps)
        {
            return new IngestOutcome.TooLarge($"the batch holds {batch.Taps.Count} taps; at most {MaxTaps} are accepted: split it");
        }

        var now = time.GetUtcNow();
        await trust.RefreshIfOlderAsync(TimeSpan.FromSeconds(10), cancellation);
        var rows = new StagedTap[batch.Taps.Count];
        for (var i = 0; i < rows.Length; i++)
        {
            var problem = Validate(batch.Taps, i, device, out var tap);
            if (problem is not null)
            {
                return problem;
            }

            rows[i] = Stage(device.DeviceId, tap!, now);
        }

        await partitions.EnsureAsync(rows.Select(r => r.ServiceDay).Distinct(), cancellation);
        return await StoreAsync(device.DeviceId, rows, now, cancellation);
    }

    private static IngestOutcome.Invalid InvalidBatch(string detail, string field, string error) =>
        new(detail, new Dictionary<string, string[]> { [field] = [error] });

    private static IngestOutcome? Validate(List<TapRecord?> taps, int i, RegisteredDevice device, out TapRecord? tap)
    {
        tap = taps[i];
        var at = $"taps[{i}]";
        if (tap is null)
        {
            return Invalid($"{at} is null", at, "a tap object is required");
        }

        if (tap.Seq is not { } seq || seq < 1)
        {
            return Invalid($"{at}.seq must be an integer ≥ 1", $"{at}.seq", "required, ≥ 1");
        }

        if (i > 0 && seq != taps[0]!.Seq + i)
        {
            return Invalid($"{at}: seq {seq} follows {taps[i - 1]!.Seq}; a batch must be contiguous", $"{at}.seq", [$"expected {taps[0]!.Seq + i}"]);
        }

        if (tap.At is null)
        {
            return Invalid($"{at}.at is missing", $"{at}.at", "required, RFC 3339 UTC");
        }

        if (string.IsNullOrEmpty(tap.Code) || tap.Code.Length > RideCodeFormat.MaxTextLength || tap.Code.AsSpan().IndexOfAny('\r', '\n') >= 0)
        {
            return Invalid($"{at}.code must be the scanned text: 1 to 512 characters without CR or LF", $"{at}.code", "1-512 characters, no CR/LF");
        }

        if (tap.Accepted is null)
        {
            return Invalid($"{at}.accepted is missing", $"{at}.accepted", "required");
        }

        if (tap.Reason is null || (tap.Reason != "passback" && !VerificationReasons.TryParse(tap.Reason, out _)))
        {
            return Invalid($"{at}.reason '{tap.Reason}' is not a ride-code reason or passback", $"{at}.reason", "a reason of ride-code.md or passback");
        }

        if (!TapModes.TryParse(tap.Mode, out var mode))
        {
            return Invalid($"{at}.mode '{tap.Mode}' is not metro-entry, metro-exit or bus", $"{at}.mode", "metro-entry, metro-exit or bus");
        }

        if (string.IsNullOrEmpty(tap.OperatorId))
        {
            return Invalid($"{at}.operatorId is missing", $"{at}.operatorId", "required");
        }

        if (tap.OperatorId != device.OperatorId)
        {
            return Invalid($"{at}.operatorId '{tap.OperatorId}' is not the device's operator '{device.OperatorId}'", $"{at}.operatorId", [$"expected {device.OperatorId}"]);
        }

        if (mode != TapModes.Bus && string.IsNullOrEmpty(tap.StationId))
        {
            return Invalid($"{at}.stationId is required for mode {tap.Mode}", $"{at}.stationId", "required for metro modes");
        }

        if (mode == TapModes.Bus && string.IsNullOrEmpty(tap.RouteId))
        {
            return Invalid($"{at}.routeId is required for mode bus", $"{at}.routeId", "required for bus");
        }

        return null;

        static IngestOutcome.Invalid Invalid(string detail, string field, params string[] errors) =>
            new(detail, new Dictionary<string, string[]> { [field] = errors });
    }

    private StagedTap Stage(string deviceId, TapRecord tap, DateTimeOffset now)
    {
        var at = tap.At!.Value.ToUniversalTime();
        TapModes.TryParse(tap.Mode, out var mode);
        var accepted = tap.Accepted!.Value;
        var flags = TapFlags.None;
        var (verifier, keySetVersion) = trust.At(at);
        var verdict = verifier.Verify(tap.Code, at);
        var code = verdict.Code;
        if (accepted && !verdict.Accepted)
        {
            flags |= TapFlags.RefusedByClearing;
        }
        else if (!accepted && verdict.Accepted && tap.Reason != "passback")
        {
            flags |= TapFlags.RefusedByGateOnly;
        }

        // Freshness refusals still prove the code genuine (signatures are checked first), so the rider is known.
        if (accepted && code is not null && verdict.Reason is VerificationReason.Ok or VerificationReason.Stale or VerificationReason.Future)
        {
            flags |= TapFlags.Billable;
        }

        var serviceDay = calendar.DayOf(at);
        if (at > now.AddDays(2) || at < now.AddDays(-400))
        {
            flags |= TapFlags.ClockSuspect;
            serviceDay = calendar.DayOf(now);
        }

        var account = code?.Credential.Account;
        return new StagedTap(
            serviceDay, deviceId, tap.Seq!.Value, at, mode, accepted, tap.Reason!, verdict.ReasonCode, flags, tap.OperatorId!,
            tap.StationId, tap.StopId, tap.RouteId, account, account is null ? (short)0 : ServiceCalendar.Shard(account),
            code?.Credential.Category, code is null ? null : unchecked((long)code.ReplayKey.CredentialId),
            code is null ? null : code.ReplayKey.TimeAndCounter, keySetVersion, tap.DenyListVersion, tap.LatencyMicros, tap.Code!, ContentHash(deviceId, tap));
    }

    /// <summary>What identifies a tap's content: a retry must send exactly this again.</summary>
    private static byte[] ContentHash(string deviceId, TapRecord tap)
    {
        var text = string.Join(
            '\u001f',
            deviceId, tap.Seq, tap.At!.Value.UtcTicks, tap.Code, tap.Accepted, tap.Reason, tap.Mode, tap.OperatorId, tap.StationId, tap.StopId, tap.RouteId);
        return SHA256.HashData(Encoding.UTF8.GetBytes(text))[..16];
    }

    private async Task<IngestOutcome> StoreAsync(string deviceId, StagedTap[] rows, DateTimeOffset now, CancellationToken cancellation)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellation);
        await using var transaction = await connection.BeginTransactionAsync(cancellation);

        // One batch of a device at a time: retries and overlapping uploads of the same device queue here.
        await Exec(connection, """
            INSERT INTO device_progress (device_id) VALUES ($1) ON CONFLICT DO NOTHING;
            """, cancellation, deviceId);
        long contiguous;
        await using (var lockRow = new NpgsqlCommand("SELECT contiguous_upto FROM device_progress WHERE device_id = $1 FOR UPDATE", connection))
        {
            lockRow.Parameters.Add(new() { Value = deviceId });
            contiguous = (long)(await lockRow.ExecuteScalarAsync(cancellation))!;
        }

        await Exec(connection, """
            CREATE TEMP TABLE staging (
              service_day date, device_id text, seq bigint, at timestamptz, received_at timestamptz, mode smallint,
              accepted boolean, gate_reason text, clearing_reason text, flags int, operator_id text, station_id text,
              stop_id text, route_id text, account text, shard smallint, category text, credential_id bigint,
              time_counter bigint, key_set_version bigint, deny_list_version bigint, latency_micros bigint, code text,
              content_hash bytea) ON COMMIT DROP
            """, cancellation);
        await CopyAsync(connection, rows, now, cancellation);

        var fresh = new List<long>(rows.Length);
        await using (var ledger = new NpgsqlCommand("""
            INSERT INTO tap_ledger (device_id, seq, service_day, content_hash)
            SELECT device_id, seq, service_day, content_hash FROM staging ORDER BY seq
            ON CONFLICT DO NOTHING RETURNING seq
            """, connection))
        await using (var reader = await ledger.ExecuteReaderAsync(cancellation))
        {
            while (await reader.ReadAsync(cancellation))
            {
                fresh.Add(reader.GetInt64(0));
            }
        }

        // Checked after the insert, so a concurrent batch that stored the same sequence first is compared too. When
        // every row was inserted here, none can differ.
        if (fresh.Count < rows.Length)
        {
            await using var conflict = new NpgsqlCommand("""
                SELECT s.seq FROM staging s JOIN tap_ledger l ON l.device_id = s.device_id AND l.seq = s.seq
                WHERE l.content_hash <> s.content_hash ORDER BY s.seq LIMIT 1
                """, connection);
            if (await conflict.ExecuteScalarAsync(cancellation) is long seq)
            {
                await transaction.RollbackAsync(cancellation);
                return new IngestOutcome.Conflict(
                    $"tap {seq} of device {deviceId} is already stored with different content; nothing of this batch was stored");
            }
        }

        if (fresh.Count > 0)
        {
            if (fresh.Count < rows.Length)
            {
                await Exec(connection, "DELETE FROM staging WHERE NOT (seq = ANY($1))", cancellation, fresh.ToArray());
            }

            await MarkDuplicateUsesAsync(connection, rows, fresh, cancellation);
            await Exec(connection, """
                INSERT INTO taps (service_day, device_id, seq, at, received_at, mode, accepted, gate_reason, clearing_reason, flags,
                  operator_id, station_id, stop_id, route_id, account, shard, category, credential_id, time_counter, key_set_version,
                  deny_list_version, latency_micros, code)
                SELECT service_day, device_id, seq, at, received_at, mode, accepted, gate_reason, clearing_reason, flags,
                  operator_id, station_id, stop_id, route_id, account, shard, category, credential_id, time_counter, key_set_version,
                  deny_list_version, latency_micros, code
                FROM staging
                """, cancellation);
            await Exec(connection, $"""
                INSERT INTO dirty_account_days (service_day, shard, account)
                SELECT DISTINCT service_day, shard, account FROM staging WHERE flags & {(int)TapFlags.Billable} <> 0
                ORDER BY 1, 2, 3 ON CONFLICT DO NOTHING
                """, cancellation);
            await Exec(connection, "INSERT INTO service_days (service_day) SELECT DISTINCT service_day FROM staging ORDER BY 1 ON CONFLICT DO NOTHING", cancellation);
        }

        var freshSet = fresh.ToHashSet();
        var refused = rows.Count(r => (r.Flags & TapFlags.RefusedByClearing) != 0 && freshSet.Contains(r.Seq));
        long highest;
        await using (var progress = new NpgsqlCommand("""
            WITH run AS (
              SELECT seq, seq - row_number() OVER (ORDER BY seq) AS gap FROM tap_ledger WHERE device_id = $1 AND seq > $2)
            UPDATE device_progress SET
              contiguous_upto = COALESCE((SELECT max(seq) FROM run WHERE gap = $2), $2),
              highest_seq = GREATEST(highest_seq, $3),
              taps_stored = taps_stored + $4,
              duplicates = duplicates + $5,
              refused_by_clearing = refused_by_clearing + $6,
              last_upload_at = $7
            WHERE device_id = $1
            RETURNING contiguous_upto
            """, connection))
        {
            progress.Parameters.Add(new() { Value = deviceId });
            progress.Parameters.Add(new() { Value = contiguous });
            progress.Parameters.Add(new() { Value = rows[^1].Seq });
            progress.Parameters.Add(new() { Value = (long)fresh.Count });
            progress.Parameters.Add(new() { Value = (long)(rows.Length - fresh.Count) });
            progress.Parameters.Add(new() { Value = (long)refused });
            progress.Parameters.Add(new() { Value = now.UtcDateTime });
            highest = (long)(await progress.ExecuteScalarAsync(cancellation))!;
        }

        var missing = await MissingRangesAsync(connection, deviceId, highest, cancellation);
        await transaction.CommitAsync(cancellation);
        return new IngestOutcome.Stored(new TapBatchResult(deviceId, rows.Length, fresh.Count, rows.Length - fresh.Count, highest, missing));
    }

    /// <summary>
    /// Records each billable code's first use; a code already used (at another device, or earlier) flags the tap as a
    /// duplicate use, no longer billable, and the first use as its original. The first-use table's key makes
    /// concurrent batches see each other's codes.
    /// </summary>
    private static async Task MarkDuplicateUsesAsync(NpgsqlConnection connection, StagedTap[] rows, List<long> fresh, CancellationToken cancellation)
    {
        var freshSet = fresh.ToHashSet();
        var billable = rows.Where(r => (r.Flags & TapFlags.Billable) != 0 && freshSet.Contains(r.Seq)).Select(r => r.Seq).ToHashSet();
        if (billable.Count == 0)
        {
            return;
        }

        await using (var uses = new NpgsqlCommand($"""
            INSERT INTO code_uses (service_day, credential_id, time_counter, device_id, seq)
            SELECT service_day, credential_id, time_counter, device_id, seq FROM staging WHERE flags & {(int)TapFlags.Billable} <> 0
            ORDER BY service_day, credential_id, time_counter, seq
            ON CONFLICT DO NOTHING RETURNING seq
            """, connection))
        await using (var reader = await uses.ExecuteReaderAsync(cancellation))
        {
            while (await reader.ReadAsync(cancellation))
            {
                billable.Remove(reader.GetInt64(0));
            }
        }

        if (billable.Count == 0)
        {
            return;
        }

        var duplicates = billable.ToArray();
        await Exec(connection, $"""
            UPDATE staging SET flags = (flags | {(int)TapFlags.DuplicateUse}) & ~{(int)TapFlags.Billable} WHERE seq = ANY($1)
            """, cancellation, duplicates);
        await Exec(connection, $"""
            WITH originals AS (
              SELECT DISTINCT u.service_day, u.device_id, u.seq FROM staging s
              JOIN code_uses u ON u.service_day = s.service_day AND u.credential_id = s.credential_id AND u.time_counter = s.time_counter
              WHERE s.seq = ANY($1) AND NOT (u.device_id = s.device_id AND u.seq = s.seq)),
            in_taps AS (
              UPDATE taps t SET flags = t.flags | {(int)TapFlags.DuplicateOriginal} FROM originals o
              WHERE t.service_day = o.service_day AND t.device_id = o.device_id AND t.seq = o.seq)
            UPDATE staging s SET flags = s.flags | {(int)TapFlags.DuplicateOriginal} FROM originals o
            WHERE s.device_id = o.device_id AND s.seq = o.seq
            """, cancellation, duplicates);
    }

    /// <summary>Gaps between stored sequence numbers above <paramref name="from"/> (everything below is contiguous).</summary>
    internal static async Task<IReadOnlyList<SequenceRange>> MissingRangesAsync(NpgsqlConnection connection, string deviceId, long from, CancellationToken cancellation)
    {
        var ranges = new List<SequenceRange>();
        await using var command = new NpgsqlCommand($"""
            SELECT seq + 1, next - 1 FROM (
              SELECT seq, lead(seq) OVER (ORDER BY seq) AS next FROM tap_ledger WHERE device_id = $1 AND seq >= $2) s
            WHERE next > seq + 1 ORDER BY seq LIMIT {MaxMissingRanges}
            """, connection);
        command.Parameters.Add(new() { Value = deviceId });
        command.Parameters.Add(new() { Value = from });
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation))
        {
            ranges.Add(new SequenceRange(reader.GetInt64(0), reader.GetInt64(1)));
        }

        return ranges;
    }

    private static async Task CopyAsync(NpgsqlConnection connection, StagedTap[] rows, DateTimeOffset now, CancellationToken cancellation)
    {
        await using var copy = await connection.BeginBinaryImportAsync("COPY staging FROM STDIN (FORMAT BINARY)", cancellation);
        foreach (var r in rows)
        {
            await copy.StartRowAsync(cancellation);
            await copy.WriteAsync(r.ServiceDay, NpgsqlDbType.Date, cancellation);
            await copy.WriteAsync(r.DeviceId, NpgsqlDbType.Text, cancellation);
            await copy.WriteAsync(r.Seq, NpgsqlDbType.Bigint, cancellation);
            await copy.WriteAsync(r.At.UtcDateTime, NpgsqlDbType.TimestampTz, cancellation);
            await copy.WriteAsync(now.UtcDateTime, NpgsqlDbType.TimestampTz, cancellation);
            await copy.WriteAsync(r.Mode, NpgsqlDbType.Smallint, cancellation);
            await copy.WriteAsync(r.Accepted, NpgsqlDbType.Boolean, cancellation);
            await copy.WriteAsync(r.GateReason, NpgsqlDbType.Text, cancellation);
            await copy.WriteAsync(r.ClearingReason, NpgsqlDbType.Text, cancellation);
            await copy.WriteAsync((int)r.Flags, NpgsqlDbType.Integer, cancellation);
            await copy.WriteAsync(r.OperatorId, NpgsqlDbType.Text, cancellation);
            await WriteText(copy, r.StationId, cancellation);
            await WriteText(copy, r.StopId, cancellation);
            await WriteText(copy, r.RouteId, cancellation);
            await WriteText(copy, r.Account, cancellation);
            await copy.WriteAsync(r.Shard, NpgsqlDbType.Smallint, cancellation);
            await WriteText(copy, r.Category, cancellation);
            await WriteLong(copy, r.CredentialId, cancellation);
            await WriteLong(copy, r.TimeCounter is { } tc ? (long)tc : null, cancellation);
            await copy.WriteAsync(r.KeySetVersion, NpgsqlDbType.Bigint, cancellation);
            await WriteLong(copy, r.DenyListVersion, cancellation);
            await WriteLong(copy, r.LatencyMicros, cancellation);
            await copy.WriteAsync(r.Code, NpgsqlDbType.Text, cancellation);
            await copy.WriteAsync(r.ContentHash, NpgsqlDbType.Bytea, cancellation);
        }

        await copy.CompleteAsync(cancellation);
    }

    private static Task WriteText(NpgsqlBinaryImporter copy, string? value, CancellationToken cancellation) =>
        value is null ? copy.WriteNullAsync(cancellation) : copy.WriteAsync(value, NpgsqlDbType.Text, cancellation);

    private static Task WriteLong(NpgsqlBinaryImporter copy, long? value, CancellationToken cancellation) =>
        value is { } v ? copy.WriteAsync(v, NpgsqlDbType.Bigint, cancellation) : copy.WriteNullAsync(cancellation);

    private static async Task Exec(NpgsqlConnection connection, string sql, CancellationToken cancellation, params object[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var p in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = p });
        }

        await command.ExecuteNonQueryAsync(cancellation);
    }

    private sealed record StagedTap(
        DateOnly ServiceDay, string DeviceId, long Seq, DateTimeOffset At, short Mode, bool Accepted, string GateReason,
        string ClearingReason, TapFlags Flags, string OperatorId, string? StationId, string? StopId, string? RouteId,
        string? Account, short Shard, string? Category, long? CredentialId, uint? TimeCounter, long KeySetVersion,
        long? DenyListVersion, long? LatencyMicros, string Code, byte[] ContentHash);
}
