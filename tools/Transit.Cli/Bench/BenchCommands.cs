using System.CommandLine;
using Transit.Simulation.Harness.Bench;

namespace Transit.Cli;

/// <summary>
/// <c>transit bench [AREA]</c>: runs the benchmarks with their same-run references and rewrites their sections of
/// docs/benchmarks.md. Without an area, every benchmark runs.
/// </summary>
internal static class BenchCommands
{
    /// <summary>A benchmark area: its name, description and what runs it (given the report path).</summary>
    private sealed record Area(string Name, string Description, Func<string, ParseResult, CancellationToken, Task<int>> RunAsync);

    public static Command Create()
    {
        var report = new Option<FileInfo?>("--report") { Description = "Markdown file to rewrite (default: docs/benchmarks.md of the repository)", Recursive = true };
        var size = new Option<int?>("--taps") { Description = "Taps per run for the ingest, clearing and analytics benchmarks (defaults 200000, 1000000, 1000000; full size: 1000000)", Recursive = true };
        var credentials = new Option<int?>("--credentials") { Description = "Credentials per algorithm of the codes benchmark (default and full size: 2000)", Recursive = true };
        var riders = new Option<int?>("--riders") { Description = "Riders of the end-to-end benchmark's city (default and full size: 12500, the demo's day); with gate --arch, riders per architecture (defaults 1000 on x64, 300 on arm64)", Recursive = true };
        var arch = new Option<string?>("--arch") { Description = "gate only: measure the shipped transit-gate package, arm64 (under qemu-aarch64-static, beside x64 in the same run) or x64", Recursive = true };
        var issuers = new Option<int?>("--issuers") { Description = "gate only: compare the gate's decision (verify + rules, in process) with the trust of 1 and of N issuers, e.g. 20 (--riders N taps each, default 2000)", Recursive = true };
        var bench = new Command("bench", "Run benchmarks beside their same-run references and record them in docs/benchmarks.md") { report, size, riders, credentials, arch, issuers };
        Area[] areas =
        [
            new("codes", "Ride-code verification (fresh and cached credentials, P-256 and SM2) against openssl speed ecdsap256 sm2 (--credentials N, default 2000)", (path, p, c) => CodesBenchmark.RunAsync(path, p.GetValue(credentials) ?? CodesBenchmark.DefaultCredentials, c)),
            new("fares", "Two-leg journeys priced per second on the MBTA feed against dictionary look-up and construction references", (path, _, c) => FaresBenchmark.RunAsync(path, c)),
            new("ingest", "Tap ingest over HTTPS with re-verification and durable commit, against raw binary COPY (--taps N, default 200000)", (path, p, c) => IngestBenchmark.RunAsync(path, p.GetValue(size) ?? 200_000, c)),
            new("clearing", "End-of-day clearing of a service day end to end, against reading the taps and writing the journeys (--taps N, default 1000000)", (path, p, c) => ClearingBenchmark.RunAsync(path, p.GetValue(size) ?? 1_000_000, c)),
            new("analytics", "Rollup refresh, OD-matrix and hourly-boardings queries on a simulated day in the embedded PostgreSQL against raw reads and GROUP BY of the taps (--taps N, default 1000000)", (path, p, c) => AnalyticsBenchmark.RunAsync(path, p.GetValue(size) ?? 1_000_000, c)),
            new("gate", "The gate agent's whole pipeline with durable commits, start time and memory on a 1,000,000-tap journal, against raw fsync and P-256 verify", (path, p, c) =>
                p.GetValue(issuers) is { } n ? GateIssuersBenchmark.RunAsync(path, n, p.GetValue(riders) ?? 2_000, c)
                : p.GetValue(arch) is { } a ? GateArchBenchmark.RunAsync(path, a, p.GetValue(riders), c)
                : GateBenchmark.RunAsync(path, c)),
            new("e2e", "The whole system on real processes: the demo's day at its pace, then flat out; per-gate latency, taps/s through gates and clearing, against raw fsync (--riders N, default 12500)", (path, p, c) => EndToEndBenchmark.RunAsync(path, p.GetValue(riders) ?? 12_500, c)),
        ];
        foreach (var area in areas)
        {
            var command = new Command(area.Name, area.Description);
            command.SetAction((parsed, cancellation) => area.RunAsync(ReportPath(parsed, report), parsed, cancellation));
            bench.Subcommands.Add(command);
        }

        bench.SetAction(async (parsed, cancellation) =>
        {
            var status = 0;
            foreach (var area in areas)
            {
                Console.WriteLine($"== transit bench {area.Name}");
                status = Math.Max(status, await area.RunAsync(ReportPath(parsed, report), parsed, cancellation));
            }

            return status;
        });
        return bench;
    }

    private static string ReportPath(ParseResult parsed, Option<FileInfo?> report) =>
        parsed.GetValue(report)?.FullName ?? BenchmarkReport.DefaultPath();
}
