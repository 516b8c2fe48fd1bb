using Transit.Simulation;

namespace Transit.Simulation.Tests;

/// <summary>Populations that travel on several days, over the synthetic city and over a real GTFS feed.</summary>
public sealed class PopulationTests
{
    private static readonly string Zakroczym = Repository.PathOf("tests", "data", "gtfs", "zakroczym");

    [Fact]
    public void PlanDay_SameRidersOnTwoDays_OtherTimesSameHabits()
    {
        var riders = Population.Riders(500, seed: 5);
        var monday = Population.PlanDay(riders, new DateOnly(2026, 11, 23), seed: 5);
        var tuesday = Population.PlanDay(riders, new DateOnly(2026, 11, 24), seed: 5);

        Assert.Equal(riders.Select(r => r.Account), monday.Riders.Select(r => r.Account));
        Assert.Equal(riders.Where(r => r.Planted != Planted.None), monday.Riders.Where(r => r.Planted != Planted.None && r.Planted != Planted.Passback));
        Assert.Contains(monday.Riders, r => r.Planted == Planted.Passback);
        Assert.All(monday.Taps.Where(t => t.ExpectedReason == "passback"), t => Assert.Equal(Planted.Passback, monday.Riders.Single(r => r.Account == t.Account).Planted));
        Assert.All(tuesday.Taps, t => Assert.Equal(new DateOnly(2026, 11, 24), DateOnly.FromDateTime(t.At)));
        Assert.NotEqual(monday.Taps.Select(t => t.At.TimeOfDay), tuesday.Taps.Select(t => t.At.TimeOfDay));
        var habitual = monday.Riders.Zip(tuesday.Riders).Where(p => p.First.Planted != Planted.Passback && p.Second.Planted != Planted.Passback).Select(p => p.First.Account).ToHashSet();
        Assert.Equal(
            monday.Taps.Where(t => habitual.Contains(t.Account)).Select(t => (t.Account, t.DeviceKey)).Order(),
            tuesday.Taps.Where(t => habitual.Contains(t.Account)).Select(t => (t.Account, t.DeviceKey)).Order());
        Assert.Equal(monday.Taps, Population.PlanDay(riders, new DateOnly(2026, 11, 23), seed: 5).Taps);
    }

    [Fact]
    public void DaySeed_SameSeedAndDate_SameInEveryProcess()
    {
        // Pinned values: a seed derived through HashCode (seeded anew in each process) made `transit sim --seed` plan
        // other days in every run. These are SplitMix64's finaliser of (seed, day number).
        Assert.Equal(1862439878, Population.DaySeed(3, new DateOnly(2026, 11, 22)));
        Assert.Equal(558988547, Population.DaySeed(3, new DateOnly(2026, 11, 23)));
        Assert.NotEqual(Population.DaySeed(3, new DateOnly(2026, 11, 22)), Population.DaySeed(4, new DateOnly(2026, 11, 22)));
    }

    [Fact]
    public void PlanDay_SmallPopulationOnAnyDay_PlantsAtLeastOnePassback()
    {
        var riders = Population.Riders(40, seed: 3);
        for (var day = new DateOnly(2026, 11, 1); day < new DateOnly(2026, 12, 1); day = day.AddDays(1))
        {
            var plan = Population.PlanDay(riders, day, seed: 3);
            Assert.Contains(plan.Taps, t => t.ExpectedReason == "passback");
        }
    }

    [Fact]
    public void PlanDay_BlockedAccounts_OnlyDeniedTapsAndNoTravel()
    {
        var riders = Population.Riders(300, seed: 2);
        var blocked = riders.Where(r => r.Planted is Planted.None or Planted.Stale).Take(5).Select(r => r.Account).ToHashSet();

        var plan = Population.PlanDay(riders, new DateOnly(2026, 11, 23), seed: 2, blocked);

        Assert.Superset(blocked, plan.BlockedAccounts.ToHashSet());
        Assert.All(plan.Taps.Where(t => blocked.Contains(t.Account)), t => Assert.Equal("denied", t.ExpectedReason));
        Assert.DoesNotContain(plan.Legs, l => blocked.Contains(l.Account));
        Assert.Equal(Population.Plan(new DateOnly(2026, 11, 23), 300, seed: 2).Riders, riders);
    }

