using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NpgsqlTypes;
using Transit.Analytics.Store;
using Transit.Clearing;
using Transit.Clearing.Charging;
using Transit.Clearing.Database;
using Transit.Clearing.Gtfs;
using Transit.Clearing.Ingest;
using Transit.Clearing.Jobs;
using Transit.Clearing.Journeys;
using Transit.Clearing.Settlement;
using Transit.DeviceApi;
using Transit.Simulation;
using Transit.Simulation.Harness;

namespace Transit.Simulation.Harness.Bench;

/// <summary>
/// End-of-day clearing of one service day: journeys, fares with caps, charges with settlement lines, payments through
/// the simulated provider and the balance check — against the least any clearing must do with the same database:
/// read every tap of the day once and write one row per journey.
/// </summary>
public static class ClearingBenchmark
{
    private static readonly string[] Stations = ["W1", "CEN", "E1", "E2", "N1", "S1"];

    private static string Seconds(DateTimeOffset? from, DateTimeOffset? to) =>
        from is { } f && to is { } t ? (t - f).TotalSeconds.ToString("F2", System.Globalization.CultureInfo.InvariantCulture) : "?";

    public static async Task<int> RunAsync(string reportPath, int size, CancellationToken cancellation)
    {
        await using var bench = await BenchEnvironment.StartAsync(runJobs: false, cancellation);
        var day = new DateOnly(2026, 11, 18);
        var riders = size / 4;
        Console.WriteLine($"loading {riders * 4:N0} taps of {riders:N0} riders for {day:yyyy-MM-dd} ...");
        await LoadTapsAsync(bench, day, riders, cancellation);

        // The production path: the day's pipeline on Hangfire (this process's job server), timed from the clear job's
        // creation to the end of each step by the steps' own state times.
        var (succeeded, outcome, steps) = await bench.Services.GetRequiredService<DayRunner>().RunAsync(day, cancellation);
        if (!succeeded)
        {
            throw new InvalidOperationException($"the day's pipeline did not succeed: {outcome}");
        }

        TimeSpan Until(string kind) => steps.Single(j => j.Kind == kind).FinishedAt!.Value - steps[0].CreatedAt;
        var priced = Until(JobKinds.ClearDay);
        var total = Until(JobKinds.BalanceCheck);
        var whole = Until(AnalyticsJobs.CloseDay);
        var taps = await Sql.ScalarAsync<long>(bench.Database.DataSource, "SELECT sum(taps)::bigint FROM account_days WHERE service_day = $1", cancellation, day);
        var journeys = await Sql.ScalarAsync<long>(bench.Database.DataSource, "SELECT count(*) FROM journeys WHERE service_day = $1", cancellation, day);
        var charges = await Sql.ScalarAsync<long>(bench.Database.DataSource, "SELECT count(*) FROM charges WHERE service_day = $1", cancellation, day);
        var books = await bench.Services.GetRequiredService<BalanceCheck>().ComputeAsync(day, cancellation);
        var rate = taps / total.TotalSeconds;
        Console.WriteLine($"cleared {outcome} through balance check in {total.TotalSeconds:F1} s ({rate:N0} taps/s), whole pipeline {whole.TotalSeconds:F1} s; the pipeline's payments step: {steps[1].Result}; {books}");

        // Each step's queue wait (created → started) beside its run time, to tell the hand-over from the work.
        foreach (var step in steps)
        {
            Console.WriteLine($"  {step.Kind,-24} waited {Seconds(step.CreatedAt, step.StartedAt),6} s, ran {Seconds(step.StartedAt, step.FinishedAt),6} s, done at {Seconds(steps[0].CreatedAt, step.FinishedAt),6} s");
        }

        var reference = await ReferenceRateAsync(bench.Database.DataSource, day, cancellation);
        Console.WriteLine($"reference: {reference:N0} taps/s");
        const double target = 20_000;
        var table = BenchmarkReport.Table(
            ["measure", "taps/s", "seconds", "ratio to reference", "target"],
            [
                ["read every tap of the day and write one row per journey (reference)", BenchmarkReport.F(reference), BenchmarkReport.F(taps / reference, "F1"), "1.00", ""],
                ["journeys + pricing + caps + charges + settlement lines", BenchmarkReport.F(taps / priced.TotalSeconds), BenchmarkReport.F(priced.TotalSeconds, "F1"),
                    BenchmarkReport.F(taps / priced.TotalSeconds / reference, "F2"), ""],
                ["end to end: the above + payments + balance check", BenchmarkReport.F(rate), BenchmarkReport.F(total.TotalSeconds, "F1"),
                    BenchmarkReport.F(rate / reference, "F2"), $"≥ {BenchmarkReport.F(target)}: {(rate >= target ? "met" : "NOT met")}"],
                ["the whole pipeline: the above + reconciliation + analytics close of the day", BenchmarkReport.F(taps / whole.TotalSeconds), BenchmarkReport.F(whole.TotalSeconds, "F1"),
                    BenchmarkReport.F(taps / whole.TotalSeconds / reference, "F2"), ""],
            ]);
        BenchmarkReport.WriteSection(reportPath, "clearing", $"""
            ## Clearing a day (`transit bench clearing --taps {size}`)

            Machine: {BenchmarkReport.Machine()}; {DateTime.UtcNow:yyyy-MM-dd}, load average {BenchmarkReport.LoadNow()} (a shared machine). {taps:N0} taps
            of {riders:N0} riders (two metro journeys each; one rider in seven leaves without tapping out) on the synthetic city's feed, loaded straight into the taps table; then
            the day's pipeline on Hangfire (docs/clearing.md, "Jobs"), run by this process's job server: `DayClearing` (16 parts, {Environment.ProcessorCount} at a time), then
            the simulated payment provider (no latency, 2% declines), the balance check, the device reconciliation and the analytics close of the day, each a
            continuation of the one before, on embedded PostgreSQL 15 with fsync on. Times run from the clear job's creation to the end of each step (Hangfire's
            state times). Result: {journeys:N0} journeys, {charges:N0} charges, {books}.
            The reference reads the day's taps with a binary COPY and writes one row per journey with a binary COPY.
            Full size: `--taps 1000000`; at the measured rate a 15-million-tap day takes {15_000_000 / rate / 60:F0} minutes.

            {table}
            """);
        Console.WriteLine($"written to {reportPath}");
        return rate >= target ? 0 : 1;
    }

