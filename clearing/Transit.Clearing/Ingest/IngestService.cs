using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Npgsql;
using NpgsqlTypes;
using Transit.Clearing.Database;
using Transit.Clearing.Devices;
using Transit.Clearing.Gtfs;
using Transit.Clearing.Issuers;
using Transit.Clearing.Trust;
using Transit.DeviceApi;
using Transit.RideCodes;

namespace Transit.Clearing.Ingest;

/// <summary>What became of an upload.</summary>
public abstract record IngestOutcome
{
    public sealed record Stored(TapBatchAnswer Result) : IngestOutcome;

    public sealed record Invalid(string Detail, IDictionary<string, string[]> Errors) : IngestOutcome;

    public sealed record Conflict(string Detail) : IngestOutcome;

    public sealed record Forbidden(string Detail) : IngestOutcome;

    public sealed record TooLarge(string Detail) : IngestOutcome;
}

/// <summary>
/// Stores tap batches (docs/device-api.md): the batch's shape validated whole, each tap checked against its device's
/// registration and re-verified on every core, then written in one transaction of one round trip — the batch goes in
/// as array parameters, and one statement inserts what is not yet stored into the ledger, the first-use table and the
/// taps — so a retry stores nothing twice and a failure stores nothing at all. What is wrong with one tap's content
/// (a code with a NUL byte, a station the gate is not at) is stored with that tap as its refusal reason, never a
/// failed batch: a gate cannot move past a batch that is refused.
/// </summary>
public sealed class IngestService(
    NpgsqlDataSource dataSource, TapPartitions partitions, TrustHistory trust, IssuerRegistry issuers, ServiceCalendar calendar, RouteStops routeStops,
    TimeProvider time, IngestMetrics metrics)
{
    /// <summary>Largest batch a gate may send.</summary>
    public const int MaxTaps = 5_000;

    private const int MaxMissingRanges = 100;

    /// <summary>Largest sequence number: 2^53, exact in every JSON reader.</summary>
    private const long MaxSeq = 1L << 53;

    /// <summary>Below this many taps a batch is verified on the request's thread alone.</summary>
    private const int ParallelFrom = 64;

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

        // The whole batch is checked before any code is verified: a malformed batch costs no signature checks.
        for (var i = 0; i < batch.Taps.Count; i++)
        {
            if (Validate(batch.Taps, i) is { } problem)
            {
                return problem;
            }
        }

        var now = time.GetUtcNow();
        await trust.RefreshIfOlderAsync(TimeSpan.FromSeconds(10), cancellation);
        await issuers.RefreshIfOlderAsync(TimeSpan.FromSeconds(10), cancellation);
        var started = Stopwatch.GetTimestamp();
        var rows = new StagedBatch(device, batch.Taps, now, issuers.Current);
        if (TapModes.TryParse(device.Mode, out var deviceMode) && deviceMode.OnBus())
        {
            await LoadServedStopsAsync(rows, cancellation);
        }

        await StageAllAsync(rows);
        metrics.Verified(rows.Count, Stopwatch.GetElapsedTime(started));

        await partitions.EnsureAsync(rows.Days(), cancellation);
        started = Stopwatch.GetTimestamp();
        var outcome = await StoreAsync(rows, cancellation);
        metrics.Stored(outcome is IngestOutcome.Stored stored ? stored.Result.Stored : 0, Stopwatch.GetElapsedTime(started));
        return outcome;
    }

    private static IngestOutcome.Invalid InvalidBatch(string detail, string field, string error) =>
        new(detail, new Dictionary<string, string[]> { [field] = [error] });

    /// <summary>
    /// The shape a batch needs to be stored at all: a tap object with a sequence number in order, a time and a
    /// decision. Anything else a tap holds is its own content, checked per tap (<see cref="TapChecks"/>).
    /// </summary>
    private static IngestOutcome.Invalid? Validate(IReadOnlyList<TapRecord?> taps, int i)
    {
        var tap = taps[i];
        if (tap is null)
        {
            return Invalid(i, "", " is null", "a tap object is required");
        }

        // The bound keeps seq + n and the ledger's seq + 1 far from overflow.
        var seq = tap.Seq;
        if (seq is < 1 or > MaxSeq)
        {
            return Invalid(i, ".seq", ".seq must be an integer from 1 to 2^53", "required, 1 to 2^53");
        }

        if (i > 0 && seq != taps[0]!.Seq + i)
        {
            return Invalid(i, ".seq", $": seq {seq} follows {taps[i - 1]!.Seq}; a batch must be contiguous", $"expected {taps[0]!.Seq + i}");
        }

        // Reading a batch refuses a tap without a time ([JsonRequired]); this guards a caller that built one in code.
        if (tap.At == default)
        {
            return Invalid(i, ".at", ".at is missing", "required, RFC 3339 UTC");
        }

        return null;

        static IngestOutcome.Invalid Invalid(int i, string field, string detail, string error) =>
            new($"taps[{i}]{detail}", new Dictionary<string, string[]> { [$"taps[{i}]{field}"] = [error] });
    }

    /// <summary>
    /// Re-verifies and stages every tap. A signature check is most of a tap's cost, so a large batch is split over all
    /// cores; the verifiers are thread-safe and each tap writes only its own slot.
    /// </summary>
    private Task StageAllAsync(StagedBatch rows)
    {
        var parts = rows.Count < ParallelFrom ? 1 : Math.Min(Environment.ProcessorCount, rows.Count / (ParallelFrom / 2));
        if (parts <= 1)
        {
            StageRange(rows, 0, rows.Count);
            return Task.CompletedTask;
        }

        var tasks = new Task[parts - 1];
        for (var p = 1; p < parts; p++)
        {
            var (from, to) = (rows.Count * p / parts, rows.Count * (p + 1) / parts);
            tasks[p - 1] = Task.Run(() => StageRange(rows, from, to));
        }

        StageRange(rows, 0, rows.Count / parts);
        return Task.WhenAll(tasks);
    }

    private void StageRange(StagedBatch rows, int from, int to)
    {
        for (var i = from; i < to; i++)
        {
            Stage(rows, i);
        }
    }

    /// <summary>
    /// Loads, before the taps are staged in parallel, the stops each day's feed has the validator's route serve.
    /// </summary>
    private async Task LoadServedStopsAsync(StagedBatch rows, CancellationToken cancellation)
    {
        for (var i = 0; i < rows.Count; i++)
        {
            var day = ServiceDayOf(rows, rows.Taps[i]!.At.ToUniversalTime());
            if (!rows.ServedStops.ContainsKey(day))
            {
                rows.ServedStops[day] = await routeStops.ForDayAsync(day, cancellation);
            }
        }
    }

    /// <summary>A tap's service day; a tap with an implausible time is filed under the day it was received.</summary>
    private DateOnly ServiceDayOf(StagedBatch rows, DateTimeOffset at) =>
        IsClockSuspect(rows, at) ? calendar.DayOf(rows.ReceivedAt) : calendar.DayOf(at);

    private static bool IsClockSuspect(StagedBatch rows, DateTimeOffset at) => at > rows.LatestPlausible || at < rows.EarliestPlausible;

    private void Stage(StagedBatch rows, int i)
    {
        var tap = rows.Taps[i]!;
        var at = tap.At.ToUniversalTime();
        var serviceDay = ServiceDayOf(rows, at);
        var accepted = tap.Accepted;
        var flags = IsClockSuspect(rows, at) ? TapFlags.ClockSuspect : TapFlags.None;
        var refusal = TapChecks.Malformed(tap);
        if (refusal is not null)
        {
            flags |= TapFlags.Malformed;
        }
        else if ((refusal = TapChecks.Mismatch(tap, rows.Device, (route, stop) => rows.ServedStops.GetValueOrDefault(serviceDay)?.Serves(route, stop))) is not null)
        {
            flags |= TapFlags.DeviceMismatch;
        }

        // A tap whose mode cannot be read happened at the device all the same.
        if (!TapModes.TryParse(tap.Mode, out var mode) && !TapModes.TryParse(rows.Device.Mode, out mode))
        {
            // The registry holds only modes it checked; should neither be readable the tap is still filed, as mode 0 (unknown).
            mode = default;
        }

        var (verifier, keySetVersion) = trust.At(at);
        var verdict = refusal == TapReasons.MalformedCode ? null : verifier.Verify(tap.Code, at);
        var issuer = IssuerIds.Home;
        // The home chain answers unknown-issuer, having read the code, for a code naming another issuer: only then is
        // that issuer's chain consulted, so the operator's own riders cost what they did before issuers existed.
        if (verdict is { Reason: VerificationReason.UnknownIssuer, Code: { Credential.Issuer: { } named } foreign })
        {
            issuer = named;
            if (rows.Issuers.Verify(foreign, named, rows.OperatorId, serviceDay, at) is { } external)
            {
                (verdict, keySetVersion) = external;
            }
        }

        var code = verdict?.Code;
        if (accepted && (refusal is not null || verdict is { Accepted: false }))
        {
            flags |= TapFlags.RefusedByClearing;
        }
        else if (!accepted && verdict is { Accepted: true } && tap.Reason != TapReasons.Passback)
        {
            flags |= TapFlags.RefusedByGateOnly;
        }

        // Only what clearing finds valid at the tap's own time is charged: a stale or future code that a gate let
        // through says the gate's clock or checks are off, and the rider does not pay for that.
        if (accepted && refusal is null && code is not null && verdict!.Reason == VerificationReason.Ok)
        {
            flags |= TapFlags.Billable;
        }

        var account = code is null ? null : IssuerAccounts.Key(issuer, code.Credential.Account);
        rows.Issuer[i] = issuer;
        rows.Seq[i] = tap.Seq;
        rows.ServiceDay[i] = serviceDay;
        rows.At[i] = at.UtcDateTime;
        rows.Mode[i] = (short)mode;
        rows.Accepted[i] = accepted;
        rows.GateReason[i] = TapText.Stored(tap.Reason ?? "", TapText.MaxReasonLength)!;
        rows.ClearingReason[i] = refusal ?? verdict!.ReasonCode;
        rows.Flags[i] = (int)flags;
        rows.StationId[i] = TapText.Stored(tap.StationId, TapText.MaxIdLength);
        rows.StopId[i] = TapText.Stored(tap.StopId, TapText.MaxIdLength);
        rows.RouteId[i] = TapText.Stored(tap.RouteId, TapText.MaxIdLength);
        rows.Account[i] = account;
        rows.Shard[i] = account is null ? (short)0 : ServiceCalendar.Shard(account);
        rows.Category[i] = code?.Credential.Category;
        rows.CredentialId[i] = code is null ? null : unchecked((long)code.ReplayKey.CredentialId);
        rows.TimeCounter[i] = code is null ? null : code.ReplayKey.TimeAndCounter;
        rows.KeySetVersion[i] = keySetVersion;
        rows.DenyListVersion[i] = tap.DenyListVersion;
        rows.LatencyMicros[i] = tap.LatencyMicros;
        rows.Code[i] = TapText.Stored(tap.Code ?? "", RideCodeFormat.MaxTextLength)!;
        rows.ContentHash[i] = ContentHash(rows.DeviceId, tap);
    }

    /// <summary>
    /// What identifies a tap's content: a retry must send exactly this again. The text hashed is the fields joined by
    /// U+001F (null as empty, invariant formatting); hashes already in the ledger depend on it never changing.
    /// </summary>
    internal static byte[] ContentHash(string deviceId, TapRecord tap)
    {
        Span<char> text = stackalloc char[1024];
        if (!text.TryWrite(
            CultureInfo.InvariantCulture,
            $"{deviceId}\u001f{tap.Seq}\u001f{tap.At.UtcTicks}\u001f{tap.Code}\u001f{(tap.Accepted ? "True" : "False")}\u001f{tap.Reason}\u001f{tap.Mode}\u001f{tap.OperatorId}\u001f{tap.StationId}\u001f{tap.StopId}\u001f{tap.RouteId}",
            out var length))
        {
            var joined = string.Join(
                '\u001f',
                deviceId, tap.Seq, tap.At.UtcTicks, tap.Code, tap.Accepted, tap.Reason, tap.Mode, tap.OperatorId, tap.StationId, tap.StopId, tap.RouteId);
            return SHA256.HashData(Encoding.UTF8.GetBytes(joined))[..16];
        }

        var bytes = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(length));
        try
        {
            Span<byte> hash = stackalloc byte[32];
            SHA256.HashData(bytes.AsSpan(0, Encoding.UTF8.GetBytes(text[..length], bytes)), hash);
            return hash[..16].ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    private async Task<IngestOutcome> StoreAsync(StagedBatch rows, CancellationToken cancellation)
    {
        var deviceId = rows.DeviceId;
        await using var connection = await dataSource.OpenConnectionAsync(cancellation);
        await using var transaction = await connection.BeginTransactionAsync(cancellation);
        Stored stored;
        try
        {
            stored = await RunStoreAsync(connection, transaction, rows, optimistic: true, cancellation);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            // A retry, or a code used before: the general statement sorts out which taps are new and which uses repeat.
            await transaction.RollbackAsync(Savepoint, cancellation);
            metrics.StoredByGeneralStatement();
            stored = await RunStoreAsync(connection, transaction, rows, optimistic: false, cancellation);
        }

        if (stored.Changed is { } seq)
        {
            await transaction.RollbackAsync(cancellation);
            return new IngestOutcome.Conflict(
                $"tap {seq} of device {deviceId} is already stored with different content; nothing of this batch was stored");
        }

        if (stored.DuplicateSeqs.Length > 0)
        {
            await MarkOriginalsAsync(connection, rows, stored.DuplicateSeqs, cancellation);
        }

        await transaction.CommitAsync(cancellation);
        return new IngestOutcome.Stored(new TapBatchAnswer(deviceId, rows.Count, stored.Count, rows.Count - stored.Count, stored.Contiguous, stored.Missing));
    }

    /// <summary>
    /// One round trip. The optimistic attempt first takes the device's lock and sets a savepoint, then inserts with no
    /// conflict handling: almost every batch is new taps with codes never seen, and a plain insert skips the index
    /// probe and extra WAL record that <c>ON CONFLICT</c> costs per row. Any duplicate fails it with a unique violation;
    /// the caller then rolls back to the savepoint, still holding the lock, and runs the general statement.
    /// </summary>
    private static async Task<Stored> RunStoreAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, StagedBatch rows, bool optimistic, CancellationToken cancellation)
    {
        var deviceId = rows.DeviceId;
        await using var batch = new NpgsqlBatch(connection, transaction);
        if (optimistic)
        {
            // One batch of a device at a time: retries and overlapping uploads of the same device queue on this row lock.
            // Holding it, the statement below sees every ledger row of the device that will ever precede this batch.
            batch.BatchCommands.Add(Command("INSERT INTO device_progress (device_id) VALUES ($1) ON CONFLICT DO NOTHING", Text(deviceId)));
            batch.BatchCommands.Add(Command("SELECT contiguous_upto FROM device_progress WHERE device_id = $1 FOR UPDATE", Text(deviceId)));
            batch.BatchCommands.Add(new NpgsqlBatchCommand($"SAVEPOINT {Savepoint}"));
        }

        batch.BatchCommands.Add(Command(optimistic ? OptimisticStoreSql : GeneralStoreSql,
            Text(deviceId), Value(rows.ReceivedAt.UtcDateTime, NpgsqlDbType.TimestampTz), Text(rows.OperatorId),
            Array(rows.Seq, NpgsqlDbType.Bigint), Array(rows.ServiceDay, NpgsqlDbType.Date), Array(rows.At, NpgsqlDbType.TimestampTz),
            Array(rows.Mode, NpgsqlDbType.Smallint), Array(rows.Accepted, NpgsqlDbType.Boolean), Array(rows.GateReason, NpgsqlDbType.Text),
            Array(rows.ClearingReason, NpgsqlDbType.Text), Array(rows.Flags, NpgsqlDbType.Integer), Array(rows.StationId, NpgsqlDbType.Text),
            Array(rows.StopId, NpgsqlDbType.Text), Array(rows.RouteId, NpgsqlDbType.Text), Array(rows.Account, NpgsqlDbType.Text),
            Array(rows.Shard, NpgsqlDbType.Smallint), Array(rows.Category, NpgsqlDbType.Text), Array(rows.CredentialId, NpgsqlDbType.Bigint),
            Array(rows.TimeCounter, NpgsqlDbType.Bigint), Array(rows.KeySetVersion, NpgsqlDbType.Bigint), Array(rows.DenyListVersion, NpgsqlDbType.Bigint),
            Array(rows.LatencyMicros, NpgsqlDbType.Bigint), Array(rows.Code, NpgsqlDbType.Text), Array(rows.ContentHash, NpgsqlDbType.Bytea),
            Value(rows.Seq[0], NpgsqlDbType.Bigint), Value(rows.Seq[^1], NpgsqlDbType.Bigint), Array(rows.Issuer, NpgsqlDbType.Text)));
        batch.BatchCommands.Add(Command($"""
            SELECT seq + 1, next - 1 FROM (
              SELECT seq, lead(seq) OVER (ORDER BY seq) AS next FROM tap_ledger
              WHERE device_id = $1 AND seq >= (SELECT contiguous_upto FROM device_progress WHERE device_id = $1)) s
            WHERE next > seq + 1 ORDER BY seq LIMIT {MaxMissingRanges}
            """, Text(deviceId)));
        await batch.PrepareAsync(cancellation);

        var missing = new List<SequenceRange>();
        await using var reader = await batch.ExecuteReaderAsync(cancellation);
        if (optimistic)
        {
            // The lock's row comes first.
            await reader.ReadAsync(cancellation);
            await reader.NextResultAsync(cancellation);
        }

        await reader.ReadAsync(cancellation);
        var changed = reader.NullableLong(0);
        var count = reader.GetInt32(1);
        var contiguous = reader.GetInt64(2);
        var duplicateSeqs = await reader.IsDBNullAsync(3, cancellation) ? [] : await reader.GetFieldValueAsync<long[]>(3, cancellation);
        await reader.NextResultAsync(cancellation);
        while (await reader.ReadAsync(cancellation))
        {
            missing.Add(new SequenceRange(reader.GetInt64(0), reader.GetInt64(1)));
        }

        return new Stored(changed, count, contiguous, duplicateSeqs, missing);
    }

    private const string Savepoint = "optimistic_store";

    private sealed record Stored(long? Changed, int Count, long Contiguous, long[] DuplicateSeqs, List<SequenceRange> Missing);

    /// <summary>
    /// The common case in one statement. <c>changed</c> compares content hashes with what the ledger held before this
    /// batch (skipped when the batch lies wholly above the device's highest stored sequence); under the device's lock
    /// nothing else can have stored this device's sequences meanwhile. A billable code whose first-use row already
    /// exists (another device, an earlier tap, or an earlier tap of this batch) is a duplicate use and is stored no
    /// longer billable. Every tap clearing refuses counts towards its device's alarm (device_refusals). The watermark
    /// moves incrementally: a batch reaching past it from at most one above carries it to its last sequence, and on
    /// over any run of taps stored earlier beyond that.
    /// </summary>
    private static string StoreSql(bool optimistic) => $"""
        WITH input AS (
          SELECT * FROM unnest($4::bigint[], $5::date[], $6::timestamptz[], $7::smallint[], $8::boolean[], $9::text[], $10::text[], $11::int[],
              $12::text[], $13::text[], $14::text[], $15::text[], $16::smallint[], $17::text[], $18::bigint[], $19::bigint[], $20::bigint[],
              $21::bigint[], $22::bigint[], $23::text[], $24::bytea[], $27::text[])
            AS i(seq, service_day, at, mode, accepted, gate_reason, clearing_reason, flags, station_id, stop_id, route_id, account, shard,
              category, credential_id, time_counter, key_set_version, deny_list_version, latency_micros, code, content_hash, issuer_id)),
        changed AS (
          SELECT min(i.seq) AS seq FROM input i JOIN tap_ledger l ON l.device_id = $1 AND l.seq = i.seq
          WHERE l.content_hash <> i.content_hash AND $25 <= (SELECT highest_seq FROM device_progress WHERE device_id = $1)),
        fresh AS (
          INSERT INTO tap_ledger (device_id, seq, service_day, content_hash)
          SELECT $1, seq, service_day, content_hash FROM input ORDER BY seq
          {OnConflict(optimistic)} RETURNING seq),
        first_uses AS (
          INSERT INTO code_uses (service_day, credential_id, time_counter, device_id, seq)
          SELECT i.service_day, i.credential_id, i.time_counter, $1, i.seq FROM input i JOIN fresh f ON f.seq = i.seq
          WHERE i.flags & {(int)TapFlags.Billable} <> 0
          ORDER BY 1, 2, 3, 5
          {OnConflict(optimistic)} RETURNING seq),
        rows AS (
          SELECT i.*, CASE WHEN i.flags & {(int)TapFlags.Billable} <> 0 AND u.seq IS NULL
            THEN (i.flags | {(int)TapFlags.DuplicateUse}) & ~{(int)TapFlags.Billable} ELSE i.flags END AS stored_flags
          FROM input i JOIN fresh f ON f.seq = i.seq LEFT JOIN first_uses u ON u.seq = i.seq),
        stored AS (
          INSERT INTO taps (service_day, device_id, seq, at, received_at, mode, accepted, gate_reason, clearing_reason, flags,
            operator_id, station_id, stop_id, route_id, account, shard, category, credential_id, time_counter, key_set_version,
            deny_list_version, latency_micros, code, issuer_id)
          SELECT service_day, $1, seq, at, $2, mode, accepted, gate_reason, clearing_reason, stored_flags,
            $3, station_id, stop_id, route_id, account, shard, category, credential_id, time_counter, key_set_version,
            deny_list_version, latency_micros, code, issuer_id
          FROM rows),
        dirty AS (
          INSERT INTO dirty_account_days (service_day, shard, account)
          SELECT DISTINCT service_day, shard, account FROM rows WHERE stored_flags & {(int)TapFlags.Billable} <> 0
          ORDER BY 1, 2, 3 ON CONFLICT DO NOTHING),
        refusals AS (
          INSERT INTO device_refusals AS d (device_id, reason, taps, first_at, last_at, last_seq)
          SELECT $1, CASE WHEN flags & {(int)(TapFlags.Malformed | TapFlags.DeviceMismatch)} <> 0 THEN clearing_reason ELSE 'refused-' || clearing_reason END,
            count(*), $2, $2, max(seq)
          FROM rows WHERE flags & {(int)(TapFlags.Malformed | TapFlags.DeviceMismatch | TapFlags.RefusedByClearing)} <> 0
          GROUP BY 2 ORDER BY 2
          ON CONFLICT (device_id, reason) DO UPDATE SET taps = d.taps + EXCLUDED.taps, last_at = EXCLUDED.last_at, last_seq = GREATEST(d.last_seq, EXCLUDED.last_seq)),
        days AS (
          INSERT INTO service_days (service_day) SELECT DISTINCT service_day FROM rows ORDER BY 1 ON CONFLICT DO NOTHING),
        progress AS (
          UPDATE device_progress p SET
            contiguous_upto = CASE WHEN $25 <= p.contiguous_upto + 1 AND $26 > p.contiguous_upto
              THEN COALESCE((
                SELECT max(r.seq) FROM (
                  SELECT seq, seq - row_number() OVER (ORDER BY seq) AS run_start FROM tap_ledger WHERE device_id = $1 AND seq > $26) r
                WHERE r.run_start = $26), $26)
              ELSE p.contiguous_upto END,
            highest_seq = GREATEST(p.highest_seq, $26),
            taps_stored = p.taps_stored + (SELECT count(*) FROM rows),
            duplicates = p.duplicates + cardinality($4) - (SELECT count(*) FROM rows),
            refused_by_clearing = p.refused_by_clearing + (SELECT count(*) FROM rows WHERE flags & {(int)TapFlags.RefusedByClearing} <> 0),
            last_upload_at = $2
          WHERE p.device_id = $1
          RETURNING p.contiguous_upto)
        SELECT (SELECT seq FROM changed), (SELECT count(*) FROM rows)::int, (SELECT contiguous_upto FROM progress),
          (SELECT array_agg(seq ORDER BY seq) FROM rows WHERE stored_flags & {(int)TapFlags.DuplicateUse} <> 0)
        """;

    private static readonly string OptimisticStoreSql = StoreSql(optimistic: true);

    private static readonly string GeneralStoreSql = StoreSql(optimistic: false);

    private static string OnConflict(bool optimistic) => optimistic ? "" : "ON CONFLICT DO NOTHING";

    /// <summary>
    /// Flags the first use of each code that this batch used again. Its own statement: the first use may have been
    /// committed by a concurrent batch while this one waited on its key, after the store statement's snapshot.
    /// </summary>
    private static async Task MarkOriginalsAsync(NpgsqlConnection connection, StagedBatch rows, long[] duplicateSeqs, CancellationToken cancellation)
    {
        var n = duplicateSeqs.Length;
        var (days, credentials, counters, shards, accounts) = (new DateOnly[n], new long[n], new long[n], new short[n], new string[n]);
        for (var d = 0; d < n; d++)
        {
            var i = (int)(duplicateSeqs[d] - rows.Seq[0]);
            (days[d], credentials[d], counters[d], shards[d], accounts[d]) =
                (rows.ServiceDay[i], rows.CredentialId[i]!.Value, rows.TimeCounter[i]!.Value, rows.Shard[i], rows.Account[i]!);
        }

        await using var command = new NpgsqlCommand($"""
            UPDATE taps t SET flags = t.flags | {(int)TapFlags.DuplicateOriginal}
            FROM (
              SELECT DISTINCT u.service_day, u.device_id, u.seq, d.shard, d.account
              FROM unnest($1::date[], $2::bigint[], $3::bigint[], $4::smallint[], $5::text[]) AS d(service_day, credential_id, time_counter, shard, account)
              JOIN code_uses u ON u.service_day = d.service_day AND u.credential_id = d.credential_id AND u.time_counter = d.time_counter) o
            WHERE t.service_day = o.service_day AND t.shard = o.shard AND t.account = o.account AND t.device_id = o.device_id AND t.seq = o.seq
            """, connection);
        command.Parameters.Add(Array(days, NpgsqlDbType.Date));
        command.Parameters.Add(Array(credentials, NpgsqlDbType.Bigint));
        command.Parameters.Add(Array(counters, NpgsqlDbType.Bigint));
        command.Parameters.Add(Array(shards, NpgsqlDbType.Smallint));
        command.Parameters.Add(Array(accounts, NpgsqlDbType.Text));
        await command.ExecuteNonQueryAsync(cancellation);
    }

    private static NpgsqlBatchCommand Command(string sql, params NpgsqlParameter[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        command.Parameters.AddRange(parameters);
        return command;
    }

    private static NpgsqlParameter<string> Text(string value) => new() { TypedValue = value, NpgsqlDbType = NpgsqlDbType.Text };

    private static NpgsqlParameter<T> Value<T>(T value, NpgsqlDbType type) => new() { TypedValue = value, NpgsqlDbType = type };

    private static NpgsqlParameter<T[]> Array<T>(T[] values, NpgsqlDbType type) => new() { TypedValue = values, NpgsqlDbType = NpgsqlDbType.Array | type };

    /// <summary>A batch's taps as columns, the shape the store statement takes them in.</summary>
    private sealed class StagedBatch
    {
        public StagedBatch(RegisteredDevice device, IReadOnlyList<TapRecord?> taps, DateTimeOffset receivedAt, IssuerSnapshot issuers)
        {
            var n = taps.Count;
            (Device, Taps, ReceivedAt, Issuers) = (device, taps, receivedAt, issuers);
            Issuer = new string[n];
            (LatestPlausible, EarliestPlausible) = (receivedAt.AddDays(2), receivedAt.AddDays(-400));
            (Seq, ServiceDay, At, Mode, Accepted, GateReason, ClearingReason, Flags) =
                (new long[n], new DateOnly[n], new DateTime[n], new short[n], new bool[n], new string[n], new string[n], new int[n]);
            (StationId, StopId, RouteId, Account, Shard, Category) = (new string?[n], new string?[n], new string?[n], new string?[n], new short[n], new string?[n]);
            (CredentialId, TimeCounter, KeySetVersion, DenyListVersion, LatencyMicros, Code, ContentHash) =
                (new long?[n], new long?[n], new long[n], new long?[n], new long?[n], new string[n], new byte[n][]);
        }

        public RegisteredDevice Device { get; }

        /// <summary>The registry as the batch began: every tap of a batch is judged by the same issuers and acceptance.</summary>
        public IssuerSnapshot Issuers { get; }

        /// <summary>The issuer each tap's code names (home for a TR1 code or none read).</summary>
        public string[] Issuer { get; }

        public string DeviceId => Device.DeviceId;

        public IReadOnlyList<TapRecord?> Taps { get; }

        public int Count => Taps.Count;

        public DateTimeOffset ReceivedAt { get; }

        /// <summary>Every tap is filed under the device's operator, whatever it claims: settlement pays the operator whose device it is.</summary>
        public string OperatorId => Device.OperatorId;

        /// <summary>For a bus validator: the stops each service day's feed has its route serve (null: no feed).</summary>
        public Dictionary<DateOnly, ServedStops?> ServedStops { get; } = [];

        public DateTimeOffset LatestPlausible { get; }

        public DateTimeOffset EarliestPlausible { get; }

        public long[] Seq { get; }

        public DateOnly[] ServiceDay { get; }

        public DateTime[] At { get; }

        public short[] Mode { get; }

        public bool[] Accepted { get; }

        public string[] GateReason { get; }

        public string[] ClearingReason { get; }

        public int[] Flags { get; }

        public string?[] StationId { get; }

        public string?[] StopId { get; }

        public string?[] RouteId { get; }

        public string?[] Account { get; }

        public short[] Shard { get; }

        public string?[] Category { get; }

        public long?[] CredentialId { get; }

        public long?[] TimeCounter { get; }

        public long[] KeySetVersion { get; }

        public long?[] DenyListVersion { get; }

        public long?[] LatencyMicros { get; }

        public string[] Code { get; }

        public byte[][] ContentHash { get; }

        public IEnumerable<DateOnly> Days()
        {
            var days = new HashSet<DateOnly>();
            foreach (var day in ServiceDay)
            {
                days.Add(day);
            }

            return days;
        }
    }
}
