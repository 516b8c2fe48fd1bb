using System.Globalization;
using System.Text.Json;
using Npgsql;
using Transit.Clearing.Database;
using Transit.Clearing.Devices;
using Transit.DeviceApi;

namespace Transit.Clearing.Fleet;

/// <summary>One device as operators see it: is it uploading, syncing, on time, refusing too much?</summary>
/// <param name="Alarms">Why an operator should look at the device now; empty when nothing is wrong.</param>
/// <param name="Alarm">The alarm the device itself reports (<c>amber</c>), or null.</param>
/// <param name="StopId">The stop a bus validator was registered at.</param>
/// <param name="LastTap">Where the device's newest uploaded tap was taken (a bus's route and stop move with the driver console and GPS).</param>
public sealed record FleetDevice(
    string DeviceId, string OperatorId, string Mode, string? StationId, string? StopId, string? RouteId, bool Revoked,
    DateTimeOffset? LastReportAt, DateTimeOffset? LastUploadAt, DateTimeOffset? LastSyncAt, long? JournalBacklog, long? HighestSequence,
    long ContiguousSequence, long? KeySetVersion, long? DenyListVersion, long? ConfigVersion, long? ClockOffsetMillis,
    IReadOnlyDictionary<string, long> TapsByReason, long RefusedByClearing, long? P99LatencyMicros, string? SoftwareVersion,
    IReadOnlyList<DeviceAlarm> Alarms, string? Alarm, LinkError? UploadError, LinkError? SyncError, long? DiskFreeBytes,
    LastTapPlace? LastTap);

/// <summary>Where and when a device's newest uploaded tap was taken.</summary>
public sealed record LastTapPlace(DateTimeOffset At, string? StationId, string? RouteId, string? StopId);

/// <summary>
/// A reason to look at a device: <c>device-mismatch-*</c>, <c>stop-not-on-route</c>, <c>malformed-*</c> and
/// <c>refused-&lt;reason&gt;</c> (taps clearing refused, <see cref="Count"/> of them since <see cref="Since"/>),
/// <c>upload-error</c> and <c>sync-error</c> (as the device reports them, <see cref="Count"/> failures in a row),
/// <c>device-alarm</c> (the device's own alarm light) and <c>silent</c> (nothing heard since <see cref="Since"/>).
/// </summary>
public sealed record DeviceAlarm(string Reason, string Detail, DateTimeOffset? Since, long? Count);

