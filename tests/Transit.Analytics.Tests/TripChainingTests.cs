using Transit.Analytics.Chaining;
using Transit.DeviceApi;
using Transit.Simulation;

namespace Transit.Analytics.Tests;

public sealed class TripChainingTests(SimulatedCity city, ITestOutputHelper output) : IClassFixture<SimulatedCity>
{
    private static readonly DateOnly Date = new(2026, 11, 24);

    [Fact]
    public void Chain_BusDayOfGroundTruth_InfersAtLeast80PercentAndIsRightFor85Percent()
    {
        var day = city.Day(Date, riders: 2_000, seed: 7);
        var truth = day.TruthByRider;
        int boardings = 0, inferred = 0, right = 0;
        foreach (var riderDay in day.RiderDays)
        {
            var trueLegs = truth[riderDay.Rider].OrderBy(l => l.Start).ToList();
            Assert.Equal(trueLegs.Count, riderDay.Legs.Count);
            foreach (var (leg, trueLeg) in riderDay.Legs.Zip(trueLegs))
            {
                Assert.Equal(trueLeg.FromStop, leg.Origin);
                if (leg.Mode != LegMode.Bus)
                {
                    continue;
                }

                Assert.Equal(trueLeg.RouteId, leg.RouteId);
                boardings++;
                if (leg.Destination is not null)
                {
                    inferred++;
                    right += leg.Destination == trueLeg.ToStop ? 1 : 0;
                }
            }
        }

        var inferredShare = inferred / (double)boardings;
        var accuracy = right / (double)inferred;
        output.WriteLine($"bus boardings {boardings}, destination inferred {inferredShare:P1}, right {accuracy:P1}");
        Assert.True(boardings > 500);
        Assert.True(inferredShare >= 0.80, $"inferred {inferredShare:P1}");
        Assert.True(accuracy >= 0.85, $"right {accuracy:P1}");
    }

    [Fact]
    public void Chain_MetroEntryExitPairs_GiveTheExactOd()
    {
        var day = city.Day(Date, riders: 1_000, seed: 3);
        var ours = day.Legs.Where(l => l.Level == InferenceLevel.Exact)
            .Select(l => (l.Rider, l.Origin, l.Destination, l.BoardedAt.DateTime)).Order().ToList();
        var expected = day.Plan.Legs.Where(l => l.Mode == "metro" && l.TapsOut)
            .Select(l => (SimulatedCity.Pseudonyms.Of(l.Account), (string?)l.FromStop, (string?)l.ToStop, l.Start)).Order().ToList();
        Assert.NotEmpty(expected);
        Assert.Equal(expected.Count, ours.Count);
        Assert.Equal(expected.Select(e => (e.Item1, e.Item2, e.Item3)), ours.Select(o => (o.Rider, o.Origin, o.Destination)));
    }

    [Fact]
    public void Chain_MetroLegWithoutExit_IsChainedToTheDaysFirstOrigin()
    {
        var day = city.Day(Date, riders: 1_000, seed: 3);
        var skipped = day.Plan.Legs.Where(l => !l.TapsOut).ToList();
        Assert.NotEmpty(skipped);
        foreach (var trueLeg in skipped)
        {
            var leg = day.Legs.Single(l => l.Rider == SimulatedCity.Pseudonyms.Of(trueLeg.Account) && l.Origin == trueLeg.FromStop && l.BoardedAt.DateTime == trueLeg.Start);
            Assert.Equal(InferenceLevel.FirstOrigin, leg.Level);
            Assert.Equal(trueLeg.ToStop, leg.Destination);
        }
    }