    [Fact]
    public void SyntheticCity_Slots_EveryPlannedTapHasADevice()
    {
        var city = CityModel.Synthetic;
        var plan = city.PlanDay(city.Riders(400, seed: 1), new DateOnly(2026, 11, 23), seed: 1, blocked: null);

        Assert.Equal(16, city.Slots.Count);
        Assert.Subset(city.Slots.Select(s => s.Key).ToHashSet(), plan.Taps.Select(t => t.DeviceKey).ToHashSet());
        Assert.Equal(["bus", "metro"], city.Slots.Select(s => s.OperatorId).Distinct().Order());
    }

    [Fact]
    public void FeedCity_Zakroczym_RidersRideRealTripsBetweenStopsOfTheirRoute()
    {
        var city = CityModel.FromFeed(Zakroczym);
        var riders = city.Riders(400, seed: 4);
        var plan = city.PlanDay(riders, new DateOnly(2026, 11, 23), seed: 4, blocked: null);
        var stopTimes = File.ReadAllLines(Path.Combine(Zakroczym, "stop_times.txt")).Skip(1).Select(l => l.Split(','))
            .Select(f => (Stop: f[2], Time: TimeOnly.Parse(f[4], System.Globalization.CultureInfo.InvariantCulture))).ToHashSet();

        Assert.Equal("Europe/Warsaw", city.TimeZone);
        Assert.Equal(["bus/Z1", "bus/Z2", "bus/Z3"], city.Slots.Select(s => s.Key));
        Assert.All(city.Slots, s => Assert.Equal(("0", "bus"), (s.OperatorId, s.Mode)));
        Assert.NotEmpty(plan.Legs);
        Assert.All(plan.Legs, l => Assert.Contains((l.FromStop, TimeOnly.FromDateTime(l.Start)), stopTimes));
        Assert.All(plan.Legs, l => Assert.True(l.End > l.Start && l.FromStop != l.ToStop, l.ToString()));
        Assert.Superset(new HashSet<string> { "ok", "denied", "stale", "replayed", "bad-issuer-signature" }, plan.Taps.Select(t => t.ExpectedReason).ToHashSet());
        Assert.All(plan.Taps, t => Assert.StartsWith("bus/Z", t.DeviceKey, StringComparison.Ordinal));
    }

    [Fact]
    public void FeedCity_StopTimeNotATime_ErrorNamesFileLineAndColumn()
    {
        var feed = Directory.CreateTempSubdirectory("transit-feed-").FullName;
        try
        {
            foreach (var file in Directory.GetFiles(Zakroczym))
            {
                File.Copy(file, Path.Combine(feed, Path.GetFileName(file)));
            }

            var stopTimes = Path.Combine(feed, "stop_times.txt");
            var lines = File.ReadAllLines(stopTimes);
            lines[2] = lines[2].Replace(",04:06:00,04:06:00", ",04:06:00,4:6", StringComparison.Ordinal);
            File.WriteAllLines(stopTimes, lines);

            var error = Assert.Throws<InvalidDataException>(() => CityModel.FromFeed(feed));

            Assert.Equal($"{stopTimes}:3: departure_time '4:6' is not a time (H:MM:SS)", error.Message);
        }
        finally
        {
            Directory.Delete(feed, recursive: true);
        }
    }

    [Fact]
    public void FeedCity_FeedWithoutStopTimes_ErrorNamesTheFile()
    {
        var error = Assert.Throws<InvalidDataException>(() => CityModel.FromFeed(Repository.PathOf("tests", "data", "gtfs", "mbta-fares")));
        Assert.Contains("trips.txt", error.Message, StringComparison.Ordinal);
    }
}