    private static async Task LoadTapsAsync(BenchEnvironment bench, DateOnly day, int riders, CancellationToken cancellation)
    {
        await bench.Services.GetRequiredService<TapPartitions>().EnsureAsync([day], cancellation);
        var seqs = new Dictionary<string, long>();
        await using var connection = await bench.Database.DataSource.OpenConnectionAsync(cancellation);
        await using (var copy = await connection.BeginBinaryImportAsync(
            "COPY taps (service_day, device_id, seq, at, received_at, mode, accepted, gate_reason, clearing_reason, flags, operator_id, station_id, account, shard, category, code) FROM STDIN (FORMAT BINARY)",
            cancellation))
        {
            for (var r = 0; r < riders; r++)
            {
                var account = $"r{r:D7}";
                var home = Stations[r % Stations.Length];
                var work = Stations[(r / Stations.Length + r + 1) % Stations.Length];
                work = work == home ? Stations[(r + 1) % Stations.Length] : work;
                var morning = new DateTimeOffset(day.ToDateTime(new TimeOnly(6, 0)), TimeSpan.Zero).AddSeconds(r % 10_800);
                var category = r % 10 == 0 ? "child" : "adult";
                (string Device, DateTimeOffset At, TapMode Mode, string Station)[] rides =
                [
                    ($"in-{home}", morning, TapMode.MetroEntry, home),
                    ($"out-{work}", morning.AddMinutes(12), TapMode.MetroExit, work),
                    ($"in-{work}", morning.AddHours(9), TapMode.MetroEntry, work),
                    ($"out-{home}", morning.AddHours(9).AddMinutes(12), TapMode.MetroExit, home),
                ];
                foreach (var (device, at, mode, station) in rides.Take(r % 7 == 0 ? 3 : 4))
                {
                    var seq = seqs[device] = seqs.GetValueOrDefault(device) + 1;
                    await copy.StartRowAsync(cancellation);
                    await copy.WriteAsync(day, NpgsqlDbType.Date, cancellation);
                    await copy.WriteAsync(device, NpgsqlDbType.Text, cancellation);
                    await copy.WriteAsync(seq, NpgsqlDbType.Bigint, cancellation);
                    await copy.WriteAsync(at.UtcDateTime, NpgsqlDbType.TimestampTz, cancellation);
                    await copy.WriteAsync(at.UtcDateTime, NpgsqlDbType.TimestampTz, cancellation);
                    await copy.WriteAsync((short)mode, NpgsqlDbType.Smallint, cancellation);
                    await copy.WriteAsync(true, NpgsqlDbType.Boolean, cancellation);
                    await copy.WriteAsync("ok", NpgsqlDbType.Text, cancellation);
                    await copy.WriteAsync("ok", NpgsqlDbType.Text, cancellation);
                    await copy.WriteAsync((int)TapFlags.Billable, NpgsqlDbType.Integer, cancellation);
                    await copy.WriteAsync("metro", NpgsqlDbType.Text, cancellation);
                    await copy.WriteAsync(station, NpgsqlDbType.Text, cancellation);
                    await copy.WriteAsync(account, NpgsqlDbType.Text, cancellation);
                    await copy.WriteAsync(ServiceCalendar.Shard(account), NpgsqlDbType.Smallint, cancellation);
                    await copy.WriteAsync(category, NpgsqlDbType.Text, cancellation);
                    await copy.WriteAsync("TR1:bench", NpgsqlDbType.Text, cancellation);
                }
            }

            await copy.CompleteAsync(cancellation);
        }

        await using var dirty = new NpgsqlCommand(
            "INSERT INTO dirty_account_days (service_day, shard, account) SELECT DISTINCT service_day, shard, account FROM taps WHERE service_day = $1", connection);
        dirty.Parameters.Add(new() { Value = day });
        await dirty.ExecuteNonQueryAsync(cancellation);
        await using var service = new NpgsqlCommand("INSERT INTO service_days (service_day) VALUES ($1) ON CONFLICT DO NOTHING; ", connection);
        service.Parameters.Add(new() { Value = day });
        await service.ExecuteNonQueryAsync(cancellation);
        await using var analyze = new NpgsqlCommand("ANALYZE", connection);
        await analyze.ExecuteNonQueryAsync(cancellation);
    }

