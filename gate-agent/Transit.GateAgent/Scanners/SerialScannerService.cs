using Microsoft.Extensions.Logging;
using Transit.GateAgent.Configuration;
using Transit.GateAgent.Status;

namespace Transit.GateAgent.Scanners;

/// <summary>A serial scanner (USB CDC-ACM or UART) in raw mode: each CR- or LF-terminated line is one code.</summary>
internal sealed class SerialScannerService(SerialScannerSettings settings, ScanInbox inbox, GateMetrics metrics, ILogger<SerialScannerService> logger)
    : DeviceScannerService(settings.Device!, inbox, metrics, logger)
{
    private readonly LineAssembler _lines = new();

    protected override string Source => "serial:" + Device;

    protected override int OpenDevice() => OpenRaw(Device, settings.Baud);

    /// <summary>Opens a TTY in raw mode at <paramref name="baud"/> (also the GPS receiver's line).</summary>
    internal static unsafe int OpenRaw(string device, int baud)
    {
        var fd = Libc.Open(device, Libc.ORdWr | Libc.ONoCtty | Libc.ONonBlock);
        if (fd < 0)
        {
            throw new IOException($"open {device}: {Libc.LastError()}");
        }

        var termios = stackalloc byte[Libc.TermiosBufferSize];
        SerialLineSpeeds.TryGet(baud, out var speed);
        if (Libc.TcGetAttr(fd, termios) != 0)
        {
            var error = Libc.LastError();
            Libc.Close(fd);
            throw new IOException($"{device} is not a terminal (tcgetattr: {error})");
        }

        // Raw: no echo, no line editing, no CR/LF translation, 8 data bits; the scanner's bytes arrive as sent.
        Libc.CfMakeRaw(termios);
        termios[Libc.TermiosCcOffset + Libc.VMin] = 1;
        termios[Libc.TermiosCcOffset + Libc.VTime] = 0;
        if (Libc.CfSetISpeed(termios, speed) != 0 || Libc.CfSetOSpeed(termios, speed) != 0 || Libc.TcSetAttr(fd, Libc.TcsaNow, termios) != 0)
        {
            var error = Libc.LastError();
            Libc.Close(fd);
            throw new IOException($"{device}: cannot set raw mode at {baud} baud: {error}");
        }

        return fd;
    }

    protected override void Consume(ReadOnlySpan<byte> data)
    {
        foreach (var line in _lines.Feed(data))
        {
            Emit(line);
        }
    }

    protected override void Reset() => _lines.Reset();
}
