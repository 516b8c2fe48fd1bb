using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Transit.RideCodes;
using Transit.RideCodes.KeyStore;
using Transit.Simulation.Harness;
using Transit.Simulation.Harness.Bench;

namespace Transit.Cli;

/// <summary>
/// <c>transit bench gate --arch arm64|x64</c>: the gate as shipped, the <c>transit-gate</c> executable of each
/// architecture's .deb (gate-agent/deploy/build-package), started from the unpacked package, natively on x64 and
/// under <c>qemu-aarch64-static</c> for arm64, in one run. Reports start to ready, the first rider's decision latency
/// against the median (the JIT cliff that the warm-up removes), p50, p99 and peak memory side by side.
/// </summary>
internal static class GateArchBenchmark
{
    private sealed record Run(string Arch, string How, double StartToReadyMs, double WarmupMs, double FirstTapMs, double IdleTapMs, double P50, double P99, long PeakRss, int Taps);

    public static async Task<int> RunAsync(string reportPath, string arch, int? riders, CancellationToken cancellation)
    {
        string[] arches = arch switch
        {
            "arm64" => ["x64", "arm64"],
            "x64" => ["x64"],
            _ => throw new CliException($"--arch must be arm64 (measured beside x64 in the same run) or x64, not '{arch}'", 2),
        };
        var emulator = arches.Contains("arm64") ? GatePackageBuild.Which("qemu-aarch64-static")
            ?? throw new CliException("qemu-aarch64-static is missing: apt-get install qemu-user-static, plus the :arm64 libraries (docs/gate-install.md)", 1) : null;
        var root = Path.GetDirectoryName(Path.GetDirectoryName(Path.GetFullPath(BenchmarkReport.DefaultPath())))!;
        var dir = Path.Combine(Path.GetTempPath(), "transit-bench-gate-arch-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            var load = BenchmarkReport.LoadNow();
            var runs = new List<Run>();
            foreach (var a in arches)
            {
                var executable = await UnpackAsync(root, dir, a, cancellation);
                var taps = riders ?? (a == "arm64" ? 300 : 1_000);
                if (taps < 20)
                {
                    throw new CliException($"--riders must be at least 20 for a median (got {taps})", 2);
                }

                var start = a == "arm64" ? new ProcessStartInfo(emulator!) { ArgumentList = { executable } } : new ProcessStartInfo(executable);
                Console.WriteLine($"measuring transit-gate {a} ({taps} riders) ...");
                runs.Add(await MeasureAsync(Path.Combine(dir, "run-" + a), a, a == "arm64" ? "qemu-aarch64-static (user-mode emulation)" : "native", start, taps, cancellation));
            }

            var checks = runs.SelectMany(r => new[]
            {
                ($"{r.Arch}: first tap ≤ 3 × p50", $"{r.FirstTapMs:F2} ms = {r.FirstTapMs / r.P50:F1} × p50", r.FirstTapMs <= 3 * r.P50),
            }).ToList();
            if (runs.FirstOrDefault(r => r.Arch == "x64") is { } native)
            {
                checks.Add(("x64: start to ready ≤ 1,500 ms", $"{native.StartToReadyMs:F0} ms", native.StartToReadyMs <= 1500));
            }

            string[] header = ["measure", .. runs.Select(r => $"{r.Arch} ({r.How})")];
            var rows = new List<IReadOnlyList<string>>
            {
                Row("start to ready (process start → ready line)", runs, r => $"{r.StartToReadyMs:F0} ms"),
                Row("of which the decision-path warm-up", runs, r => $"{r.WarmupMs:F0} ms"),
                Row("first tap's decision latency", runs, r => $"{r.FirstTapMs:F2} ms"),
                Row("a tap after 2 s idle (code long compiled, threads asleep)", runs, r => $"{r.IdleTapMs:F2} ms"),
                Row("decision latency p50", runs, r => $"{r.P50:F2} ms"),
                Row("first tap / p50 (target ≤ 3)", runs, r => $"{r.FirstTapMs / r.P50:F2}"),
                Row("decision latency p99", runs, r => $"{r.P99:F2} ms"),
                Row("peak resident memory (VmHWM; under qemu it includes the emulator)", runs, r => $"{r.PeakRss / 1048576.0:F1} MB"),
                Row("riders (one fresh credential each, one tap each)", runs, r => r.Taps.ToString("N0", CultureInfo.InvariantCulture)),
            };
            var table = BenchmarkReport.Table(header, rows);
            var verdicts = BenchmarkReport.Table(["target", "value", "met"], [.. checks.Select(c => (IReadOnlyList<string>)[c.Item1, c.Item2, c.Item3 ? "met" : "NOT met"])]);
            var markdown = $"""
                ## Gate by architecture (`transit bench gate --arch {arch}`)

                Machine: {BenchmarkReport.Machine()}; {DateTime.UtcNow:yyyy-MM-dd}; load average {load} at the start. The
                shipped `transit-gate` of each architecture's .deb (self-contained ReadyToRun, `gate-agent/deploy/build-package`),
                started from the unpacked package with simulated hardware and no clearing, on a fresh journal; riders tap one
                at a time over the TCP simulation input, each with a fresh credential (issuer and phone signatures checked),
                and the first of them is the first tap after the ready line. Decision latency is the agent's own figure, from
                the line being read to the tap's durable commit. Emulated arm64 timings compare only with each other and with
                the x64 column of the same run; on a real board they are several times faster.

                {table}

                {verdicts}
                """;
            BenchmarkReport.WriteSection(reportPath, "gate-arch", markdown);
            Console.WriteLine(markdown);
            Console.WriteLine($"written to {reportPath}");
            return checks.All(c => c.Item3) ? 0 : 1;
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

    private static IReadOnlyList<string> Row(string measure, List<Run> runs, Func<Run, string> value) => [measure, .. runs.Select(value)];

    private static async Task<string> UnpackAsync(string root, string dir, string arch, CancellationToken cancellation)
    {
        Console.WriteLine($"the {arch} package (gate-agent/deploy/build-package --arch {arch}, or the one in ${GatePackageBuild.PrebuiltVariable}) ...");
        string deb;
        try
        {
            deb = await GatePackageBuild.FindOrBuildAsync(root, arch, Path.Combine(dir, "packages"), cancellation);
        }
        catch (InvalidOperationException ex)
        {
            throw new CliException(ex.Message, 1);
        }

        var unpacked = Path.Combine(dir, "root-" + arch);
        Directory.CreateDirectory(unpacked);
        if (await RunAsync("dpkg-deb", ["-x", deb, unpacked], cancellation) is { Code: not 0 } failed)
        {
            throw new CliException($"dpkg-deb -x {deb} failed: {failed.Error.Trim()}", 1);
        }

        return Path.Combine(unpacked, "opt/transit-gate/transit-gate");
    }

    private static async Task<Run> MeasureAsync(string dir, string arch, string how, ProcessStartInfo start, int taps, CancellationToken cancellation)
    {
        var keys = OperatorKeyDirectory.Init(Path.Combine(dir, "keys"), SignatureAlgorithm.P256);
        var configPath = GateBenchmark.WriteConfig(dir, keys);

        var riders = new List<PhoneCredential>(taps);
        var (issuerKey, issuer) = keys.OpenIssuingKey();
        using (issuer)
        {
            for (var i = 0; i <= taps; i++)
            {
                riders.Add(PhoneCredential.Issue(issuer, issuerKey.KeyId, string.Create(CultureInfo.InvariantCulture, $"arch{i:D6}"), "1", DateTimeOffset.UtcNow.AddHours(-1), TimeSpan.FromHours(24)));
            }
        }

        start.ArgumentList.Add("run");
        start.ArgumentList.Add("--config");
        start.ArgumentList.Add(configPath);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.WorkingDirectory = dir;
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new CliException($"cannot start {start.FileName}", 1);
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        try
        {
            JsonElement? ready = null;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation))
            {
                timeout.CancelAfter(TimeSpan.FromMinutes(3));
                while (ready is null && await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
                {
                    if (line.StartsWith("ready ", StringComparison.Ordinal))
                    {
                        ready = JsonDocument.Parse(line["ready ".Length..]).RootElement.Clone();
                    }
                }
            }

            var startToReady = watch.Elapsed.TotalMilliseconds;
            var readyLine = ready ?? throw new CliException($"transit-gate {arch} exited before it was ready", 1);
            var latencies = new List<double>(taps + 1);
            using (var tcp = new TcpClient { NoDelay = true })
            {
                await tcp.ConnectAsync("127.0.0.1", readyLine.GetProperty("scannerPort").GetInt32(), cancellation);
                var stream = tcp.GetStream();
                using var reader = new StreamReader(stream, Encoding.ASCII);
                foreach (var rider in riders)
                {
                    if (latencies.Count == taps)
                    {
                        // The reference for the first tap: one more rider after the gate idled, as the first one comes
                        // after the ready line, but with every method long compiled.
                        await Task.Delay(TimeSpan.FromSeconds(2), cancellation);
                    }

                    await stream.WriteAsync(Encoding.ASCII.GetBytes(rider.Show(DateTimeOffset.UtcNow, 0).ToText() + "\n"), cancellation);
                    var answer = JsonDocument.Parse(await reader.ReadLineAsync(cancellation) ?? throw new CliException("the gate closed the connection", 1)).RootElement;
                    if (answer.GetProperty("reason").GetString() != "ok")
                    {
                        throw new CliException($"benchmark code refused by the {arch} gate: {answer}", 1);
                    }

                    latencies.Add(answer.GetProperty("latencyMs").GetDouble());
                }
            }

            var (_, peak) = GateBenchmark.Memory(process.Id);
            var first = latencies[0];
            Console.WriteLine($"{arch}: first taps {string.Join(", ", latencies.Take(5).Select(l => l.ToString("F2", CultureInfo.InvariantCulture)))} ms; after idling {latencies[^1]:F2} ms");
            var rest = latencies.Skip(1).SkipLast(1).Order().ToList();
            return new Run(arch, how, startToReady, readyLine.TryGetProperty("warmupMillis", out var w) ? w.GetDouble() : double.NaN, first, latencies[^1],
                DayReport.Percentile(rest, 0.5), DayReport.Percentile(rest, 0.99), peak, taps);
        }
        finally
        {
            foreach (var rider in riders)
            {
                rider.Dispose();
            }

            if (!process.HasExited)
            {
                process.Kill();
                await process.WaitForExitAsync(CancellationToken.None);
            }
        }
    }

    private static async Task<(int Code, string Output, string Error)> RunAsync(string file, string[] args, CancellationToken cancellation)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new CliException($"cannot start {file}", 1);
        var output = process.StandardOutput.ReadToEndAsync(cancellation);
        var error = process.StandardError.ReadToEndAsync(cancellation);
        await process.WaitForExitAsync(cancellation);
        return (process.ExitCode, await output, await error);
    }
}
