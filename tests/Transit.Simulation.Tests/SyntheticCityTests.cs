using Transit.FareRules;
using Transit.Simulation;

namespace Transit.Simulation.Tests;

public sealed class SyntheticCityTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "transit-city-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public void Write_Feed_LoadsAndChecksWithoutErrorsOrWarnings()
    {
        SyntheticCity.Write(_dir);
        var feed = FareFeed.Load(_dir);
        Assert.False(feed.Report.HasErrors, string.Join("\n", feed.Report.Notices));
        Assert.Equal(0, feed.Report.WarningCount);
        Assert.Equal(4, feed.FareCaps.Count);
    }

    [Fact]
    public void Write_Feed_PricesTransfersZonesAndIncompleteJourneysAsDesigned()
    {
        SyntheticCity.Write(_dir);
        var feed = FareFeed.Load(_dir);
        var engine = new FareEngine(feed, new PricingOptions { MaximumFares = new Dictionary<string, long> { ["metro"] = SyntheticCity.MetroMaximumFare } });
        var at = feed.ToInstant(new DateTime(2026, 11, 23, 8, 0, 0));

        Assert.Equal(200, engine.Price([new FareLeg("M1", "W1", "CEN", at, at.AddMinutes(5))]).Total);
        Assert.Equal(280, engine.Price([new FareLeg("M1", "W1", "E2", at, at.AddMinutes(12))]).Total);
        Assert.Equal(80, engine.Price([new FareLeg("B1", "BS1224", "BS2024", at, at.AddMinutes(8), "child")]).Total);

        // Bus then metro within 90 minutes: 1.60 + the 1.00 transfer product.
        var busThenMetro = engine.Price([new FareLeg("B1", "BS1224", "BS2024", at, at.AddMinutes(8)), new FareLeg("M2", "N1", "S1", at.AddMinutes(10), at.AddMinutes(20))]);
        Assert.Equal(260, busThenMetro.Total);

        var incomplete = engine.Price([new FareLeg("M1", "W1", null, at, at.AddMinutes(5))]);
        Assert.Equal(SyntheticCity.MetroMaximumFare, incomplete.Total);
        Assert.True(incomplete.Flags.HasFlag(FareFlags.Incomplete));
    }

    [Fact]
    public void Plan_Day_TapsInTimeOrderWithPlantedReasonsAndTruthForEveryTravellingRider()
    {
        var plan = Population.Plan(new DateOnly(2026, 11, 23), 2_000, seed: 7);

        Assert.True(plan.Taps.Zip(plan.Taps.Skip(1)).All(p => p.First.At <= p.Second.At));
        var reasons = plan.Taps.Select(t => t.ExpectedReason).ToHashSet();
        Assert.Superset(new HashSet<string> { "ok", "denied", "stale", "replayed", "bad-issuer-signature" }, reasons);
        Assert.Contains(plan.Legs, l => !l.TapsOut);
        var travelling = plan.Riders.Where(r => r.Planted is not (Planted.Blocked or Planted.Forged)).Select(r => r.Account).ToHashSet();
        Assert.Equal(travelling, plan.Legs.Select(l => l.Account).ToHashSet());
        Assert.All(plan.Legs, l => Assert.True(l.End > l.Start && l.FromStop != l.ToStop, l.ToString()));
        Assert.All(plan.Taps.Where(t => t.ExpectedReason == "denied"), t => Assert.Contains(t.Account, plan.BlockedAccounts));
    }

    [Fact]
    public void Plan_SameSeed_SameDay()
    {
        var a = Population.Plan(new DateOnly(2026, 11, 23), 300, seed: 3);
        var b = Population.Plan(new DateOnly(2026, 11, 23), 300, seed: 3);
        Assert.Equal(a.Taps, b.Taps);
        Assert.Equal(a.Legs, b.Legs);
    }

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }
}
