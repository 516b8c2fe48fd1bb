using Npgsql;
using Transit.Clearing.Database;
using Transit.Clearing.Ingest;
using Transit.Clearing.Devices;
using Transit.DeviceApi;

namespace Transit.Clearing.Fleet;

/// <summary>One device's sequence numbers of one service day against what was expected.</summary>
/// <param name="ExpectedFrom">The sequence after the device's last tap stored before this day (1 for a new device).</param>
/// <param name="FirstSeq">The day's first stored sequence; null when nothing of the day is stored.</param>
/// <param name="Missing">Sequence numbers between <paramref name="ExpectedFrom"/> and <paramref name="LastSeq"/> that are stored nowhere.</param>
/// <param name="Alarms">The device's alarms of the fleet view: a device that sent nothing is listed with them, not left out.</param>
public sealed record DeviceDayReconciliation(
    string DeviceId, DateOnly Day, long ExpectedFrom, long? FirstSeq, long? LastSeq, long Received, long Missing, IReadOnlyList<SequenceRange> Gaps,
    IReadOnlyList<DeviceAlarm> Alarms);

/// <summary>
/// Per device and service day: the sequence ranges received, and the gaps. Every registered device is listed, with
/// its alarms: a gate that uploaded nothing on the day (silent, failing to upload) is the one to find.
/// </summary>
public sealed class Reconciliation(NpgsqlDataSource dataSource, FleetView fleet)
{
    public async Task<IReadOnlyList<DeviceDayReconciliation>> ForDayAsync(DateOnly day, CancellationToken cancellation, string? deviceId = null, string? operatorId = null)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellation);
        var ranges = await Sql.ListAsync(connection, """
            SELECT t.device_id, min(t.seq), max(t.seq), count(*),
              COALESCE((SELECT max(l.seq) FROM tap_ledger l WHERE l.device_id = t.device_id AND l.seq < min(t.seq)), 0) + 1
            FROM taps t WHERE t.service_day = $1 AND ($2::text IS NULL OR t.device_id = $2) AND ($3::text IS NULL OR t.operator_id = $3)
            GROUP BY t.device_id ORDER BY t.device_id
            """, r => (Device: r.GetString(0), First: r.GetInt64(1), Last: r.GetInt64(2), Count: r.GetInt64(3), ExpectedFrom: r.GetInt64(4)),
            cancellation, day, Sql.Typed(deviceId, NpgsqlTypes.NpgsqlDbType.Text), Sql.Typed(operatorId, NpgsqlTypes.NpgsqlDbType.Text));
        var devices = (await fleet.ListAsync(operatorId, cancellation)).Where(d => deviceId is null || d.DeviceId == deviceId).ToDictionary(d => d.DeviceId);
        var result = new List<DeviceDayReconciliation>();
        foreach (var device in devices.Values.Where(d => !d.Revoked && !ranges.Any(r => r.Device == d.DeviceId)))
        {
            result.Add(new DeviceDayReconciliation(device.DeviceId, day, device.ContiguousSequence + 1, null, null, 0, 0, [], device.Alarms));
        }

        foreach (var range in ranges)
        {
            // Gaps of the ledger, not of the day: a sequence stored under another day is not missing.
            var gaps = await Sql.ListAsync(connection, """
                SELECT seq + 1, next - 1 FROM (
                  SELECT seq, lead(seq) OVER (ORDER BY seq) AS next FROM tap_ledger WHERE device_id = $1 AND seq >= $2 - 1 AND seq <= $3) s
                WHERE next > seq + 1 ORDER BY seq LIMIT 100
                """, r => new SequenceRange(r.GetInt64(0), r.GetInt64(1)), cancellation, range.Device, range.ExpectedFrom, range.Last);
            if (range.ExpectedFrom < range.First && !gaps.Any(g => g.From == range.ExpectedFrom))
            {
                gaps.Insert(0, new SequenceRange(range.ExpectedFrom, range.First - 1));
            }

            result.Add(new DeviceDayReconciliation(
                range.Device, day, range.ExpectedFrom, range.First, range.Last, range.Count, gaps.Sum(g => g.To - g.From + 1), gaps,
                devices.TryGetValue(range.Device, out var device) ? device.Alarms : []));
        }

        return [.. result.OrderBy(r => r.DeviceId, StringComparer.Ordinal)];
    }
}
