using System.Diagnostics;
using Npgsql;
using NpgsqlTypes;
using Transit.Analytics;
using Transit.Analytics.Chaining;
using Transit.Analytics.Gtfs;
using Transit.Analytics.Privacy;
using Transit.Analytics.Rollups;
using Transit.Analytics.Web.Store;
using Transit.Simulation;

namespace Transit.Cli.Bench;

/// <summary>
/// Analytics on a simulated day of about 1,000,000 taps in PostgreSQL: rollup refresh throughput (taps read,
/// pseudonymized, chained and added to the cells) and the OD-matrix and hourly-boardings queries, each beside a raw
/// reference over the same taps table in the same run (a full read of the taps; COUNT … GROUP BY over them).
/// </summary>
internal static class AnalyticsBenchmark
{
    private const int TargetTaps = 1_000_000;
    private const double TapsPerRider = 4.15;
    private const int RidersPerBatch = 250_000;
    private static readonly DateOnly Day = new(2026, 11, 24);

    public static async Task<int> RunAsync(string reportPath, CancellationToken cancellation)
    {
        var connectionString = Environment.GetEnvironmentVariable("TRANSIT_DB");
        if (string.IsNullOrEmpty(connectionString))
        {
            Console.WriteLine("transit bench analytics: skipped; set TRANSIT_DB to the connection string of a PostgreSQL database it may fill");
            return 0;
        }

        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await PrepareSchemaAsync(dataSource, cancellation);

        var feed = Directory.CreateTempSubdirectory("transit-bench-feed").FullName;
        SyntheticCity.Write(feed);
        var network = TransitNetwork.Load(feed);
        Directory.Delete(feed, recursive: true);
        var options = new AnalyticsOptions { TimeZone = TimeZoneInfo.FindSystemTimeZoneById(SyntheticCity.TimeZone) };

        Console.WriteLine("planning the day ...");
        var plan = Population.Plan(Day, (int)(TargetTaps / TapsPerRider), seed: 2026);
        var taps = await LoadTapsAsync(dataSource, plan, options, cancellation);
        Console.WriteLine($"{taps:N0} taps of {plan.Riders.Count:N0} riders in bench_taps");

        var loadBefore = BenchmarkReport.Load();
        var readRate = await ReferenceReadAsync(dataSource, cancellation);
        var refresh = await RefreshAsync(dataSource, network, options, cancellation);
        var (odMs, odRefMs, odRows) = await QueryAsync(dataSource, RollupTable.Od, [Dimension.Mode, Dimension.Stop, Dimension.ToStop], """
            SELECT station_id, count(*) FROM bench_taps WHERE service_day = $1 AND accepted GROUP BY station_id, kind
            """, cancellation);
        var (hourMs, hourRefMs, hourRows) = await QueryAsync(dataSource, RollupTable.StopHour, [Dimension.Hour], """
            SELECT extract(hour FROM at AT TIME ZONE 'Europe/Berlin'), count(*) FROM bench_taps WHERE service_day = $1 AND accepted AND kind <> 2 GROUP BY 1
            """, cancellation);

        var refreshOk = refresh.TapsPerSecond >= 100_000;
        var odOk = odMs <= 300;
        var hourOk = hourMs <= 300;
        var table = BenchmarkReport.Table(
            ["measure", "result", "same-run reference", "target"],
            [
                ["rollup refresh (read, pseudonymize, chain, add deltas, commit)", $"{BenchmarkReport.F(refresh.TapsPerSecond)} taps/s ({BenchmarkReport.F(refresh.Seconds, "F1")} s, of which reading {BenchmarkReport.F(refresh.ReadSeconds, "F1")} s; {BenchmarkReport.F(refresh.Cells)} cells)", $"raw read of the taps: {BenchmarkReport.F(readRate)} taps/s", $"≥ 100,000 taps/s: {(refreshOk ? "met" : "NOT met")}"],
                ["OD matrix query (mode × origin × destination, k-suppression bounds)", $"{BenchmarkReport.F(odMs, "F1")} ms ({odRows:N0} rows)", $"COUNT … GROUP BY station over the taps: {BenchmarkReport.F(odRefMs, "F1")} ms", $"≤ 300 ms: {(odOk ? "met" : "NOT met")}"],
                ["hourly boardings query", $"{BenchmarkReport.F(hourMs, "F1")} ms ({hourRows:N0} rows)", $"COUNT … GROUP BY hour over the taps: {BenchmarkReport.F(hourRefMs, "F1")} ms", $"≤ 300 ms: {(hourOk ? "met" : "NOT met")}"],
            ]);
        var markdown = $"""
            ## Ridership analytics (`transit bench analytics`)

            Machine: {BenchmarkReport.Machine()}; {DateTime.UtcNow:yyyy-MM-dd}. PostgreSQL {await ServerVersionAsync(dataSource, cancellation)}.
            Load average before and after: {loadBefore} / {BenchmarkReport.Load()} (the machine is shared; 2 cores).
            Command: `TRANSIT_DB=… transit bench analytics`.
            One simulated day of the synthetic city: {taps:N0} taps of {plan.Riders.Count:N0} riders in a taps table. The refresh reads every tap
            (binary COPY), pseudonymizes accounts (HMAC-SHA256), chains each rider-day into legs, and adds the rider-days'
            deltas to `analytics_cells` in batches of {RidersPerBatch:N0} riders, one transaction each. Queries are the median of
            7 runs after one warm-up, through the same reader as the API (grouping in SQL, suppression bounds included).

            {table}
            """;
        BenchmarkReport.WriteSection(reportPath, "analytics", markdown);
        Console.WriteLine(markdown);
        return refreshOk && odOk && hourOk ? 0 : 1;
    }