    [Fact]
    public void Chain_Transfers_MatchTheTrueTransfersWithTheirMedianTime()
    {
        var day = city.Day(Date, riders: 2_000, seed: 11);
        var truth = day.Plan.Legs.GroupBy(l => (l.Account, l.JourneyIndex))
            .SelectMany(j => j.OrderBy(l => l.Start).Zip(j.OrderBy(l => l.Start).Skip(1)))
            .Select(p => (Key: (Route(p.First.Mode, p.First.RouteId), p.First.ToStop, Route(p.Second.Mode, p.Second.RouteId), p.Second.FromStop), Seconds: (int)(p.Second.Start - p.First.End).TotalSeconds))
            .ToList();
        var previous = day.RiderDays.SelectMany(d => d.Legs.Zip(d.Legs.Skip(1))).ToList();
        var ours = previous.Where(p => p.Second.IsTransfer)
            .Select(p => (Key: (p.First.RouteId ?? "", p.First.Destination!, p.Second.RouteId ?? "", p.Second.Origin!), Seconds: p.Second.TransferSeconds!.Value))
            .ToList();

        Assert.True(truth.Count > 300);
        var expectedFlows = truth.GroupBy(t => t.Key).ToDictionary(g => g.Key, g => (Count: g.Count(), Median: Median(g.Select(t => t.Seconds))));
        var actualFlows = ours.GroupBy(t => t.Key).ToDictionary(g => g.Key, g => (Count: g.Count(), Median: Median(g.Select(t => t.Seconds))));
        Assert.Equal(expectedFlows.Keys.Order(), actualFlows.Keys.Order());
        foreach (var (flow, expected) in expectedFlows)
        {
            Assert.Equal(expected.Count, actualFlows[flow].Count);

            // A bus leg's end is estimated from the schedule's running time; a rider who shows a stale code first
            // boards a few seconds late, so medians of flows leaving a bus may differ by those seconds. Metro exits
            // are tapped, so flows leaving the metro are exact.
            Assert.InRange(actualFlows[flow].Median - expected.Median, flow.Item1.Length == 0 ? 0 : -10, flow.Item1.Length == 0 ? 0 : 10);
        }

        output.WriteLine($"{truth.Count} transfers in {expectedFlows.Count} flows, median {Median(truth.Select(t => t.Seconds))} s");
    }

    [Fact]
    public void Chain_SingleBoardingDay_LeavesTheDestinationUnknown()
    {
        var chainer = new TripChainer(city.Network, city.Options);
        var at = new DateTimeOffset(2026, 11, 24, 8, 0, 0, TimeSpan.FromHours(1));
        var legs = chainer.Chain(42, Date, [new AnalyticsTap(42, at, TapMode.Bus, "bus", "BS1624", "B1", true, "ok", "adult")]);
        var leg = Assert.Single(legs);
        Assert.Equal(InferenceLevel.None, leg.Level);
        Assert.Equal(Unresolved.SingleBoarding, leg.Unresolved);
    }

    [Fact]
    public void Chain_NextBoardingBeyondWalkingDistance_LeavesTheDestinationUnknown()
    {
        var chainer = new TripChainer(city.Network, city.Options with { MaxWalkMeters = 400 });
        var at = new DateTimeOffset(2026, 11, 24, 8, 0, 0, TimeSpan.FromHours(1));

        // B1 runs along y = +2 km; the next boarding is on B2 at y = -2 km, 4 km from every B1 stop.
        var legs = chainer.Chain(42, Date,
        [
            new AnalyticsTap(42, at, TapMode.Bus, "bus", "BS1624", "B1", true, "ok", "adult"),
            new AnalyticsTap(42, at.AddHours(3), TapMode.Bus, "bus", "BS1616", "B2", true, "ok", "adult"),
        ]);
        Assert.Equal(Unresolved.TooFar, legs[0].Unresolved);
        Assert.Null(legs[0].Destination);
    }

    [Fact]
    public void Chain_InferredBusLeg_CarriesPatternTripAndStopSequences()
    {
        var day = city.Day(Date, riders: 300, seed: 5);
        var leg = day.Legs.First(l => l.Mode == LegMode.Bus && l.Destination is not null);
        var pattern = city.Network.Patterns.Single(p => p.Id == leg.PatternId);
        Assert.Equal(leg.Origin, pattern.StopIds[pattern.StopSequences.ToList().IndexOf(leg.BoardSequence!.Value)]);
        Assert.Equal(leg.Destination, pattern.StopIds[pattern.StopSequences.ToList().IndexOf(leg.AlightSequence!.Value)]);
        Assert.True(leg.AlightSequence > leg.BoardSequence);
        Assert.Contains(pattern.Trips, t => t.TripId == leg.TripId);
    }

