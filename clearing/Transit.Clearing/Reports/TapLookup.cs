using Npgsql;
using Transit.Clearing.Database;

namespace Transit.Clearing.Reports;

/// <summary>One tap as clearing stored it: when, with which decisions and where.</summary>
public sealed record StoredTap(
    DateOnly ServiceDay, DateTimeOffset At, DateTimeOffset ReceivedAt, bool Accepted, string GateReason, string ClearingReason,
    string? Account, string? StationId, string? StopId, string? RouteId);

/// <summary>Finds a device's tap in clearing by its sequence number (the demo's gate scanner shows where a tap went).</summary>
public sealed class TapLookup(NpgsqlDataSource dataSource)
{
    /// <summary>The tap <paramref name="seq"/> of <paramref name="deviceId"/>; null until the device has uploaded it.</summary>
    public async Task<StoredTap?> FindAsync(string deviceId, long seq, CancellationToken cancellation) =>
        (await Sql.ListAsync(dataSource, """
            SELECT service_day, at, received_at, accepted, gate_reason, clearing_reason, account, station_id, stop_id, route_id
            FROM taps WHERE device_id = $1 AND seq = $2
            ORDER BY service_day DESC LIMIT 1
            """, r => new StoredTap(
                r.GetFieldValue<DateOnly>(0), r.GetFieldValue<DateTimeOffset>(1), r.GetFieldValue<DateTimeOffset>(2), r.GetBoolean(3), r.GetString(4),
                r.GetString(5), r.NullableString(6), r.NullableString(7), r.NullableString(8), r.NullableString(9)), cancellation, deviceId, seq))
        .SingleOrDefault();
}