    private static async Task PrepareSchemaAsync(NpgsqlDataSource dataSource, CancellationToken cancellation)
    {
        await using var stream = typeof(PostgresRollupStore).Assembly.GetManifestResourceStream("Transit.Analytics.Web.Store.analytics.sql")!;
        var schema = await new StreamReader(stream).ReadToEndAsync(cancellation);
        await using var command = dataSource.CreateCommand($"""
            DROP TABLE IF EXISTS analytics_cells, analytics_rider_days, analytics_days, bench_taps;
            {schema}
            CREATE TABLE bench_taps (
              service_day date NOT NULL, device_id text NOT NULL, seq bigint NOT NULL, at timestamptz NOT NULL, kind smallint NOT NULL,
              operator_id text NOT NULL, station_id text, route_id text, account text, accepted boolean NOT NULL, reason text NOT NULL,
              category text, PRIMARY KEY (service_day, device_id, seq));
            """);
        await command.ExecuteNonQueryAsync(cancellation);
    }

    private static async Task<long> LoadTapsAsync(NpgsqlDataSource dataSource, DayPlan plan, AnalyticsOptions options, CancellationToken cancellation)
    {
        var categories = plan.Riders.ToDictionary(r => r.Account, r => r.Category);
        var sequences = new Dictionary<string, long>(StringComparer.Ordinal);
        await using var connection = await dataSource.OpenConnectionAsync(cancellation);
        await using (var copy = await connection.BeginBinaryImportAsync(
            "COPY bench_taps (service_day, device_id, seq, at, kind, operator_id, station_id, route_id, account, accepted, reason, category) FROM STDIN (FORMAT BINARY)", cancellation))
        {
            foreach (var tap in plan.Taps)
            {
                var kind = tap.DeviceKey.EndsWith("/entry", StringComparison.Ordinal) ? TapKind.MetroEntry : tap.DeviceKey.EndsWith("/exit", StringComparison.Ordinal) ? TapKind.MetroExit : TapKind.Bus;
                var seq = sequences[tap.DeviceKey] = sequences.GetValueOrDefault(tap.DeviceKey) + 1;
                await copy.StartRowAsync(cancellation);
                await copy.WriteAsync(plan.Date, NpgsqlDbType.Date, cancellation);
                await copy.WriteAsync(tap.DeviceKey, NpgsqlDbType.Text, cancellation);
                await copy.WriteAsync(seq, NpgsqlDbType.Bigint, cancellation);
                await copy.WriteAsync(new DateTimeOffset(tap.At, options.TimeZone.GetUtcOffset(tap.At)).ToUniversalTime(), NpgsqlDbType.TimestampTz, cancellation);
                await copy.WriteAsync((short)kind, NpgsqlDbType.Smallint, cancellation);
                await copy.WriteAsync(kind == TapKind.Bus ? SyntheticCity.BusOperator : SyntheticCity.MetroOperator, NpgsqlDbType.Text, cancellation);
                await copy.WriteAsync(tap.StopId, NpgsqlDbType.Text, cancellation);
                await copy.WriteAsync(kind == TapKind.Bus ? tap.DeviceKey["bus/".Length..] : null, NpgsqlDbType.Text, cancellation);
                await copy.WriteAsync(tap.Account, NpgsqlDbType.Text, cancellation);
                await copy.WriteAsync(tap.ExpectedReason == "ok", NpgsqlDbType.Boolean, cancellation);
                await copy.WriteAsync(tap.ExpectedReason, NpgsqlDbType.Text, cancellation);
                await copy.WriteAsync(categories[tap.Account], NpgsqlDbType.Text, cancellation);
            }

            await copy.CompleteAsync(cancellation);
        }

        await using var analyze = new NpgsqlCommand("ANALYZE bench_taps", connection);
        await analyze.ExecuteNonQueryAsync(cancellation);
        return plan.Taps.Count;
    }

    private const string ReadTaps = """
        COPY (SELECT account, at, kind, operator_id, station_id, route_id, accepted, reason, category, device_id, seq
              FROM bench_taps WHERE service_day = '2026-11-24') TO STDOUT (FORMAT BINARY)
        """;

