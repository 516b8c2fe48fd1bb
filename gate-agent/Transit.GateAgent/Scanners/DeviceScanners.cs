using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Transit.GateAgent.Configuration;
using Transit.GateAgent.Status;
using Transit.GateAgent.Taps;

namespace Transit.GateAgent.Scanners;

/// <summary>
/// Reads a character device on its own thread with poll(2), so that stopping never waits on a blocking read, and
/// reopens it when it goes away (a USB scanner unplugged and plugged back).
/// </summary>
internal abstract class DeviceScannerService(string device, ScanInbox inbox, GateMetrics metrics, ILogger logger) : BackgroundService
{
    private static readonly TimeSpan Reopen = TimeSpan.FromSeconds(1);

    protected string Device { get; } = device;

    protected ILogger Logger { get; } = logger;

    /// <summary>Input name stamped on taps, e.g. <c>serial:/dev/ttyACM0</c>.</summary>
    protected abstract string Source { get; }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Run(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>Opens the device; returns the descriptor or throws <see cref="IOException"/>.</summary>
    protected abstract int OpenDevice();

    /// <summary>Handles bytes read; calls <see cref="Emit"/> for each complete code.</summary>
    protected abstract void Consume(ReadOnlySpan<byte> data);

    /// <summary>Forgets a partial code (the device went away mid-code).</summary>
    protected abstract void Reset();

    /// <summary>Hands one scanned code to the pipeline.</summary>
    protected void Emit(string text)
    {
        metrics.RecordScannerLine();
        var scan = new ScanRead(text, Source, Stopwatch.GetTimestamp());
        if (!inbox.TrySubmit(scan))
        {
            inbox.SubmitAsync(scan, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        }
    }

    private unsafe void Run(CancellationToken stopping)
    {
        var buffer = new byte[4096];
        var warned = false;
        while (!stopping.IsCancellationRequested)
        {
            int fd;
            try
            {
                fd = OpenDevice();
                Logger.LogInformation("scanner {Source} opened", Source);
                warned = false;
            }
            catch (IOException ex)
            {
                if (!warned)
                {
                    Logger.LogWarning("scanner {Source} unavailable, retrying every second: {Reason}", Source, ex.Message);
                    warned = true;
                }

                stopping.WaitHandle.WaitOne(Reopen);
                continue;
            }

            try
            {
                var poll = new Libc.PollFd { Fd = fd, Events = Libc.PollIn };
                while (!stopping.IsCancellationRequested)
                {
                    poll.Revents = 0;
                    var ready = Libc.Poll(&poll, 1, 200);
                    if (ready == 0 || (ready < 0 && System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == Libc.EIntr))
                    {
                        continue;
                    }

                    if (ready < 0)
                    {
                        throw new IOException($"poll: {Libc.LastError()}");
                    }

                    if ((poll.Revents & Libc.PollIn) != 0)
                    {
                        nint n;
                        fixed (byte* p = buffer)
                        {
                            n = Libc.Read(fd, p, (nuint)buffer.Length);
                        }

                        if (n > 0)
                        {
                            Consume(buffer.AsSpan(0, (int)n));
                            continue;
                        }

                        var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
                        if (n < 0 && (errno == Libc.EAgain || errno == Libc.EIntr))
                        {
                            continue;
                        }

                        throw new IOException(n == 0 ? "end of input" : $"read: {Libc.LastError()}");
                    }

                    if ((poll.Revents & (Libc.PollErr | Libc.PollHup | Libc.PollNval)) != 0)
                    {
                        // A pseudo-terminal reports HUP while no writer holds its other side: wait, do not spin.
                        if ((poll.Revents & Libc.PollHup) != 0 && (poll.Revents & (Libc.PollErr | Libc.PollNval)) == 0)
                        {
                            stopping.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(50));
                            continue;
                        }

                        throw new IOException("device error or hang-up");
                    }
                }
            }
            catch (IOException ex)
            {
                Logger.LogWarning("scanner {Source} lost: {Reason}; reopening", Source, ex.Message);
                stopping.WaitHandle.WaitOne(Reopen);
            }
            finally
            {
                Libc.Close(fd);
                Reset();
            }
        }
    }
}

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

/// <summary>Splits a byte stream into lines at CR or LF; empty lines (the LF of a CRLF) are dropped.</summary>
public sealed class LineAssembler
{
    /// <summary>Longer lines are cut here; they are not ride codes and are refused as malformed.</summary>
    public const int MaxLine = 4096;

    private readonly StringBuilder _line = new();

    /// <summary>Feeds bytes; returns the lines they completed.</summary>
    public List<string> Feed(ReadOnlySpan<byte> data)
    {
        var lines = new List<string>();
        foreach (var b in data)
        {
            if (b is (byte)'\r' or (byte)'\n')
            {
                if (_line.Length > 0)
                {
                    lines.Add(_line.ToString());
                    _line.Clear();
                }
            }
            else if (_line.Length < MaxLine)
            {
                _line.Append((char)b);
            }
        }

        return lines;
    }

    /// <summary>Drops a partial line.</summary>
    public void Reset() => _line.Clear();
}
