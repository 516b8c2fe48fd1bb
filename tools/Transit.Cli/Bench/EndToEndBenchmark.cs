using System.Diagnostics;
using Transit.Cli.Simulation;
using Transit.Simulation.Harness;
using Transit.Simulation.Harness.Bench;

namespace Transit.Cli;

/// <summary>
/// The whole system: the demo's city on real processes (one gate-agent process per device, clearing and PostgreSQL
/// on the same machine), two service days of the same riders. Day 1 is played at the demo's pace (busy hours
/// compressed into two minutes); day 2 as fast as the gates go (every rider queued at once, each gate serving one at
/// a time). Same-run reference: the raw write+fsync rate of the disk the journals live on, since every answered tap
/// costs a durable commit.
/// </summary>
internal static class EndToEndBenchmark
{
    public static async Task<int> RunAsync(string reportPath, int riders, CancellationToken cancellation)
    {
        var folder = Path.Combine(Path.GetTempPath(), "transit-bench-e2e-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            return await RunInAsync(folder, reportPath, riders, cancellation);
        }
        finally
        {
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Console.WriteLine($"left {folder}: {ex.Message}");
            }
        }
    }

    private static async Task<int> RunInAsync(string folder, string reportPath, int riders, CancellationToken cancellation)
    {
        await RunFolder.PrepareFreshAsync(folder, cancellation);
        var load = BenchmarkReport.LoadNow();
        var fsync = GateBenchmark.RawFsyncMicros(folder, 300).Order().ToList();
        var fsyncPerSecond = 1e6 / DayReport.Percentile(fsync, 0.5);
        Console.WriteLine($"raw write+fsync p50 {DayReport.Percentile(fsync, 0.5):F0} µs ({fsyncPerSecond:N0} per second, one writer)");

        var settings = new SimulationSettings { Gate = CliApp.GateAgent, DataFolder = folder, Riders = riders, Days = 2, DayDuration = TimeSpan.FromSeconds(120) };
        var progress = new SimulationProgress();
        var started = Stopwatch.StartNew();
        await using var run = await ProgressDisplay.RunAsync(progress, () => CityRun.StartAsync(settings, progress, cancellation));
        var startup = started.Elapsed;
        var results = new List<(PlayedDay Day, TimeSpan Clearing, (string Text, bool Balanced) Cleared)>();
        foreach (var (date, compression) in new[] { (run.Days[0], (double?)null), (run.Days[1], double.PositiveInfinity) })
        {
            var result = await ProgressDisplay.RunAsync(progress, async () =>
            {
                var day = await run.PlayDayAsync(date, progress, cancellation, compression);
                var watch = Stopwatch.StartNew();
                var cleared = await run.ClearDayAsync(date, progress, cancellation);
                return (day, watch.Elapsed, cleared);
            });
            results.Add(result);
            Console.Write(await DayReport.BuildAsync(run, result.day, result.cleared, cancellation));
        }

        var (paced, pacedClearing, _) = results[0];
        var (flat, flatClearing, _) = results[1];
        double Rate(long taps, TimeSpan time) => taps / Math.Max(0.001, time.TotalSeconds);
        var gates = run.Gates.Select(g => g.DeviceId).ToList();
        var perGate = gates.Select(id => (Id: id, Paced: Latencies(paced, id), Flat: Latencies(flat, id))).ToList();
        var flatGateRate = Rate(flat.Answered, flat.PlayTime);
        var flatSystemRate = Rate(flat.Answered, flat.PlayTime + flat.UploadTime);
        var flatClearedRate = Rate(flat.Answered, flat.PlayTime + flat.UploadTime + flatClearing);
        var worstPaced = perGate.MaxBy(g => g.Paced.P99);
        var table = BenchmarkReport.Table(
            ["measure", "value", "ratio to raw fsync/s", "note"],
            [
                ["raw write+fsync of 64 bytes, journal disk (p50 of 300; reference)", $"{DayReport.Percentile(fsync, 0.5):F0} µs = {BenchmarkReport.F(fsyncPerSecond)} /s", "1.00", "one writer"],
                ["start: keys, PostgreSQL, clearing, feed, devices, agents, credentials", $"{startup.TotalSeconds:F1} s", "", $"{gates.Count} agents, {riders:N0} riders"],
                ["day 1 at the demo's pace: taps answered", $"{paced.Answered:N0} in {paced.PlayTime.TotalSeconds:F0} s ({BenchmarkReport.F(Rate(paced.Answered, paced.PlayTime))} taps/s)", "", $"busy hours compressed ×{paced.Compression:N0}"],
                ["day 1: gate decision latency p99, median gate / worst gate", $"{Median(perGate.Select(g => g.Paced.P99)):F1} / {worstPaced.Paced.P99:F1} ms ({worstPaced.Id})", "", "read → durable commit"],
                ["day 1: lag behind the compressed schedule p50 / p99", $"{DayReport.Percentile([.. paced.QueueWaitMillis.Order()], 0.5):N0} / {DayReport.Percentile([.. paced.QueueWaitMillis.Order()], 0.99):N0} ms", "", "riders queueing at busy gates"],
                ["day 1: last upload acknowledged after the last tap", $"{paced.UploadTime.TotalSeconds:F1} s", "", ""],
                ["day 1: clearing the day (journeys, fares, charges, payments, settlement)", $"{pacedClearing.TotalSeconds:F1} s ({BenchmarkReport.F(Rate(paced.Answered, pacedClearing))} taps/s)", "", ""],
                ["day 2 flat out: taps answered by the gates", $"{BenchmarkReport.F(flatGateRate)} taps/s ({flat.Answered:N0} in {flat.PlayTime.TotalSeconds:F1} s)", BenchmarkReport.F(flatGateRate / fsyncPerSecond, "F2"), "every rider queued at once"],
                ["day 2: taps through gates into clearing (answered and acknowledged)", $"{BenchmarkReport.F(flatSystemRate)} taps/s", BenchmarkReport.F(flatSystemRate / fsyncPerSecond, "F2"), ""],
                ["day 2: through the whole system, the day's clearing included", $"{BenchmarkReport.F(flatClearedRate)} taps/s", BenchmarkReport.F(flatClearedRate / fsyncPerSecond, "F2"), $"clearing {flatClearing.TotalSeconds:F1} s"],
                ["day 2: gate decision latency p99, median gate / worst gate", $"{Median(perGate.Select(g => g.Flat.P99)):F1} / {perGate.Max(g => g.Flat.P99):F1} ms", "", "gates flat out side by side"],
            ]);
        var gateTable = BenchmarkReport.Table(
            ["gate", "taps (day 1)", "p50 / p99 at the demo's pace", "p50 / p99 flat out"],
            perGate.Select(g => (IReadOnlyList<string>)[
                g.Id, BenchmarkReport.F(g.Paced.Count), $"{g.Paced.P50:F2} / {g.Paced.P99:F2} ms", $"{g.Flat.P50:F2} / {g.Flat.P99:F2} ms"]));
        var markdown = $"""
            ## The whole system (`transit bench e2e --riders {riders}`)

            Machine: {BenchmarkReport.Machine()}; {DateTime.UtcNow:yyyy-MM-dd}, load average {load} at the start (a shared machine).
            The demo's city on real processes, all on this machine: embedded PostgreSQL 15 (fsync on), the clearing server,
            {gates.Count} gate-agent processes (SQLite journals with synchronous=FULL, uploads over HTTPS with client
            certificates), {riders:N0} riders with real credentials; two service days of the same riders. Each gate serves one
            rider at a time (the next code only after the last answer), so its latency is its own; at the demo's pace riders
            arriving at a busy gate queue in front of it (the lag). Day 2 is played flat out: every tap of the day queued at
            once. The reference is what one durable commit costs on the same disk: every answered tap needs one. Decision
            latency is the agents' own figure (read → durable commit); {gates.Count} agents share 2 cores and one disk here,
            where each real gate has its own computer. Full size: the demo's day, `--riders 12500` (the default).

            {table}
            {gateTable}
            """;
        BenchmarkReport.WriteSection(reportPath, "e2e", markdown);
        Console.WriteLine(markdown);
        Console.WriteLine($"written to {reportPath}");
        return results.All(r => r.Cleared.Balanced) && paced.Answered == paced.Plan.Taps.Count && flat.Answered == flat.Plan.Taps.Count ? 0 : 1;
    }

    private static (long Count, double P50, double P99) Latencies(PlayedDay day, string deviceId)
    {
        var sorted = day.Answers.Where(a => a?.DeviceId == deviceId).Select(a => a!.LatencyMs).Order().ToList();
        return (sorted.Count, DayReport.Percentile(sorted, 0.5), DayReport.Percentile(sorted, 0.99));
    }

    private static double Median(IEnumerable<double> values) => DayReport.Percentile([.. values.Order()], 0.5);
}
