using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Transit.GateAgent.Configuration;
using Transit.GateAgent.Journal;
using Transit.GateAgent.Pipeline;
using Transit.RideCodes;
using Transit.RideCodes.KeyStore;
using Transit.Simulation.Harness;
using Transit.Simulation.Harness.Bench;
using Transit.DeviceApi;
using Transit.GateAgent.Taps;

namespace Transit.Cli;

/// <summary>
/// The whole gate pipeline as riders meet it: the real agent as a child process (<c>transit gate run</c>) on a
/// journal already holding 1,000,000 taps, fed fresh codes one at a time over its TCP input, each answered only after
/// its durable commit. Same-run references: a raw write+fsync of a small file in the journal's directory and a raw
/// .NET P-256 verify. Reports decision latency, start-to-ready time and resident memory.
/// </summary>
internal static class GateBenchmark
{
    private const int PrefilledTaps = 1_000_000;
    private const int WarmUp = 200;
    private const int Measured = 2_000;

    public static async Task<int> RunAsync(string reportPath, CancellationToken cancellation)
    {
        var dir = Path.Combine(Path.GetTempPath(), "transit-bench-gate-" + Guid.NewGuid().ToString("N"));
        try
        {
            return await RunInAsync(dir, reportPath, cancellation);
        }
        finally
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
                // Left for the system's temporary-file cleaning.
            }
        }
    }

    private static async Task<int> RunInAsync(string dir, string reportPath, CancellationToken cancellation)
    {
        var keys = OperatorKeyDirectory.Init(Path.Combine(dir, "keys"), SignatureAlgorithm.P256);
        var journalPath = Path.Combine(dir, "data", "journal.db");
        Directory.CreateDirectory(Path.GetDirectoryName(journalPath)!);

        var load = BenchmarkReport.LoadNow();
        // The disk's fsync cost drifts by tens of percent within minutes here, so the reference is sampled on both
        // sides of the measured run and the median of all samples taken.
        var fsyncSamples = RawFsyncMicros(Path.GetDirectoryName(journalPath)!, 300);
        var verifyMicros = 1e6 / CodesBenchmark.RawDotNetVerifyRate();
        Console.WriteLine($"raw write+fsync p50 {Median(fsyncSamples):F0} µs (before), raw P-256 verify {verifyMicros:F1} µs");

        Console.WriteLine($"filling the journal with {PrefilledTaps:N0} taps ...");
        var fill = Stopwatch.StartNew();
        Prefill(journalPath, keys);
        var journalBytes = new FileInfo(journalPath).Length + (File.Exists(journalPath + "-wal") ? new FileInfo(journalPath + "-wal").Length : 0);
        Console.WriteLine($"  {fill.Elapsed.TotalSeconds:F1} s, {journalBytes / 1048576.0:F0} MiB");

        var config = WriteConfig(dir, keys);
        var (issuerKey, issuer) = keys.OpenIssuingKey();
        var riders = new List<PhoneCredential>();
        using (issuer)
        {
            var notBefore = DateTimeOffset.UtcNow.AddHours(-1);
            for (var i = 0; i < WarmUp + Measured; i++)
            {
                riders.Add(PhoneCredential.Issue(issuer, issuerKey.KeyId, string.Create(CultureInfo.InvariantCulture, $"bench{i:D6}"), "1", notBefore, TimeSpan.FromHours(24)));
            }
        }

        var start = Stopwatch.StartNew();
        using var process = StartGate(config);
        var ready = await ReadyAsync(process, cancellation);
        var startToReady = start.Elapsed.TotalMilliseconds;
        var port = ready.GetProperty("scannerPort").GetInt32();
        Console.WriteLine($"ready in {startToReady:F0} ms (agent's own count {ready.GetProperty("startMillis").GetInt64()} ms)");

        var agentLatency = new List<double>(Measured);
        var roundTrip = new List<double>(Measured);
        try
        {
            using var tcp = new TcpClient { NoDelay = true };
            await tcp.ConnectAsync("127.0.0.1", port, cancellation);
            var stream = tcp.GetStream();
            using var reader = new StreamReader(stream, Encoding.ASCII);
            for (var i = 0; i < riders.Count; i++)
            {
                cancellation.ThrowIfCancellationRequested();
                var line = Encoding.ASCII.GetBytes(riders[i].Show(DateTimeOffset.UtcNow, 0).ToText() + "\n");
                var watch = Stopwatch.StartNew();
                await stream.WriteAsync(line, cancellation);
                var answer = await reader.ReadLineAsync(cancellation) ?? throw new CliException("the gate closed the connection", 1);
                var elapsed = watch.Elapsed.TotalMilliseconds;
                var json = JsonDocument.Parse(answer).RootElement;
                if (json.GetProperty("reason").GetString() != "ok")
                {
                    throw new CliException($"benchmark code refused: {answer}", 1);
                }

                if (i >= WarmUp)
                {
                    agentLatency.Add(json.GetProperty("latencyMs").GetDouble());
                    roundTrip.Add(elapsed);
                }
            }
        }
        finally
        {
            foreach (var rider in riders)
            {
                rider.Dispose();
            }
        }

        var (rss, peak) = Memory(process.Id);
        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync(cancellation);
        }

        await process.WaitForExitAsync(cancellation);
        fsyncSamples.AddRange(RawFsyncMicros(Path.GetDirectoryName(journalPath)!, 300));
        var fsyncMicros = Median(fsyncSamples);
        Console.WriteLine($"raw write+fsync p50 {fsyncMicros:F0} µs (before and after)");

        agentLatency.Sort();
        roundTrip.Sort();
        var p50 = DayReport.Percentile(agentLatency, 0.50);
        var p99 = DayReport.Percentile(agentLatency, 0.99);
        var reference = ((2 * verifyMicros) + fsyncMicros) / 1000.0;
        var checks = new[]
        {
            ("decision latency p99 (read → durable commit)", $"{p99:F2} ms", "≤ 10 ms", p99 <= 10),
            ("decision latency p50", $"{p50:F2} ms", $"≤ 2 × (2 verifies + 1 fsync) = {2 * reference:F2} ms", p50 <= 2 * reference),
            ("start to ready (process start → ready line)", $"{startToReady:F0} ms", "≤ 1,500 ms", startToReady <= 1500),
            ("resident memory after the run (VmRSS)", $"{rss / 1048576.0:F1} MB", "≤ 150 MB", rss <= 150 * 1048576L),
        };
        var table = BenchmarkReport.Table(
            ["measure", "value", "target", "met"],
            [
                .. checks.Select(c => (IReadOnlyList<string>)[c.Item1, c.Item2, c.Item3, c.Item4 ? "met" : "NOT met"]),
                ["decision latency p90 / max", $"{DayReport.Percentile(agentLatency, 0.90):F2} / {agentLatency[^1]:F2} ms", "reported", ""],
                ["client round trip p50 / p99 (TCP line in → answer out)", $"{DayReport.Percentile(roundTrip, 0.5):F2} / {DayReport.Percentile(roundTrip, 0.99):F2} ms", "reported", ""],
                ["peak resident memory (VmHWM)", $"{peak / 1048576.0:F1} MB", "reported", ""],
                ["raw write+fsync of 64 bytes, journal directory (p50 of 300 before and 300 after the run)", $"{fsyncMicros:F0} µs", "reference", ""],
                [".NET ECDsa P-256 VerifyHash (raw)", $"{verifyMicros:F1} µs", "reference", ""],
                ["journal before the run", $"{PrefilledTaps:N0} taps, {journalBytes / 1048576.0:F0} MiB", "", ""],
            ]);
        var markdown = $"""
            ## Gate pipeline (`transit bench gate`)

            Machine: {BenchmarkReport.Machine()}; {DateTime.UtcNow:yyyy-MM-dd}; load average {load} at the start (the machine
            is shared, so the same-run references move with it). The real agent (`transit gate run`, a child
            process, simulated hardware, no clearing) on a SQLite journal (WAL, synchronous=FULL) prefilled with
            {PrefilledTaps:N0} taps; {Measured:N0} riders, each tapping once with a fresh credential (issuer and phone signature
            checked), one code at a time over the TCP simulation input after {WarmUp} warm-up taps. Decision latency is the
            agent's own figure from the line being read to the tap's commit being durable; nothing is answered before that.

            {table}
            """;
        BenchmarkReport.WriteSection(reportPath, "gate", markdown);
        Console.WriteLine(markdown);
        Console.WriteLine($"written to {reportPath}");
        return checks.All(c => c.Item4) ? 0 : 1;
    }

    private static void Prefill(string journalPath, OperatorKeyDirectory keys)
    {
        var (issuerKey, issuer) = keys.OpenIssuingKey();
        string code;
        using (issuer)
        using (var phone = PhoneCredential.Issue(issuer, issuerKey.KeyId, "prefill", "1", DateTimeOffset.UtcNow.AddDays(-8), TimeSpan.FromDays(7)))
        {
            code = phone.Show(DateTimeOffset.UtcNow.AddDays(-7), 0).ToText();
        }

        var context = new DeviceContext("bench-gate", "metro", TapMode.MetroEntry, "S01", null, null);
        var first = DateTimeOffset.UtcNow.AddDays(-7);
        using var journal = TapJournal.Open(journalPath, "bench-gate");
        var batch = new List<Verdict>(10_000);
        var stale = new VerificationResult(VerificationReason.Stale, null);
        for (var i = 0; i < PrefilledTaps; i++)
        {
            // A week of a busy gate: one tap every 0.6 s, as old as the retention keeps.
            batch.Add(new Verdict(new ScanRead(code, "prefill", Stopwatch.GetTimestamp()), first.AddMilliseconds(i * 600.0), stale, context, 1, 1, code, false, "stale"));
            if (batch.Count == batch.Capacity)
            {
                journal.Append(batch);
                batch.Clear();
            }
        }

        journal.Append(batch);
        journal.Checkpoint();
    }

    internal static string WriteConfig(string dir, OperatorKeyDirectory keys)
    {
        var config = new JsonObject
        {
            ["Device"] = new JsonObject { ["Id"] = "bench-gate", ["OperatorId"] = "metro", ["Mode"] = "metro-entry", ["StationId"] = "S01" },
            ["Trust"] = new JsonObject { ["RootPublicKey"] = keys.RootPublicKeyPath, ["KeySet"] = keys.KeySetPath, ["DenyList"] = keys.DenyListPath },
            ["Journal"] = new JsonObject { ["Path"] = "data/journal.db" },
            ["Scanner"] = new JsonObject { ["Tcp"] = new JsonObject { ["Port"] = 0 } },
            ["Status"] = new JsonObject { ["Port"] = 0 },
            ["Logging"] = new JsonObject { ["LogLevel"] = new JsonObject { ["Default"] = "Warning" } },
        };
        var path = Path.Combine(dir, "gate.json");
        File.WriteAllText(path, config.ToJsonString());
        return path;
    }

    private static Process StartGate(string config)
    {
        var start = GateAgentProcess.StartInfo(CliApp.GateAgent, config);
        var process = Process.Start(start) ?? throw new CliException("cannot start the gate agent", 1);
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task<JsonElement> ReadyAsync(Process process, CancellationToken cancellation)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(TimeSpan.FromMinutes(1));
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith("ready ", StringComparison.Ordinal))
            {
                return JsonDocument.Parse(line["ready ".Length..]).RootElement.Clone();
            }
        }

        throw new CliException("the gate agent exited before it was ready", 1);
    }

    /// <summary>Write 64 bytes and fsync, <paramref name="count"/> times, in <paramref name="directory"/>: what one durable commit costs on its disk.</summary>
    internal static List<double> RawFsyncMicros(string directory, int count)
    {
        var path = Path.Combine(directory, "fsync-probe");
        var payload = new byte[64];
        var times = new List<double>(count);
        using (var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.None))
        {
            for (var i = 0; i < count; i++)
            {
                var watch = Stopwatch.StartNew();
                file.Write(payload);
                file.Flush(flushToDisk: true);
                times.Add(watch.Elapsed.TotalMicroseconds);
            }
        }

        File.Delete(path);
        return times;
    }

    internal static (long Rss, long Peak) Memory(int pid)
    {
        long rss = 0, peak = 0;
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                rss = Kilobytes(line) * 1024;
            }
            else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                peak = Kilobytes(line) * 1024;
            }
        }

        return (rss, peak);
    }

    private static long Kilobytes(string line) =>
        long.Parse(line.Split(':', 2)[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture);

    private static double Median(List<double> values)
    {
        values.Sort();
        return DayReport.Percentile(values, 0.5);
    }
}
