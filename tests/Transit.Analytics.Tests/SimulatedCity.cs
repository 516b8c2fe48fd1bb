using Transit.Analytics.Chaining;
using Transit.Analytics.Gtfs;
using Transit.Analytics.Privacy;
using Transit.Analytics.Rollups;
using Transit.DeviceApi;
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

    /// <summary>A bus ride on <paramref name="routeId"/>: the first stop of one of its patterns and the stop three after it.</summary>
    public (string Board, string Alight) BusRide(string routeId)
    {
        var pattern = Network.PatternsOf(routeId).First(p => p.StopIds.Count > 3);
        return (pattern.StopIds[0], pattern.StopIds[3]);
    }

    /// <summary>An accepted tap of rider 42 at 08:00 local on 2026-11-24 plus <paramref name="minutes"/>.</summary>
    public static AnalyticsTap Tap(TapMode mode, int minutes, string? stop, string? route, long sequence = 0) => new(
        42, new DateTimeOffset(2026, 11, 24, 8, 0, 0, TimeSpan.FromHours(1)).AddMinutes(minutes), mode,
        mode.OnBus() ? SyntheticCity.BusOperator : SyntheticCity.MetroOperator, stop, route, true, "ok", "adult", mode.OnBus() ? $"bus/{route}" : $"{stop}/gate", sequence);

    public SimulatedDay Day(DateOnly date, int riders, int seed) => new(this, Population.Plan(date, riders, seed));

    public List<AnalyticsTap> TapsOf(DayPlan plan)
    {
        var categories = plan.Riders.ToDictionary(r => r.Account, r => r.Category);
        var sequence = 0L;
        return [.. plan.Taps.Select(t =>
        {
            var (kind, route, op) = t.DeviceKey switch
            {
                var k when k.EndsWith("/entry", StringComparison.Ordinal) => (TapMode.MetroEntry, (string?)null, SyntheticCity.MetroOperator),
                var k when k.EndsWith("/exit", StringComparison.Ordinal) => (TapMode.MetroExit, null, SyntheticCity.MetroOperator),
                var k => (TapMode.Bus, k["bus/".Length..], SyntheticCity.BusOperator),
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