    private static async Task<double> ReferenceRateAsync(NpgsqlDataSource dataSource, DateOnly day, CancellationToken cancellation)
    {
        await using var read = await dataSource.OpenConnectionAsync(cancellation);
        await using var write = await dataSource.OpenConnectionAsync(cancellation);
        await using (var create = new NpgsqlCommand("CREATE TABLE bench_reference (account text, at timestamptz, station text, n int)", write))
        {
            await create.ExecuteNonQueryAsync(cancellation);
        }

        var watch = Stopwatch.StartNew();
        long rows = 0;
        await using var transaction = await write.BeginTransactionAsync(cancellation);
        await using (var export = await read.BeginBinaryExportAsync(
            $"COPY (SELECT account, at, station_id FROM taps WHERE service_day = '{day:yyyy-MM-dd}' ORDER BY account, at) TO STDOUT (FORMAT BINARY)", cancellation))
        await using (var import = await write.BeginBinaryImportAsync("COPY bench_reference FROM STDIN (FORMAT BINARY)", cancellation))
        {
            while (await export.StartRowAsync(cancellation) >= 0)
            {
                var account = await export.ReadAsync<string>(cancellation);
                var at = await export.ReadAsync<DateTimeOffset>(cancellation);
                var station = await export.ReadAsync<string>(cancellation);
                if (rows++ % 2 == 0)
                {
                    await import.StartRowAsync(cancellation);
                    await import.WriteAsync(account, NpgsqlDbType.Text, cancellation);
                    await import.WriteAsync(at.UtcDateTime, NpgsqlDbType.TimestampTz, cancellation);
                    await import.WriteAsync(station, NpgsqlDbType.Text, cancellation);
                    await import.WriteAsync((int)rows, NpgsqlDbType.Integer, cancellation);
                }
            }

            await import.CompleteAsync(cancellation);
        }

        await transaction.CommitAsync(cancellation);
        return rows / watch.Elapsed.TotalSeconds;
    }
}
