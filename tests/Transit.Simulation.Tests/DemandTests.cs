using Transit.FareRules;
using Transit.Simulation;

namespace Transit.Simulation.Tests;

/// <summary>The realistic population: segments with their own chains, riders all day, gravity destinations, caps reached.</summary>
public sealed class DemandTests : IDisposable
{
    private static readonly DateOnly Monday = new(2026, 11, 23);
    private static readonly CityModel City = CityModel.Synthetic;
    private static readonly IReadOnlyList<Rider> Riders = City.Riders(3_000, seed: 11);
    private static readonly DayPlan Weekday = City.PlanDay(Riders, Monday, seed: 11, blocked: null);
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "transit-demand-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public void Weekday_TapsInEveryHourOfService_WithPeaksAndAMiddayBase()
    {
        var byHour = Weekday.Taps.GroupBy(t => t.At.Hour).ToDictionary(g => g.Key, g => g.Count());

        Assert.True(byHour.Count >= 16, $"taps in {byHour.Count} hours: {string.Join(", ", byHour.OrderBy(h => h.Key))}");
        Assert.True(byHour[8] > 1.3 * byHour[12], $"AM peak {byHour[8]}, midday {byHour[12]}");
        Assert.True(byHour[17] > 1.3 * byHour[12], $"PM peak {byHour[17]}, midday {byHour[12]}");
        Assert.True(byHour[12] > 0 && byHour[21] > 0 && byHour[5] > 0);
    }

    [Fact]
    public void Riders_SeveralSegments_EachWithItsOwnChain()
    {
        Assert.Equal(Enum.GetValues<Segment>().ToHashSet(), Riders.Select(r => r.Segment).ToHashSet());
        var firstStart = Weekday.Legs.GroupBy(l => l.Account).ToDictionary(g => g.Key, g => g.Min(l => l.Start).TimeOfDay);
        TimeSpan Median(Segment s) => Riders.Where(r => r.Segment == s && firstStart.ContainsKey(r.Account)).Select(r => firstStart[r.Account]).Order().ToList() is var l && l.Count > 0 ? l[l.Count / 2] : TimeSpan.MaxValue;

        Assert.InRange(Median(Segment.Commuter), TimeSpan.FromHours(6), TimeSpan.FromHours(9.5));
        Assert.InRange(Median(Segment.Student), TimeSpan.FromHours(6.75), TimeSpan.FromHours(8.25));
        Assert.InRange(Median(Segment.NightShift), TimeSpan.FromHours(5), TimeSpan.FromHours(7));
        Assert.InRange(Median(Segment.Shopper), TimeSpan.FromHours(9), TimeSpan.FromHours(18));
        var journeys = Journeys(Weekday);
        double Mean(Segment s) => Riders.Where(r => r.Segment == s && journeys.ContainsKey(r.Account)).Average(r => journeys[r.Account]);
        Assert.True(Mean(Segment.Visitor) >= 3, $"visitors {Mean(Segment.Visitor)}");
        Assert.True(Mean(Segment.HeavyRider) >= 3, $"heavy riders {Mean(Segment.HeavyRider)}");
    }

    [Fact]
    public void Weekday_SomeRidersThreeOrMoreJourneys_SomeOneWay_SomeStayHome()
    {
        var journeys = Journeys(Weekday);
        var travelling = journeys.Count;

        Assert.InRange(journeys.Count(j => j.Value >= 3) / (double)travelling, 0.1, 0.6);
        Assert.InRange(journeys.Count(j => j.Value == 1) / (double)travelling, 0.03, 0.4);
        Assert.InRange(travelling / (double)Riders.Count, 0.5, 0.95);
    }

    [Fact]
    public void Sunday_DiffersFromAWeekday()
    {
        var sunday = City.PlanDay(Riders, new DateOnly(2026, 11, 29), seed: 11, blocked: null);
        var peak = (DayPlan p) => p.Taps.Count(t => t.At.Hour is 7 or 8) / (double)p.Taps.Count;

        Assert.True(sunday.Taps.Count < 0.8 * Weekday.Taps.Count, $"Sunday {sunday.Taps.Count}, Monday {Weekday.Taps.Count}");
        Assert.True(peak(sunday) < peak(Weekday) / 2, $"07-09 share Sunday {peak(sunday):P1}, Monday {peak(Weekday):P1}");
    }

    [Fact]
    public void Destinations_NotUniform_TopTenthOfStopsDrawsMostAndTheCentreTwiceTheOthers()
    {
        var arrivals = Weekday.Legs.GroupBy(l => l.ToStop).Select(g => (Stop: g.Key, Count: g.Count())).OrderByDescending(a => a.Count).ToList();
        var stops = SyntheticCity.Stations.Count + SyntheticCity.BusStops.Count;
        var top = arrivals.Take((int)Math.Ceiling(stops / 10.0)).ToList();

        Assert.True(top.Sum(a => a.Count) > 0.4 * arrivals.Sum(a => a.Count), $"top tenth of {stops} stops: {top.Sum(a => a.Count)} of {arrivals.Sum(a => a.Count)} arrivals");
        Assert.Equal("CEN", top[0].Stop);
        Assert.True(top[0].Count > 2 * top.Skip(1).Average(a => a.Count), string.Join(", ", top));
    }

