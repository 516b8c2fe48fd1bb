using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
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