    /// <summary>The reference: the same taps read in the same order, doing nothing with them.</summary>
    private static async Task<double> ReferenceReadAsync(NpgsqlDataSource dataSource, CancellationToken cancellation)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellation);
        var watch = Stopwatch.StartNew();
        long n = 0;
        await using (var reader = await connection.BeginBinaryExportAsync(ReadTaps, cancellation))
        {
            while (reader.StartRow() >= 0)
            {
                n++;
                for (var i = 0; i < 11; i++)
                {
                    reader.Skip();
                }
            }
        }

        return n / watch.Elapsed.TotalSeconds;
    }

    private sealed record RefreshFigures(double TapsPerSecond, double Seconds, long Cells, double ReadSeconds);

    private static async Task<RefreshFigures> RefreshAsync(NpgsqlDataSource dataSource, TransitNetwork network, AnalyticsOptions options, CancellationToken cancellation)
    {
        var pseudonyms = new Pseudonymizer("bench-deployment-secret-0123456789"u8);
        var refresher = new RollupRefresher(dataSource, new TripChainer(network, options));
        var watch = Stopwatch.StartNew();
        long taps = 0;
        var byRider = new Dictionary<long, List<AnalyticsTap>>();
        var riderOf = new Dictionary<string, (long Rider, List<AnalyticsTap> Taps)>(StringComparer.Ordinal);
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        await using (var connection = await dataSource.OpenConnectionAsync(cancellation))
        await using (var reader = await connection.BeginBinaryExportAsync(ReadTaps, cancellation))
        {
            // Synchronous reads: the export is one stream, and awaiting each field costs more than reading it.
            while (reader.StartRow() >= 0)
            {
                var account = reader.Read<string>();
                var at = reader.Read<DateTimeOffset>();
                var kind = (TapKind)reader.Read<short>();
                var operatorId = Intern(names, reader.Read<string>());
                var station = NullableText(reader, names);
                var route = NullableText(reader, names);
                var accepted = reader.Read<bool>();
                var reason = Intern(names, reader.Read<string>());
                var category = NullableText(reader, names);
                var device = Intern(names, reader.Read<string>());
                var seq = reader.Read<long>();
                if (!riderOf.TryGetValue(account, out var known))
                {
                    riderOf[account] = known = (pseudonyms.Of(account), []);
                    byRider[known.Rider] = known.Taps;
                }

                known.Taps.Add(new AnalyticsTap(known.Rider, at, kind, operatorId, station, route, accepted, reason, category, device, seq));
                taps++;
            }
        }

        var readSeconds = watch.Elapsed.TotalSeconds;
        foreach (var chunk in byRider.Chunk(RidersPerBatch))
        {
            await refresher.RefreshAsync(Day, chunk.ToDictionary(p => p.Key, p => p.Value), cancellation);
        }

        var seconds = watch.Elapsed.TotalSeconds;
        await using var count = dataSource.CreateCommand("SELECT count(*) FROM analytics_cells");
        var cells = (long)(await count.ExecuteScalarAsync(cancellation))!;
        await using var analyze = dataSource.CreateCommand("ANALYZE analytics_cells");
        await analyze.ExecuteNonQueryAsync(cancellation);
        return new RefreshFigures(taps / seconds, seconds, cells, readSeconds);
    }

    private static string? NullableText(NpgsqlBinaryExporter reader, Dictionary<string, string> names)
    {
        if (reader.IsNull)
        {
            reader.Skip();
            return null;
        }

        return Intern(names, reader.Read<string>());
    }

    /// <summary>Stop, route, device and category ids repeat a million times: one string each keeps memory small.</summary>
    private static string Intern(Dictionary<string, string> names, string value)
    {
        if (names.TryGetValue(value, out var known))
        {
            return known;
        }

        names[value] = value;
        return value;
    }

    private static async Task<(double Ms, double ReferenceMs, int Rows)> QueryAsync(NpgsqlDataSource dataSource, RollupTable table, Dimension[] by, string reference, CancellationToken cancellation)
    {
        var reader = new PostgresRollupReader(dataSource);
        var filter = new AnalyticsFilter(Day, Day);
        var rows = 0;
        var ms = await MedianAsync(async () => rows = (await reader.GroupAsync(table, filter, by, cancellation)).Count);
        var referenceMs = await MedianAsync(async () =>
        {
            await using var command = dataSource.CreateCommand(reference);
            command.Parameters.Add(new NpgsqlParameter { Value = Day, NpgsqlDbType = NpgsqlDbType.Date });
            await using var result = await command.ExecuteReaderAsync(cancellation);
            while (await result.ReadAsync(cancellation))
            {
            }
        });
        return (ms, referenceMs, rows);
    }

    private static async Task<double> MedianAsync(Func<Task> run)
    {
        await run();
        var times = new List<double>();
        for (var i = 0; i < 7; i++)
        {
            var watch = Stopwatch.StartNew();
            await run();
            times.Add(watch.Elapsed.TotalMilliseconds);
        }

        times.Sort();
        return times[times.Count / 2];
    }

    private static async Task<string> ServerVersionAsync(NpgsqlDataSource dataSource, CancellationToken cancellation)
    {
        await using var command = dataSource.CreateCommand("SHOW server_version");
        return (string)(await command.ExecuteScalarAsync(cancellation))!;
    }
}