    [Theory]
    [InlineData("B1")]
    [InlineData(null)]
    public void Chain_BusBoardingAndTapOff_GiveTheExactDestination(string? tapOffRoute)
    {
        var chainer = new TripChainer(city.Network, city.Options);
        var (board, alight) = city.BusRide("B1");

        var legs = chainer.Chain(42, Date, [SimulatedCity.Tap(TapMode.Bus, 0, board, "B1"), SimulatedCity.Tap(TapMode.BusExit, 9, alight, tapOffRoute)]);

        var leg = Assert.Single(legs);
        Assert.Equal((board, alight, InferenceLevel.Exact, Unresolved.None), (leg.Origin, leg.Destination, leg.Level, leg.Unresolved));
        Assert.Equal(leg.BoardedAt.AddMinutes(9), leg.AlightedAt);

        // The tap-off gives the direction: the leg sits on a pattern that runs from the boarding to the tap-off stop.
        var pattern = city.Network.Patterns.Single(p => p.Id == leg.PatternId);
        Assert.Equal(board, pattern.StopIds[pattern.StopSequences.ToList().IndexOf(leg.BoardSequence!.Value)]);
        Assert.Equal(alight, pattern.StopIds[pattern.StopSequences.ToList().IndexOf(leg.AlightSequence!.Value)]);
        Assert.Contains(pattern.Trips, t => t.TripId == leg.TripId);
    }

    [Fact]
    public void Chain_BoardingWithoutRoute_TakesTheTapOffsRoute()
    {
        var chainer = new TripChainer(city.Network, city.Options);
        var (board, alight) = city.BusRide("B1");

        var leg = Assert.Single(chainer.Chain(42, Date, [SimulatedCity.Tap(TapMode.Bus, 0, board, null), SimulatedCity.Tap(TapMode.BusExit, 9, alight, "B1")]));

        Assert.Equal(("B1", alight, InferenceLevel.Exact), (leg.RouteId, leg.Destination, leg.Level));
        Assert.NotNull(leg.TripId);
    }

    [Fact]
    public void Chain_TapOffOnAnotherRoute_DoesNotCloseTheBusLeg()
    {
        var chainer = new TripChainer(city.Network, city.Options);
        var (board, _) = city.BusRide("B1");
        var (_, otherStop) = city.BusRide("B2");

        var legs = chainer.Chain(42, Date, [SimulatedCity.Tap(TapMode.Bus, 0, board, "B1"), SimulatedCity.Tap(TapMode.BusExit, 9, otherStop, "B2")]);

        var leg = Assert.Single(legs);
        Assert.Equal((board, (string?)null, InferenceLevel.None, Unresolved.SingleBoarding), (leg.Origin, leg.Destination, leg.Level, leg.Unresolved));
        Assert.Null(leg.AlightedAt);
    }

    [Fact]
    public void Chain_TapOffAfterTheMaximumJourneyTime_DoesNotCloseTheBusLeg()
    {
        var chainer = new TripChainer(city.Network, city.Options with { MaxJourneyTime = TimeSpan.FromMinutes(30) });
        var (board, alight) = city.BusRide("B1");

        var legs = chainer.Chain(42, Date, [SimulatedCity.Tap(TapMode.Bus, 0, board, "B1"), SimulatedCity.Tap(TapMode.BusExit, 31, alight, "B1")]);

        Assert.NotEqual(InferenceLevel.Exact, Assert.Single(legs).Level);
    }

    [Fact]
    public void Chain_TapOffWithoutBoarding_StartsNoLeg()
    {
        var chainer = new TripChainer(city.Network, city.Options);
        var (board, alight) = city.BusRide("B1");

        Assert.Empty(chainer.Chain(42, Date, [SimulatedCity.Tap(TapMode.BusExit, 0, alight, "B1")]));

        // Nor does it close the next boarding, which comes after it.
        var legs = chainer.Chain(42, Date, [SimulatedCity.Tap(TapMode.BusExit, 0, alight, "B1"), SimulatedCity.Tap(TapMode.Bus, 5, board, "B1")]);
        var leg = Assert.Single(legs);
        Assert.Equal((board, (string?)null), (leg.Origin, leg.Destination));
    }

    [Fact]
    public void Chain_BusTapOff_DoesNotCloseAMetroEntry()
    {
        var chainer = new TripChainer(city.Network, city.Options);
        var station = city.Network.StationsOf(SyntheticCity.MetroOperator)[0];
        var (_, alight) = city.BusRide("B1");

        var legs = chainer.Chain(42, Date, [SimulatedCity.Tap(TapMode.MetroEntry, 0, station, null), SimulatedCity.Tap(TapMode.BusExit, 9, alight, "B1")]);

        var leg = Assert.Single(legs);
        Assert.Equal(LegMode.Metro, leg.Mode);
        Assert.NotEqual(InferenceLevel.Exact, leg.Level);
    }

    private static string Route(string mode, string routeId) => mode == "metro" ? "" : routeId;

    private static double Median(IEnumerable<int> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2.0;
    }
}
