using System.Diagnostics;
using Transit.FareRules;
using Transit.Simulation.Harness.Bench;

namespace Transit.Cli;

/// <summary>
/// Fare engine throughput on one thread: two-leg journeys on the MBTA feed (subway and local bus legs), priced end to
/// end. Same-run references: building the journeys alone, and a loop of the dictionary
/// look-ups a minimal price needs (route and two stops per leg), which bounds what any indexed engine can reach.
/// </summary>
internal static class FaresBenchmark
{
    private const double Target = 300_000;
    private const int Journeys = 20_000;

    public static Task<int> RunAsync(string reportPath, CancellationToken cancellation)
    {
        var loadAverage = BenchmarkReport.Load();
        var directory = FeedDirectory();
        var load = Stopwatch.StartNew();
        var feed = FareFeed.Load(directory);
        var engine = new FareEngine(feed);
        load.Stop();
        Console.WriteLine($"loaded {directory} in {load.Elapsed.TotalMilliseconds:F0} ms: {feed.FareLegRules.Count} leg rules, {feed.Stops.Count} stops, {feed.Report.ErrorCount} errors");
        var specs = Specs(feed, Journeys);
        var journeys = specs.Select(Build).ToArray();
        var priced = journeys.Select(engine.Price).ToArray();
        var unpriced = priced.Count(p => p.IsUnpriced);
        var transfers = priced.Count(p => (p.Flags & FareFlags.Transfer) != 0);
        cancellation.ThrowIfCancellationRequested();

        var pricing = Rate(() =>
        {
            long sum = 0;
            foreach (var journey in journeys)
            {
                sum += engine.Price(journey).Total;
            }

            return sum;
        });
        var construction = Rate(() =>
        {
            long sum = 0;
            foreach (var spec in specs)
            {
                sum += Build(spec).Count;
            }

            return sum;
        });
        var routes = feed.Routes.ToDictionary(p => p.Key, p => p.Value.NetworkId?.Length ?? 0, StringComparer.Ordinal);
        var stops = feed.Stops.ToDictionary(p => p.Key, p => p.Value.LocationType, StringComparer.Ordinal);
        var lookups = Rate(() =>
        {
            long sum = 0;
            foreach (var journey in journeys)
            {
                foreach (var leg in journey)
                {
                    sum += routes[leg.RouteId] + stops[leg.FromStopId!] + stops[leg.ToStopId!];
                }
            }

            return sum;
        });

        Console.WriteLine($"pricing {pricing:N0} journeys/s; building journeys {construction:N0}/s; dictionary look-ups {lookups:N0} journeys/s");
        var table = BenchmarkReport.Table(
            ["measure", "journeys/s", "µs per journey", "time ÷ look-up reference", "target"],
            [
                ["build the two-leg journeys only (reference)", BenchmarkReport.F(construction), BenchmarkReport.F(1e6 / construction, "F2"), BenchmarkReport.F(lookups / construction, "F2"), ""],
                ["route + stop dictionary look-ups only, 6 per journey (reference)", BenchmarkReport.F(lookups), BenchmarkReport.F(1e6 / lookups, "F2"), "1.00", ""],
                ["price two-leg journeys (FareEngine.Price)", BenchmarkReport.F(pricing), BenchmarkReport.F(1e6 / pricing, "F2"), BenchmarkReport.F(lookups / pricing, "F1"), $"≥ {BenchmarkReport.F(Target)}: {(pricing >= Target ? "met" : "NOT met")}"],
            ]);
        var markdown = $"""
            ## Fare engine (`transit bench fares`)

            Machine: {BenchmarkReport.Machine()}; {DateTime.UtcNow:yyyy-MM-dd}. One thread. Feed: MBTA Fall 2024
            ({feed.FareLegRules.Count} fare leg rules, {feed.FareTransferRules.Count} transfer rules, {feed.Stops.Count:N0} stops; loaded and
            compiled in {load.Elapsed.TotalMilliseconds:F0} ms). {Journeys:N0} two-leg journeys drawn at random (fixed seed): each leg a subway line
            between two platforms or a local bus between two stops, paid by CharlieTicket (60 %), cash (20 %) or unknown media
            (20 %), starting across a service day with 1–30 minutes between legs; {transfers:N0} of them use a transfer rule,
            {unpriced:N0} have a leg the feed does not price (cash at a subway gate). Rule look-up is indexed by (network, from area set, to area set) and transfers by (from group, to group);
            best of 3 rounds of at least one second. Load average when the run started: {loadAverage} (the machine is shared;
            compare with the same-run references rather than across runs).

            {table}
            """;
        BenchmarkReport.WriteSection(reportPath, "fares", markdown);
        Console.WriteLine($"written to {reportPath}");
        return Task.FromResult(pricing >= Target ? 0 : 1);
    }

