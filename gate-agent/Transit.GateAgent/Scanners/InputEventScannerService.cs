using Microsoft.Extensions.Logging;
using Transit.GateAgent.Configuration;
using Transit.GateAgent.Status;

namespace Transit.GateAgent.Scanners;

/// <summary>A HID scanner in keyboard mode, read as Linux input events and decoded with a US keyboard layout.</summary>
internal sealed class InputEventScannerService(InputEventScannerSettings settings, ScanInbox inbox, GateMetrics metrics, ILogger<InputEventScannerService> logger)
    : DeviceScannerService(settings.Device!, inbox, metrics, logger)
{
    private readonly KeyboardDecoder _decoder = new();

    protected override string Source => "hid:" + Device;

    protected override int OpenDevice()
    {
        var fd = Libc.Open(Device, Libc.ORdOnly | Libc.ONonBlock);
        if (fd < 0)
        {
            throw new IOException($"open {Device}: {Libc.LastError()}");
        }

        // Without the grab the scanner's keystrokes would also type into whatever console has focus.
        if (settings.Grab && Libc.Ioctl(fd, Libc.EviocGrab, 1) != 0)
        {
            Logger.LogDebug("EVIOCGRAB on {Device} failed ({Reason}); reading without exclusive access", Device, Libc.LastError());
        }

        return fd;
    }

    protected override void Consume(ReadOnlySpan<byte> data)
    {
        foreach (var code in _decoder.Feed(data))
        {
            Emit(code);
        }
    }

    protected override void Reset() => _decoder.Reset();
}
