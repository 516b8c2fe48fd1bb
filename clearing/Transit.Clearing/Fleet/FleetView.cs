using System.Text.Json;
using Npgsql;
using Transit.Clearing.Database;

namespace Transit.Clearing.Fleet;

/// <summary>One device as operators see it: is it uploading, syncing, on time, refusing too much?</summary>
public sealed record FleetDevice(
    string DeviceId, string OperatorId, string Mode, string? StationId, string? RouteId, bool Revoked,
    DateTimeOffset? LastReportAt, DateTimeOffset? LastUploadAt, DateTimeOffset? LastSyncAt, long? JournalBacklog, long? HighestSequence,
    long ContiguousSequence, long? KeySetVersion, long? DenyListVersion, long? ConfigVersion, long? ClockOffsetMillis,
    IReadOnlyDictionary<string, long> TapsByReason, long RefusedByClearing, long? P99LatencyMicros, string? SoftwareVersion);

/// <summary>The fleet view (docs/clearing.md).</summary>
public sealed class FleetView(NpgsqlDataSource dataSource)
{
    public Task<List<FleetDevice>> ListAsync(string? operatorId, CancellationToken cancellation) =>
        Sql.ListAsync(dataSource, """
            SELECT d.device_id, d.operator_id, d.mode, d.station_id, d.route_id, d.revoked_at IS NOT NULL,
              s.reported_at, COALESCE(s.last_upload_at, p.last_upload_at), s.last_sync_at, s.journal_backlog, s.highest_sequence,
              COALESCE(p.contiguous_upto, 0), s.key_set_version, s.deny_list_version, s.config_version, s.clock_offset_ms,
              COALESCE(s.tap_counts, '{}')::text, COALESCE(p.refused_by_clearing, 0), s.p99_latency_micros, s.software_version
            FROM devices d LEFT JOIN device_status s USING (device_id) LEFT JOIN device_progress p USING (device_id)
            WHERE $1::text IS NULL OR d.operator_id = $1 ORDER BY d.device_id
            """,
            r => new FleetDevice(
                r.GetString(0), r.GetString(1), r.GetString(2), r.NullableString(3), r.NullableString(4), r.GetBoolean(5),
                r.NullableTime(6), r.NullableTime(7), r.NullableTime(8), r.NullableLong(9), r.NullableLong(10), r.GetInt64(11),
                r.NullableLong(12), r.NullableLong(13), r.NullableLong(14), r.NullableLong(15),
                JsonSerializer.Deserialize<Dictionary<string, long>>(r.GetString(16)) ?? [], r.GetInt64(17), r.NullableLong(18), r.NullableString(19)),
            cancellation, Sql.Typed(operatorId, NpgsqlTypes.NpgsqlDbType.Text));
}