    [Fact]
    public void PlanDay_SameSeed_SamePlan_OtherSeed_Other()
    {
        var again = City.PlanDay(City.Riders(3_000, seed: 11), Monday, seed: 11, blocked: null);
        Assert.Equal(Weekday.Taps, again.Taps);
        Assert.Equal(Weekday.Legs, again.Legs);
        Assert.NotEqual(Weekday.Taps, City.PlanDay(Riders, Monday, seed: 12, blocked: null).Taps);
    }

    [Fact]
    public void GroundTruth_EveryLegHasItsTaps_AndTapsAreTheLegs()
    {
        var ok = Weekday.Taps.Where(t => t.ExpectedReason is "ok").ToList();
        var entries = ok.Where(t => !t.DeviceKey.EndsWith("/exit", StringComparison.Ordinal)).Select(t => (t.Account, t.StopId, t.At)).ToHashSet();
        var exits = ok.Where(t => t.DeviceKey.EndsWith("/exit", StringComparison.Ordinal)).Select(t => (t.Account, t.StopId, t.At)).ToHashSet();

        Assert.All(Weekday.Legs, l => Assert.True(
            entries.Contains((l.Account, l.FromStop, l.Start)) || Weekday.Taps.Any(t => t.Account == l.Account && t.At == l.Start.AddSeconds(8)),
            $"no entry tap for {l}"));
        Assert.All(Weekday.Legs.Where(l => l.Mode == "metro"), l => Assert.Equal(l.TapsOut, exits.Contains((l.Account, l.ToStop, l.End))));
        Assert.Equal(ok.Count, Weekday.Legs.Count + Weekday.Legs.Count(l => l.Mode == "metro" && l.TapsOut));
        Assert.All(Weekday.Legs, l => Assert.True(l.End > l.Start && l.FromStop != l.ToStop && l.Start.Date == l.End.Date, l.ToString()));
        foreach (var rider in Weekday.Legs.GroupBy(l => l.Account))
        {
            var journeys = rider.GroupBy(l => l.JourneyIndex).OrderBy(g => g.Key).ToList();
            Assert.Equal(Enumerable.Range(0, journeys.Count), journeys.Select(j => j.Key));
            Assert.All(journeys.Zip(journeys.Skip(1)), p => Assert.True(
                (p.Second.Min(l => l.Start) - p.First.Max(l => l.End)).TotalMinutes > 90, $"{rider.Key}: journeys closer than the transfer window"));
        }

        Assert.Superset(new HashSet<string> { "ok", "denied", "stale", "replayed", "bad-issuer-signature", "passback" }, Weekday.Taps.Select(t => t.ExpectedReason).ToHashSet());
        Assert.Contains(Weekday.Legs, l => !l.TapsOut);
    }

    [Fact]
    public void HeavyRiders_OverAWeek_ReachTheDailyAndWeeklyCaps()
    {
        var applied = HeavyRidersWeek().SelectMany(d => d.Journeys.SelectMany(c => c.AppliedCapIds)).ToList();

        Assert.Contains("adult-day", applied);
        Assert.Contains("adult-week", applied);
    }

    [Fact]
    public void CapsReached_HeavyRidersWeek_DailyWhereTheDayCapAppliedAndWeeklyWhereTheWeekCapDid()
    {
        SyntheticCity.Write(_dir);
        var caps = FareFeed.Load(_dir).FareCaps;
        var days = HeavyRidersWeek();
        var daily = days.Where(d => CapsReached.Of([Day(d)], caps).DailyRiders == 1).ToList();
        var weekly = days.Where(d => CapsReached.Of([Day(d)], caps).LongerRiders == 1).ToList();
        var all = CapsReached.Of(days.Select(Day), caps);

        Assert.NotEmpty(daily);
        Assert.NotEmpty(weekly);
        Assert.All(daily, d => Assert.Contains("adult-day", d.Journeys.SelectMany(j => j.AppliedCapIds)));
        Assert.All(weekly, d => Assert.Contains("adult-week", d.Journeys.SelectMany(j => j.AppliedCapIds)));
        Assert.Equal(days.Count(d => d.Journeys.Any(j => j.CapAdjustment > 0)), daily.Count + weekly.Count);
        Assert.Equal((daily.Count, weekly.Count), (all.DailyRiders, all.LongerRiders));
        Assert.Equal(daily.Sum(d => d.Journeys.Sum(j => j.CapAdjustment)), all.DailySaved);
        Assert.Equal(weekly.Sum(d => d.Journeys.Sum(j => j.CapAdjustment)), all.LongerSaved);

        static (string?, long, long) Day((string Category, IReadOnlyList<CappedJourney> Journeys) d) =>
            (d.Category, d.Journeys.Sum(j => j.Charged), d.Journeys.Sum(j => j.CapAdjustment));
    }

