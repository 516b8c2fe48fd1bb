using System.Diagnostics.Metrics;
using Transit.Clearing.Fleet;

namespace Transit.Clearing.Observability.Export;

/// <summary>
/// The fleet view as gauges of the meter <c>Transit.Clearing.Fleet</c>, one series per device: gates sit behind
/// networks a scraper cannot reach, so clearing reports what their heartbeats said. The snapshot is taken from the
/// database once per scrape (<see cref="RefreshAsync"/>); a device's series stay while the device is registered.
/// </summary>
public sealed class FleetMetrics : IDisposable
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "Transit.Clearing.Fleet";

    private readonly Meter _meter = new(MeterName);
    private readonly FleetView _fleet;
    private volatile IReadOnlyList<FleetDevice> _devices = [];

    public FleetMetrics(FleetView fleet)
    {
        _fleet = fleet;
        Gauge("journal_backlog", "Taps a device has committed but clearing has not acknowledged, from its last heartbeat.", d => d.JournalBacklog);
        Gauge("clock_offset_seconds", "Clearing's clock minus the device's, from its last heartbeat.", d => d.ClockOffsetMillis / 1000.0);
        Gauge("last_upload_timestamp_seconds", "Unix time of the device's last acknowledged upload.", d => d.LastUploadAt?.ToUnixTimeSeconds());
        Gauge("last_report_timestamp_seconds", "Unix time of the device's last heartbeat.", d => d.LastReportAt?.ToUnixTimeSeconds());
        Gauge("alarms", "Reasons to look at the device now (the fleet view's alarms: silent, upload errors, its own alarm light, refusals, ...).", d => d.Alarms.Count);
    }

    internal Meter Meter => _meter;

    /// <summary>Reads the fleet view; the gauges report it until the next refresh.</summary>
    public async Task RefreshAsync(CancellationToken cancellation) => _devices = await _fleet.ListAsync(null, cancellation);

    public void Dispose() => _meter.Dispose();

    private void Gauge(string name, string description, Func<FleetDevice, double?> value) =>
        _meter.CreateObservableGauge(name, () => Observe(value), description: description);

    private IEnumerable<Measurement<double>> Observe(Func<FleetDevice, double?> value)
    {
        foreach (var device in _devices)
        {
            if (value(device) is { } v)
            {
                yield return new Measurement<double>(v, new("device", device.DeviceId), new("operator", device.OperatorId));
            }
        }
    }
}
