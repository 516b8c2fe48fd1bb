using Microsoft.Extensions.Logging;
using Transit.GateAgent.Configuration;
using Transit.GateAgent.Scanners;
using Transit.GateAgent.Status;

namespace Transit.GateAgent.Gps;

/// <summary>
/// Reads the GPS receiver's serial line with the scanners' raw-mode reader (reopened when unplugged) and hands each
/// line to the <see cref="GpsTracker"/>; nothing it reads becomes a tap.
/// </summary>
internal sealed class GpsReceiverService(GpsSettings settings, GpsTracker tracker, ScanInbox inbox, GateMetrics metrics, ILogger<GpsReceiverService> logger)
    : DeviceScannerService(settings.Device!, inbox, metrics, logger)
{
    private readonly LineAssembler _lines = new();

    protected override string Source => "gps:" + Device;

    protected override int OpenDevice() => SerialScannerService.OpenRaw(Device, settings.Baud);

    protected override void Consume(ReadOnlySpan<byte> data)
    {
        foreach (var line in _lines.Feed(data))
        {
            tracker.Accept(line);
        }
    }

    protected override void Reset() => _lines.Reset();
}
