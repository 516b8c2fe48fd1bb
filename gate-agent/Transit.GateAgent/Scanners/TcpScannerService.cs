using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Transit.GateAgent.Simulation;
using Transit.GateAgent.Status;
using Transit.GateAgent.Taps;

namespace Transit.GateAgent.Scanners;

/// <summary>Ports the agent actually bound (a configured 0 picks a free one).</summary>
public sealed class GateEndpoints
{
    /// <summary>The TCP simulation input's port, or null when off.</summary>
    public int? ScannerPort { get; set; }

    /// <summary>The status endpoint's port, or null when off.</summary>
    public int? StatusPort { get; set; }
}

/// <summary>
/// The simulation input (a stable contract): on loopback TCP, each non-empty line a client sends is one scanned code, and the
/// agent answers each, in order, with one JSON line (<c>seq</c>, <c>accepted</c>, <c>reason</c>, <c>latencyMs</c>, …)
/// once the tap is committed (<c>seq</c> 0 when it was refused without being journaled). Clients may pipeline lines. With a simulation clock, a line starting
/// <see cref="SimulationClock.LinePrefix"/> sets the clock instead: it is no scan, makes no tap and gets no answer.
/// </summary>
internal sealed class TcpScannerService(
    int port, ScanInbox inbox, GateMetrics metrics, GateEndpoints endpoints, TimeProvider time, ILogger<TcpScannerService> logger)
    : LoopbackListenerService(port, "Scanner:Tcp:Port")
{
    protected override void OnBound(int boundPort) => endpoints.ScannerPort = boundPort;

    protected override async Task ServeAsync(TcpClient client, CancellationToken stopping)
    {
        client.NoDelay = true;
        var stream = client.GetStream();
        var answers = Channel.CreateUnbounded<Task<TapOutcome>>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var writer = WriteAnswersAsync(stream, answers.Reader, stopping);
        try
        {
            using var reader = new StreamReader(stream, Encoding.Latin1, false, 4096, leaveOpen: true);
            while (await reader.ReadLineAsync(stopping).ConfigureAwait(false) is { } line)
            {
                if (time is SimulationClock clock && line.StartsWith(SimulationClock.LinePrefix, StringComparison.Ordinal))
                {
                    if (SimulationClock.TryParseLine(line, out var at))
                    {
                        clock.Set(at);
                    }
                    else
                    {
                        logger.LogWarning("clock line ignored, not '{Prefix}ISO8601': {Line}", SimulationClock.LinePrefix, line);
                    }

                    continue;
                }

                if (line.Length == 0)
                {
                    // An empty line is no scan, as on the serial and keyboard inputs: no tap, no answer.
                    continue;
                }

                var read = Stopwatch.GetTimestamp();
                metrics.RecordScannerLine();
                // The answer is written on the journal's thread right after the commit (a non-blocking send): no
                // extra hop between the durable commit and the rider's answer.
                var reply = new TaskCompletionSource<TapOutcome>();
                var scan = new ScanRead(line.Length > LineAssembler.MaxLine ? line[..LineAssembler.MaxLine] : line, "tcp", read, reply)
                {
                    // Stamped as read, so that a clock line sent right after this code cannot move its time even
                    // when verification lags behind the input.
                    At = time is SimulationClock ? time.GetUtcNow() : null,
                };

                await inbox.SubmitAsync(scan, stopping).ConfigureAwait(false);
                answers.Writer.TryWrite(reply.Task);
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
            // Client gone or agent stopping; answers for taps already submitted are still written below.
        }

        answers.Writer.TryComplete();
        try
        {
            await writer.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
            logger.LogDebug("simulation client left before its answers were written: {Reason}", ex.Message);
        }
    }

    private static async Task WriteAnswersAsync(NetworkStream stream, ChannelReader<Task<TapOutcome>> answers, CancellationToken stopping)
    {
        var buffer = new MemoryStream(256);
        await foreach (var pending in answers.ReadAllAsync(stopping).ConfigureAwait(false))
        {
            TapOutcome outcome;
            try
            {
                outcome = await pending.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The journal failed: the tap was not committed, so it gets no answer; the agent is stopping.
                return;
            }

            buffer.SetLength(0);
            JsonSerializer.Serialize(buffer, outcome, TapJson.Wire.TapOutcome);
            buffer.WriteByte((byte)'\n');
            await stream.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), stopping).ConfigureAwait(false);
        }
    }
}