    private static string FeedDirectory()
    {
        var root = Path.GetDirectoryName(Path.GetDirectoryName(BenchmarkReport.DefaultPath()))!;
        var directory = Path.GetFullPath(Path.Combine(root, "tests", "data", "gtfs", "mbta-fares"));
        return Directory.Exists(directory) ? directory : throw new CliException($"MBTA feed not found at {directory}", 1);
    }

    private sealed record LegSpec(string Route, string From, string To, DateTimeOffset Start, DateTimeOffset End, string? Media);

    private static List<LegSpec[]> Specs(FareFeed feed, int count)
    {
        var random = new Random(20241001);
        string[] subwayRoutes = ["Red", "Orange", "Blue", "Green-B", "Green-C", "Green-D", "Green-E"];
        string[] busRoutes = [.. feed.Routes.Values.Where(r => r.NetworkId == "local_bus").Select(r => r.Id).Take(60)];
        // Subway platforms: numbered stops of a place- station (commuter rail platforms have lettered ids) outside the
        // Silver Line, Mattapan and bus areas.
        string[] platforms =
        [
            .. feed.Stops.Values
                .Where(s => s.LocationType == 0 && s.ParentStationId?.StartsWith("place-", StringComparison.Ordinal) == true && s.Id.All(char.IsAsciiDigit))
                .Where(s => feed.AreasOf(s.Id).All(a => !a.StartsWith("area_sl", StringComparison.Ordinal) && !a.StartsWith("area_m_", StringComparison.Ordinal) && !a.StartsWith("area_route", StringComparison.Ordinal)))
                .Select(s => s.Id),
        ];
        string[] busStops = [.. feed.Stops.Values.Where(s => s.LocationType == 0 && s.ParentStationId is null).Select(s => s.Id).Take(2_000)];
        string?[] media = ["charlieticket", "charlieticket", "charlieticket", "cash", null];
        var day = new DateTimeOffset(2024, 10, 1, 5, 0, 0, TimeSpan.FromHours(-4));
        var specs = new List<LegSpec[]>(count);
        for (var i = 0; i < count; i++)
        {
            var start = day.AddMinutes(random.Next(0, 19 * 60));
            var paying = media[random.Next(media.Length)];
            var legs = new LegSpec[2];
            for (var k = 0; k < 2; k++)
            {
                var (routes, stops) = random.Next(2) == 0 ? (subwayRoutes, platforms) : (busRoutes, busStops);
                var end = start.AddMinutes(random.Next(5, 40));
                legs[k] = new LegSpec(routes[random.Next(routes.Length)], stops[random.Next(stops.Length)], stops[random.Next(stops.Length)], start, end, paying);
                start = end.AddMinutes(random.Next(1, 30));
            }

            specs.Add(legs);
        }

        return specs;
    }

    private static List<FareLeg> Build(LegSpec[] spec)
    {
        var legs = new List<FareLeg>(spec.Length);
        foreach (var leg in spec)
        {
            legs.Add(new FareLeg(leg.Route, leg.From, leg.To, leg.Start, leg.End, null, leg.Media));
        }

        return legs;
    }

    /// <summary>Items per second of <paramref name="pass"/> over all <see cref="Journeys"/>: best of three rounds of at least a second.</summary>
    private static double Rate(Func<long> pass)
    {
        pass();
        var best = 0.0;
        long sink = 0;
        for (var round = 0; round < 3; round++)
        {
            var watch = Stopwatch.StartNew();
            var passes = 0;
            while (watch.ElapsedMilliseconds < 1000)
            {
                sink += pass();
                passes++;
            }

            best = Math.Max(best, passes * (double)Journeys / watch.Elapsed.TotalSeconds);
        }

        GC.KeepAlive(sink);
        return best;
    }
}
