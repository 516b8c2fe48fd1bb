using Transit.Analytics.Chaining;
using Transit.Analytics.Gtfs;
using Transit.Analytics.Privacy;
using Transit.Analytics.Rollups;
using Transit.Simulation;

namespace Transit.Analytics.Tests;

/// <summary>The synthetic city's feed, loaded once, and simulated days turned into analytics input with their ground truth.</summary>
public sealed class SimulatedCity : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "transit-analytics-" + Guid.NewGuid().ToString("N"));

    public SimulatedCity()
    {
        SyntheticCity.Write(_directory);
        Network = TransitNetwork.Load(_directory);
        Options = new AnalyticsOptions { TimeZone = TimeZoneInfo.FindSystemTimeZoneById(SyntheticCity.TimeZone) };
    }

    public static readonly Pseudonymizer Pseudonyms = new("analytics-test-secret-0123456789"u8);

    public TransitNetwork Network { get; }

    public AnalyticsOptions Options { get; }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    public SimulatedDay Day(DateOnly date, int riders, int seed) => new(this, Population.Plan(date, riders, seed));

    public List<AnalyticsTap> TapsOf(DayPlan plan)
    {
        var categories = plan.Riders.ToDictionary(r => r.Account, r => r.Category);
        var sequence = 0L;
        return [.. plan.Taps.Select(t =>
        {
            var (kind, route, op) = t.DeviceKey switch
            {
                var k when k.EndsWith("/entry", StringComparison.Ordinal) => (TapKind.MetroEntry, (string?)null, SyntheticCity.MetroOperator),
                var k when k.EndsWith("/exit", StringComparison.Ordinal) => (TapKind.MetroExit, null, SyntheticCity.MetroOperator),
                var k => (TapKind.Bus, k["bus/".Length..], SyntheticCity.BusOperator),
            };
            var at = new DateTimeOffset(t.At, Options.TimeZone.GetUtcOffset(t.At));
            return new AnalyticsTap(Pseudonyms.Of(t.Account), at, kind, op, t.StopId, route, t.ExpectedReason == "ok", t.ExpectedReason, categories[t.Account], t.DeviceKey, ++sequence);
        })];
    }
}

/// <summary>One simulated day: its plan (with the true legs), its taps, and the rider-days analytics makes of them.</summary>
public sealed class SimulatedDay
{
    public SimulatedDay(SimulatedCity city, DayPlan plan)
    {
        Plan = plan;
        Taps = city.TapsOf(plan);
        var chainer = new TripChainer(city.Network, city.Options);
        RiderDays = [.. Taps.GroupBy(t => t.Rider).Select(g => new RiderDay(g.Key, plan.Date, [.. g], chainer.Chain(g.Key, plan.Date, g), []))];
        Legs = [.. RiderDays.SelectMany(d => d.Legs)];
        Rollups = new RollupSet();
        foreach (var day in RiderDays)
        {
            Rollups.Add(day.Rider, RollupProjection.Project(day, city.Options));
        }
    }

    public DayPlan Plan { get; }

    public List<AnalyticsTap> Taps { get; }

    public List<RiderDay> RiderDays { get; }

    public List<RiderLeg> Legs { get; }

    public RollupSet Rollups { get; }

    /// <summary>The true legs keyed like analytics sees riders.</summary>
    public ILookup<long, TrueLeg> TruthByRider => Plan.Legs.ToLookup(l => SimulatedCity.Pseudonyms.Of(l.Account));
}