    [Fact]
    public void Zakroczym_Realistic_TripsAllDayWithChangesAndHeavyRidersEnoughForCaps()
    {
        var city = CityModel.FromFeed(Repository.PathOf("tests", "data", "gtfs", "zakroczym"));
        var riders = city.Riders(600, seed: 4);
        var days = Enumerable.Range(0, 5).Select(d => city.PlanDay(riders, Monday.AddDays(d), seed: 4, blocked: null)).ToList();

        Assert.True(days[0].Taps.Select(t => t.At.Hour).Distinct().Count() >= 12, string.Join(",", days[0].Taps.Select(t => t.At.Hour).Distinct().Order()));
        Assert.Contains(days[0].Taps, t => t.At.Hour is >= 10 and < 14);
        Assert.All(days[0].Legs, l => Assert.True(l.End > l.Start && l.FromStop != l.ToStop, l.ToString()));
        // Zakroczym has no fare_caps.txt: heavy riders make the 3 journeys a day and 11 a week that reach the
        // synthetic city's caps (6.00 a day, 22.00 a week at 2.00 a journey; docs/fare-caps.md).
        var heavy = riders.Where(r => r.Segment == Segment.HeavyRider && r.Planted == Planted.None).Select(r => r.Account).ToHashSet();
        var weekly = days.SelectMany(d => d.Legs.Where(l => heavy.Contains(l.Account)).Select(l => (l.Account, l.Start.Date, l.JourneyIndex)).Distinct())
            .GroupBy(j => j.Account).Select(g => g.Count()).ToList();
        Assert.Contains(weekly, n => n >= 11);
        Assert.Equal(days[0].Taps, city.PlanDay(riders, Monday, seed: 4, blocked: null).Taps);
    }

    [Fact]
    public void JourneysBySegment_CountsTheTruthsJourneysOfEachSegment()
    {
        var bySegment = Demand.JourneysBySegment(Weekday);

        Assert.Equal(Riders.Count, bySegment.Sum(s => s.Riders));
        Assert.Equal(Weekday.Legs.Select(l => (l.Account, l.JourneyIndex)).Distinct().Count(), bySegment.Sum(s => s.Journeys));
        Assert.Equal(Weekday.Legs.Select(l => l.Account).Distinct().Count(), bySegment.Sum(s => s.Rode));
        Assert.Equal(Riders.Count(r => r.Segment == Segment.Visitor), bySegment.Single(s => s.Segment == Segment.Visitor).Riders);
    }

    [Fact]
    public void CommutersModel_StillTwoJourneysInThePeaks()
    {
        var city = CityModel.SyntheticWith(PopulationModel.Commuters);
        var plan = city.PlanDay(city.Riders(300, seed: 3), Monday, seed: 3, blocked: null);

        Assert.Equal(Population.PlanDay(Population.Riders(300, seed: 3), Monday, seed: 3).Taps, plan.Taps);
        Assert.All(plan.Taps, t => Assert.True(t.At.Hour is >= 6 and < 20, t.ToString()));
    }

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    /// <summary>The week of the heavy riders with nothing planted, priced and capped by the synthetic city's feed: one entry per rider-day.</summary>
    private List<(string Category, IReadOnlyList<CappedJourney> Journeys)> HeavyRidersWeek()
    {
        SyntheticCity.Write(_dir);
        var feed = FareFeed.Load(_dir);
        var engine = new FareEngine(feed, new PricingOptions { MaximumFares = new Dictionary<string, long> { ["metro"] = SyntheticCity.MetroMaximumFare } });
        var caps = new FareCapCalculator(feed);
        var heavy = Riders.Where(r => r.Segment == Segment.HeavyRider && r.Planted == Planted.None).ToDictionary(r => r.Account);
        var week = Enumerable.Range(0, 7).SelectMany(d => City.PlanDay(Riders, Monday.AddDays(d), seed: 11, blocked: null).Legs).Where(l => heavy.ContainsKey(l.Account)).ToList();
        var days = new List<(string, IReadOnlyList<CappedJourney>)>();
        foreach (var rider in week.GroupBy(l => l.Account))
        {
            var fares = rider.GroupBy(l => (l.Start.Date, l.JourneyIndex))
                .Select(j => (j.Key.Date, Fare: engine.Price([.. j.Select(l => new FareLeg(l.RouteId, l.FromStop, l.TapsOut ? l.ToStop : null, feed.ToInstant(l.Start), feed.ToInstant(l.End), heavy[rider.Key].Category))])))
                .OrderBy(f => f.Fare.Start).ToList();
            days.AddRange(fares.Zip(caps.Apply([.. fares.Select(f => f.Fare)])).GroupBy(p => p.First.Date)
                .Select(g => (heavy[rider.Key].Category, (IReadOnlyList<CappedJourney>)[.. g.Select(p => p.Second)])));
        }

        return days;
    }

    private static Dictionary<string, int> Journeys(DayPlan plan) =>
        plan.Legs.GroupBy(l => l.Account).ToDictionary(g => g.Key, g => g.Select(l => l.JourneyIndex).Distinct().Count());
}
