using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Transit.GateAgent.Simulation;
using Transit.Simulation;

namespace Transit.Simulation.Harness;

/// <summary>What a gate answered to one tap, planned or shown live.</summary>
public sealed record GateAnswer(string DeviceId, long Seq, bool Accepted, string Reason, double LatencyMs, DateTimeOffset GateAt)
{
    /// <summary>The account the code named, when the gate could read it.</summary>
    public string? Account { get; init; }
}

/// <summary>One planned tap on its way to a gate: the plan's index, the UTC instant and the code text.</summary>
public sealed record GateWork(int Index, PlannedTap? Tap, DateTimeOffset At, Func<string> Code)
{
    /// <summary>Completed with the answer instead of <see cref="GateAgentProcess.Answered"/> (a code shown live, not planned).</summary>
    public TaskCompletionSource<GateAnswer>? Reply { get; init; }
}

/// <summary>
/// A real gate agent (<c>transit gate run</c>) as a child process, fed over its TCP simulation input: for each tap a
/// clock line with the tap's instant, the code, and the agent's answer. A bus validator's stop is set through the
/// driver console (<c>POST /control/route</c>) before a boarding at another stop.
/// </summary>
public sealed class GateAgentProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly Channel<GateWork> _work = Channel.CreateUnbounded<GateWork>();
    private readonly HttpClient _status;
    private TcpClient? _tcp;
    private Task _feeder = Task.CompletedTask;
    private long _enqueued;
    private long _answered;
    private TaskCompletionSource _progress = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string? _stop;

    private GateAgentProcess(DeviceSlot slot, string deviceId, Process process, StreamWriter log, int scannerPort, int statusPort)
    {
        Slot = slot;
        DeviceId = deviceId;
        _process = process;
        _log = log;
        ScannerPort = scannerPort;
        StatusPort = statusPort;
        _stop = slot.FirstStopId;
        _status = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{statusPort}"), Timeout = TimeSpan.FromSeconds(60) };
    }

    public DeviceSlot Slot { get; }

    public string DeviceId { get; }

    public int ScannerPort { get; }

    public int StatusPort { get; }

    /// <summary>Receives every answer (on the receiving thread).</summary>
    public Action<GateWork, GateAnswer>? Answered { get; set; }

    /// <summary>Taps handed over and not yet answered.</summary>
    public long Outstanding => Interlocked.Read(ref _enqueued) - Interlocked.Read(ref _answered);

    /// <summary>
    /// <paramref name="gate"/> <c>--config FILE</c> as transit-gate.service starts it: workstation GC (the <c>transit</c>
    /// command defaults to server GC for the clearing server, and many agents share a small machine here), output and
    /// errors redirected.
    /// </summary>
    public static ProcessStartInfo StartInfo(GateCommand gate, string configPath)
    {
        var start = new ProcessStartInfo(gate.Program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in (string[])[.. gate.Arguments, "--config", configPath])
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["DOTNET_gcServer"] = "0";
        return start;
    }

    /// <summary>Starts <paramref name="gate"/> <c>--config FILE</c> and waits for its ready line; its log goes to <paramref name="logPath"/>.</summary>
    public static async Task<GateAgentProcess> StartAsync(GateCommand gate, DeviceSlot slot, string deviceId, string configPath, string logPath, CancellationToken cancellation)
    {
        var start = StartInfo(gate, configPath);
        start.RedirectStandardInput = true;
        start.WorkingDirectory = Path.GetDirectoryName(configPath)!;
        var process = Process.Start(start) ?? throw new SimulationException($"cannot start the gate agent {deviceId}", 1);
        var log = new StreamWriter(logPath, append: true) { AutoFlush = true };
        var ready = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line && line.StartsWith("ready ", StringComparison.Ordinal))
            {
                ready.TrySetResult(line["ready ".Length..]);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                lock (log)
                {
                    log.WriteLine(line);
                }
            }
        };
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => ready.TrySetException(new SimulationException($"gate agent {deviceId} exited before it was ready; see {logPath}", 1));
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var json = JsonDocument.Parse(await ready.Task.WaitAsync(TimeSpan.FromMinutes(2), cancellation)).RootElement;
            var agent = new GateAgentProcess(slot, deviceId, process, log, json.GetProperty("scannerPort").GetInt32(), json.GetProperty("statusPort").GetInt32());
            await agent.ConnectAsync(cancellation);
            return agent;
        }
        catch
        {
            await StopAsync(process);
            process.Dispose();
            await log.DisposeAsync();
            throw;
        }
    }

    /// <summary>Queues a tap; it is sent when the agent has answered the taps before it.</summary>
    public void Enqueue(GateWork work)
    {
        Interlocked.Increment(ref _enqueued);
        _work.Writer.TryWrite(work);
    }

    /// <summary>
    /// Shows <paramref name="code"/> to the gate now, in line behind any planned taps: the gate's clock is set to the
    /// real time first, since a code a person shows was signed by a real clock, not the simulated day's.
    /// </summary>
    public Task<GateAnswer> ScanAsync(string code, CancellationToken cancellation)
    {
        var reply = new TaskCompletionSource<GateAnswer>(TaskCreationOptions.RunContinuationsAsynchronously);
        Enqueue(new GateWork(-1, null, DateTimeOffset.UtcNow, () => code) { Reply = reply });
        return reply.Task.WaitAsync(cancellation);
    }

    /// <summary>Waits until every queued tap is answered.</summary>
    public Task DrainedAsync(CancellationToken cancellation) =>
        WaitUntilAsync(() => Interlocked.Read(ref _answered) == Interlocked.Read(ref _enqueued), cancellation);

    /// <summary>GET /health as JSON.</summary>
    public async Task<JsonElement> HealthAsync(CancellationToken cancellation) =>
        JsonDocument.Parse(await _status.GetStringAsync("/health", cancellation)).RootElement.Clone();

    /// <summary>POST /control/sync: key set, deny list and configuration now; returns the deny-list version held after it.</summary>
    public async Task<long> SyncAsync(CancellationToken cancellation)
    {
        using var response = await _status.PostAsync("/control/sync", null, cancellation);
        var body = await response.Content.ReadAsStringAsync(cancellation);
        if (!response.IsSuccessStatusCode)
        {
            throw new SimulationException($"gate {DeviceId}: sync failed ({(int)response.StatusCode}): {body}", 1);
        }

        return JsonDocument.Parse(body).RootElement.GetProperty("denyListVersion").GetInt64();
    }

    /// <summary>POST /control/upload: upload now rather than after the batching delay.</summary>
    public async Task TriggerUploadAsync(CancellationToken cancellation)
    {
        using var response = await _status.PostAsync("/control/upload", null, cancellation);
    }

    /// <summary>Asks the agent to stop (SIGTERM) and waits; kills it when it does not stop in time.</summary>
    public async ValueTask DisposeAsync()
    {
        _work.Writer.TryComplete();
        _tcp?.Dispose();
        try
        {
            await _feeder.WaitAsync(TimeSpan.FromSeconds(5));
        }
#pragma warning disable CA1031 // Whatever broke the connection, the agent process must still be stopped below.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            WriteLog($"simulation input closed: {ex.GetBaseException().Message}");
        }

        await StopAsync(_process);
        _process.Dispose();
        _status.Dispose();
        lock (_log)
        {
            _log.Dispose();
        }
    }

    /// <summary>The agent's output is written to the same log from its reader threads, so a line is written under the lock.</summary>
    private void WriteLog(string line)
    {
        lock (_log)
        {
            _log.WriteLine(line);
        }
    }

    /// <summary>SIGTERM, then SIGKILL after 15 s: the agent needs a moment to finish its last commit and upload.</summary>
    public static async Task StopAsync(Process process)
    {
        if (process.HasExited)
        {
            return;
        }

        Stop(process);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
        }
    }

    private static void Stop(Process process)
    {
        try
        {
            using var kill = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]);
            kill?.WaitForExit();
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            process.Kill(entireProcessTree: true);
        }
    }

    private async Task ConnectAsync(CancellationToken cancellation)
    {
        _tcp = new TcpClient { NoDelay = true };
        await _tcp.ConnectAsync("127.0.0.1", ScannerPort, cancellation);
        var stream = _tcp.GetStream();
        _feeder = Task.Run(() => FeedAsync(stream), CancellationToken.None);
    }

    /// <summary>
    /// One rider at a time, as at a real gate: the clock line and the code, then the answer, then the next rider.
    /// Riders queue in front of the gate (in <see cref="_work"/>), so the agent's latency is its own, not the queue's.
    /// </summary>
    private async Task FeedAsync(NetworkStream stream)
    {
        try
        {
            using var reader = new StreamReader(stream, Encoding.ASCII);
            await foreach (var work in _work.Reader.ReadAllAsync())
            {
                if (Slot.Mode == "bus" && work.Tap is { } tap && tap.StopId != _stop)
                {
                    await SetStopAsync(tap.StopId);
                }

                var lines = $"{SimulationClock.LinePrefix}{work.At.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture)}\n{work.Code()}\n";
                await stream.WriteAsync(Encoding.ASCII.GetBytes(lines));
                var line = await reader.ReadLineAsync() ?? throw new SimulationException($"gate {DeviceId} closed its simulation input; see its log", 1);
                var json = JsonDocument.Parse(line).RootElement;
                var answer = new GateAnswer(
                    DeviceId,
                    json.GetProperty("seq").GetInt64(),
                    json.GetProperty("accepted").GetBoolean(),
                    json.GetProperty("reason").GetString()!,
                    json.GetProperty("latencyMs").GetDouble(),
                    new DateTimeOffset(json.GetProperty("at").GetDateTime(), TimeSpan.Zero))
                {
                    Account = json.TryGetProperty("account", out var account) ? account.GetString() : null,
                };
                if (work.Reply is { } reply)
                {
                    reply.TrySetResult(answer);
                }
                else
                {
                    Answered?.Invoke(work, answer);
                }
                Interlocked.Increment(ref _answered);
                Signal();
            }
        }
        finally
        {
            Signal();
        }
    }

    private void Signal() =>
        Interlocked.Exchange(ref _progress, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    private async Task WaitUntilAsync(Func<bool> condition, CancellationToken cancellation)
    {
        while (true)
        {
            // Taken before the check: an answer arriving in between completes this very signal.
            var signal = Volatile.Read(ref _progress).Task;
            if (condition())
            {
                return;
            }

            if (_feeder.IsCompleted)
            {
                throw new SimulationException($"feeding gate {DeviceId} stopped with {Outstanding} taps unanswered: {_feeder.Exception?.GetBaseException().Message ?? "input closed"}", 1);
            }

            await signal.WaitAsync(cancellation);
        }
    }

    private async Task SetStopAsync(string stop)
    {
        using var content = new StringContent(JsonSerializer.Serialize(new Dictionary<string, string?> { ["routeId"] = Slot.RouteId, ["stopId"] = stop }), Encoding.UTF8, "application/json");
        using var response = await _status.PostAsync("/control/route", content);
        if (!response.IsSuccessStatusCode)
        {
            throw new SimulationException($"gate {DeviceId}: driver console refused stop {stop}: {(int)response.StatusCode}", 1);
        }

        _stop = stop;
    }
}
