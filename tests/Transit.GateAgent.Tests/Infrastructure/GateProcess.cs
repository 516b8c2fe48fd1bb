using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Transit.GateAgent.Tests.Infrastructure;

/// <summary>The real gate agent, <c>dotnet transit.dll gate run --config FILE</c>, as a child process.</summary>
public sealed class GateProcess : IAsyncDisposable
{
    public static readonly string Dll = TransitCommand.Dll;

    private readonly Process _process;
    private readonly StringBuilder _errors = new();
    private readonly TaskCompletionSource<JsonElement> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private GateProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line && line.StartsWith("ready ", StringComparison.Ordinal))
            {
                _ready.TrySetResult(JsonDocument.Parse(line["ready ".Length..]).RootElement.Clone());
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                lock (_errors)
                {
                    _errors.AppendLine(line);
                }
            }
        };
        process.Exited += (_, _) => _ready.TrySetException(new InvalidOperationException($"the gate exited before it was ready:\n{Errors}"));
    }

    public int Pid => _process.Id;

    /// <summary>The agent's ready line.</summary>
    public JsonElement Ready { get; private set; }

    public int ScannerPort { get; private set; }

    public int StatusPort { get; private set; }

    public string Errors
    {
        get
        {
            lock (_errors)
            {
                return _errors.ToString();
            }
        }
    }

    public bool HasExited => _process.HasExited;

    /// <summary>Starts the agent (by default through the CLI, <c>transit gate run</c>) and waits for its ready line.</summary>
    public static async Task<GateProcess> StartAsync(string configPath, IDictionary<string, string>? environment = null, GateLauncher? launcher = null)
    {
        launcher ??= GateLauncher.Cli;
        var gate = new GateProcess(Start(launcher.FileName, [.. launcher.Prefix, "run", "--config", configPath], environment));
        gate._process.EnableRaisingEvents = true;
        gate._process.BeginOutputReadLine();
        gate._process.BeginErrorReadLine();
        var ready = await gate._ready.Task.WaitAsync(launcher.StartTimeout);
        gate.Ready = ready;
        gate.ScannerPort = ready.GetProperty("scannerPort").ValueKind == JsonValueKind.Number ? ready.GetProperty("scannerPort").GetInt32() : 0;
        gate.StatusPort = ready.GetProperty("statusPort").ValueKind == JsonValueKind.Number ? ready.GetProperty("statusPort").GetInt32() : 0;
        return gate;
    }

    /// <summary>Runs the CLI to completion: for commands that must fail, and <c>gate journal</c>.</summary>
    public static Task<(int ExitCode, string Output, string Error)> RunToEndAsync(params string[] args) =>
        RunToEndAsync(GateLauncher.Cli.FileName, [Dll, .. args]);

    /// <summary>Runs a program to completion and returns its exit code and output.</summary>
    public static Task<(int ExitCode, string Output, string Error)> RunToEndAsync(string fileName, IEnumerable<string> args) =>
        ChildProcess.RunToEndAsync(StartInfo(fileName, args, null));

    /// <summary>SIGKILL: no shutdown code runs, as in a power cut.</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM, as systemd stops it; returns the exit code.</summary>
    public async Task<int> TerminateAsync()
    {
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(timeout.Token);
        return _process.ExitCode;
    }

    public GateClient Connect() => new(ScannerPort);

    public async Task<string> GetAsync(string path) => (await SendAsync(HttpMethod.Get, path, null)).Body;

    public async Task<(int Status, string Body)> PostAsync(string path, string? body = null) => await SendAsync(HttpMethod.Post, path, body);

    public async Task<JsonElement> HealthAsync() => JsonDocument.Parse(await GetAsync("/health")).RootElement.Clone();

    /// <summary>The value of an unlabelled or labelled Prometheus sample, or 0 when absent.</summary>
    public async Task<double> MetricAsync(string sample)
    {
        foreach (var line in (await GetAsync("/metrics")).Split('\n'))
        {
            if (line.StartsWith(sample + " ", StringComparison.Ordinal))
            {
                return double.Parse(line[(sample.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    /// <summary>Polls <paramref name="condition"/> until true or the timeout passes.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"timed out after {timeout.TotalSeconds:F0} s waiting for {what}");
            }

            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private async Task<(int Status, string Body)> SendAsync(HttpMethod method, string path, string? body)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{StatusPort}"), Timeout = TimeSpan.FromSeconds(60) };
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        using var response = await http.SendAsync(request);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static Process Start(string fileName, IEnumerable<string> args, IDictionary<string, string>? environment) =>
        Process.Start(StartInfo(fileName, args, environment))!;

    private static ProcessStartInfo StartInfo(string fileName, IEnumerable<string> args, IDictionary<string, string>? environment)
    {
        var start = ChildProcess.StartInfo(fileName, args);

        // As transit-gate.service starts it; a test may override.
        start.Environment["DOTNET_gcServer"] = "0";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        return start;
    }
}

/// <summary>
/// How a gate agent process is started: through the CLI (<c>dotnet transit.dll gate run</c>), or the packaged
/// <c>transit-gate</c> executable, natively or under an emulator.
/// </summary>
public sealed record GateLauncher(string FileName, IReadOnlyList<string> Prefix, TimeSpan StartTimeout)
{
    public static readonly GateLauncher Cli = new("dotnet", [GateProcess.Dll, "gate"], TimeSpan.FromSeconds(60));

    /// <summary>The packaged executable, run directly.</summary>
    public static GateLauncher Native(string executable) => new(executable, [], TimeSpan.FromSeconds(60));

    /// <summary>The packaged arm64 executable under user-mode emulation, which starts many times slower.</summary>
    public static GateLauncher Emulated(string emulator, string executable) => new(emulator, [executable], TimeSpan.FromMinutes(3));

    /// <summary>Runs one of the executable's own commands (e.g. <c>journal --db FILE</c>) to completion.</summary>
    public Task<(int ExitCode, string Output, string Error)> RunToEndAsync(params string[] args) =>
        GateProcess.RunToEndAsync(FileName, [.. Prefix, .. args]);
}

/// <summary>A client of the TCP simulation input: one line per code, one JSON answer per line.</summary>
public sealed class GateClient : IDisposable
{
    private readonly TcpClient _tcp;
    private readonly StreamReader _reader;
    private readonly StreamWriter _writer;

    public GateClient(int port)
    {
        _tcp = new TcpClient { NoDelay = true };
        _tcp.Connect("127.0.0.1", port);
        var stream = _tcp.GetStream();
        _reader = new StreamReader(stream, Encoding.ASCII);
        _writer = new StreamWriter(stream, Encoding.ASCII) { NewLine = "\n", AutoFlush = true };
    }

    /// <summary>Sends one code and waits for its answer.</summary>
    public async Task<TapAnswer> TapAsync(string code)
    {
        await SendAsync(code);
        return await ReceiveAsync();
    }

    public Task SendAsync(string code) => _writer.WriteLineAsync(code);

    /// <summary>Sends bytes as they are (a line with bytes outside ASCII, or without its line end).</summary>
    public async Task SendRawAsync(byte[] bytes) => await _tcp.GetStream().WriteAsync(bytes);

    public async Task<TapAnswer> ReceiveAsync()
    {
        var line = await _reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60))
            ?? throw new IOException("the gate closed the connection");
        return TapAnswer.Parse(line);
    }

    public void Dispose()
    {
        _reader.Dispose();
        _writer.Dispose();
        _tcp.Dispose();
    }
}

/// <summary>One answer line of the simulation input.</summary>
public sealed record TapAnswer(long Seq, bool Accepted, string Reason, double LatencyMs, string? Account, string Line)
{
    public static TapAnswer Parse(string line)
    {
        var json = JsonDocument.Parse(line).RootElement;
        return new TapAnswer(
            json.GetProperty("seq").GetInt64(),
            json.GetProperty("accepted").GetBoolean(),
            json.GetProperty("reason").GetString()!,
            json.GetProperty("latencyMs").GetDouble(),
            json.GetProperty("account").GetString(),
            line);
    }
}