/// <summary>The fleet view (docs/clearing.md).</summary>
public sealed class FleetView(NpgsqlDataSource dataSource, ClearingOptions options, TimeProvider time)
{
    public async Task<List<FleetDevice>> ListAsync(string? operatorId, CancellationToken cancellation)
    {
        var now = time.GetUtcNow();
        var operatorParameter = Sql.Typed(operatorId, NpgsqlTypes.NpgsqlDbType.Text);
        await using var connection = await dataSource.OpenConnectionAsync(cancellation);
        var refusals = (await Sql.ListAsync(connection, """
            SELECT r.device_id, r.reason, r.taps, r.first_at, r.last_at, r.last_seq
            FROM device_refusals r JOIN devices d USING (device_id)
            WHERE r.last_at > $2 AND ($1::text IS NULL OR d.operator_id = $1) ORDER BY r.device_id, r.reason
            """, r => (Device: r.GetString(0), Alarm: new DeviceAlarm(
                r.GetString(1),
                string.Create(CultureInfo.InvariantCulture, $"{r.GetInt64(2)} taps refused as {r.GetString(1)}; the last, seq {r.GetInt64(5)}, received {r.GetFieldValue<DateTimeOffset>(4):O}"),
                r.GetFieldValue<DateTimeOffset>(3), r.GetInt64(2))),
            cancellation, operatorParameter, (now - options.DeviceAlarmWindow).UtcDateTime))
            .ToLookup(r => r.Device, r => r.Alarm, StringComparer.Ordinal);
        var silentSince = now - options.SilentDeviceAfter;
        return await Sql.ListAsync(connection, """
            SELECT d.device_id, d.operator_id, d.mode, d.station_id, d.route_id, d.revoked_at IS NOT NULL,
              s.reported_at, COALESCE(s.last_upload_at, p.last_upload_at), s.last_sync_at, s.journal_backlog, s.highest_sequence,
              COALESCE(p.contiguous_upto, 0), s.key_set_version, s.deny_list_version, s.config_version, s.clock_offset_ms,
              COALESCE(s.tap_counts, '{}')::text, COALESCE(p.refused_by_clearing, 0), s.p99_latency_micros, s.software_version,
              s.alarm, s.upload_error::text, s.sync_error::text, s.disk_free_bytes,
              GREATEST(s.reported_at, p.last_upload_at), d.registered_at,
              d.stop_id, last.at, last.station_id, last.route_id, last.stop_id
            FROM devices d LEFT JOIN device_status s USING (device_id) LEFT JOIN device_progress p USING (device_id)
            LEFT JOIN LATERAL (
              SELECT t.at, t.station_id, t.route_id, t.stop_id FROM tap_ledger l
              JOIN taps t ON t.service_day = l.service_day AND t.device_id = l.device_id AND t.seq = l.seq
              WHERE l.device_id = d.device_id ORDER BY l.seq DESC LIMIT 1) last ON true
            WHERE $1::text IS NULL OR d.operator_id = $1 ORDER BY d.device_id
            """,
            r =>
            {
                var (deviceId, revoked) = (r.GetString(0), r.GetBoolean(5));
                var (alarm, uploadError, syncError) = (r.NullableString(20), Error(r.NullableString(21)), Error(r.NullableString(22)));
                var alarms = new List<DeviceAlarm>(refusals[deviceId]);
                Add(alarms, "upload-error", uploadError);
                Add(alarms, "sync-error", syncError);
                if (alarm is not null)
                {
                    alarms.Add(new DeviceAlarm("device-alarm", $"the device reports alarm {alarm}", r.NullableTime(6), null));
                }

                var heard = r.NullableTime(24);
                if (!revoked && (heard ?? r.GetFieldValue<DateTimeOffset>(25)) < silentSince)
                {
                    alarms.Add(new DeviceAlarm(
                        "silent",
                        heard is null ? "nothing heard from the device since it was registered" : string.Create(CultureInfo.InvariantCulture, $"nothing heard from the device since {heard:O}"),
                        heard, null));
                }

                return new FleetDevice(
                    deviceId, r.GetString(1), r.GetString(2), r.NullableString(3), r.NullableString(26), r.NullableString(4), revoked,
                    r.NullableTime(6), r.NullableTime(7), r.NullableTime(8), r.NullableLong(9), r.NullableLong(10), r.GetInt64(11),
                    r.NullableLong(12), r.NullableLong(13), r.NullableLong(14), r.NullableLong(15),
                    JsonSerializer.Deserialize<Dictionary<string, long>>(r.GetString(16)) ?? [], r.GetInt64(17), r.NullableLong(18), r.NullableString(19),
                    alarms, alarm, uploadError, syncError, r.NullableLong(23),
                    r.NullableTime(27) is { } lastAt ? new LastTapPlace(lastAt, r.NullableString(28), r.NullableString(29), r.NullableString(30)) : null);
            },
            cancellation, operatorParameter);
    }

    private static LinkError? Error(string? json) => json is null ? null : JsonSerializer.Deserialize(json, DeviceApiJson.Default.LinkError);

    private static void Add(List<DeviceAlarm> alarms, string reason, LinkError? error)
    {
        if (error is not null)
        {
            alarms.Add(new DeviceAlarm(reason, $"{error.Reason}: {error.Message}", error.Since, error.Failures));
        }
    }
}
