using Transit.Clearing.Ingest;
using Transit.Clearing.Journeys;
using Transit.Clearing.Settlement;

namespace Transit.Clearing.Tests;

public sealed class ApportionmentTests
{
    [Theory]
    [InlineData(100L, new long[] { 1, 1, 1 }, new long[] { 34, 33, 33 })]
    [InlineData(40L, new long[] { 280, 280, 280 }, new long[] { 14, 13, 13 })]
    [InlineData(-200L, new long[] { 160, 100, 200 }, new long[] { -70, -43, -87 })]
    [InlineData(7L, new long[] { 0, 0 }, new long[] { 4, 3 })]
    [InlineData(0L, new long[] { 5, 9 }, new long[] { 0, 0 })]
    public void LargestRemainder_Splits_SumExactly(long total, long[] weights, long[] expected)
    {
        var parts = Apportionment.LargestRemainder(total, weights);
        Assert.Equal(expected, parts);
        Assert.Equal(total, parts.Sum());
    }

    [Fact]
    public void LargestRemainder_HugeAmounts_DoNotOverflow()
    {
        var parts = Apportionment.LargestRemainder(long.MaxValue, [long.MaxValue, long.MaxValue, 1]);
        Assert.Equal(long.MaxValue, parts.Aggregate(0L, (a, b) => checked(a + b)));
    }

    [Fact]
    public void LargestRemainder_NoPartsOrNoWeights_NothingToSplitOrRefused()
    {
        Assert.Empty(Apportionment.LargestRemainder(0, []));
        Assert.Contains("non-zero amount over nothing", Assert.Throws<ArgumentException>(() => Apportionment.LargestRemainder(1, [])).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentNullException>(() => Apportionment.LargestRemainder(1, null!));
    }

    [Theory]
    [InlineData(560L, 150, 8L)]
    [InlineData(100L, 150, 2L)]
    [InlineData(-100L, 150, -2L)]
    [InlineData(160L, 150, 2L)]
    [InlineData(0L, 150, 0L)]
    public void Fee_BasisPoints_RoundHalfAwayFromZero(long gross, int bps, long fee) => Assert.Equal(fee, Apportionment.Fee(gross, bps));
}

public sealed class JourneyBuilderTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 18, 7, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Build_EntryExitPairsAndBusBoarding_LinksTransfersWithinTheWindow()
    {
        var journeys = JourneyBuilder.Build(
        [
            Tap(0, TapMode.Bus, stop: "BS1", route: "B1"),
            Tap(20, TapMode.MetroEntry, station: "CEN"),
            Tap(35, TapMode.MetroExit, station: "E1"),
            Tap(600, TapMode.MetroEntry, station: "E1"),
            Tap(615, TapMode.MetroExit, station: "W1"),
        ], TimeSpan.FromHours(3), TimeSpan.FromMinutes(90));

        Assert.Equal(2, journeys.Count);
        Assert.Equal(2, journeys[0].Legs.Count);
        Assert.Equal(("CEN", "E1"), (journeys[0].Legs[1].FromStopId, journeys[0].Legs[1].ToStopId));
        Assert.False(journeys[1].Legs[0].Incomplete);
    }

    [Fact]
    public void Build_BusTapOff_PairsWithTheBoardingOnItsRouteOnly()
    {
        var journeys = JourneyBuilder.Build(
        [
            Tap(0, TapMode.Bus, stop: "100", route: "Z1"),
            Tap(20, TapMode.BusExit, stop: "117", route: "Z1"),
            Tap(30, TapMode.Bus, stop: "117", route: "Z2"),
            Tap(50, TapMode.BusExit, stop: "120", route: "Z3"),
            Tap(60, TapMode.Bus, stop: "120", route: "Z3"),
        ], TimeSpan.FromHours(3), TimeSpan.FromMinutes(90));

        var legs = journeys.SelectMany(j => j.Legs).ToList();
        Assert.Equal(
            [("100", "117", false, false), ("117", null, false, false), ("120", null, true, false), ("120", null, false, false)],
            legs.Select(l => (l.FromStopId, l.ToStopId, l.MissingEntry, l.MissingExit)));
        Assert.All(legs, l => Assert.Equal(TapMode.Bus, l.Mode));
        Assert.Equal(("d", 20L), legs[0].ExitTap);
    }

    [Fact]
    public void Build_UnpairedTaps_BecomeMissingExitAndMissingEntry()
    {
        var journeys = JourneyBuilder.Build(
        [
            Tap(0, TapMode.MetroEntry, station: "W1"),
            Tap(300, TapMode.MetroEntry, station: "CEN"),
            Tap(305, TapMode.MetroExit, station: "E1"),
            Tap(700, TapMode.MetroExit, station: "E2"),
            Tap(900, TapMode.MetroEntry, station: "S1"),
            Tap(1200, TapMode.MetroExit, station: "N1"),
        ], TimeSpan.FromHours(3), TimeSpan.FromMinutes(90));

        var legs = journeys.SelectMany(j => j.Legs).ToList();
        Assert.Equal(5, legs.Count);
        Assert.True(legs[0].MissingExit);
        Assert.False(legs[1].Incomplete);
        Assert.True(legs[2].MissingEntry);
        Assert.True(legs[3].MissingExit);
        Assert.True(legs[4].MissingEntry);
    }

    private static AccountTap Tap(int minutes, TapMode mode, string? station = null, string? stop = null, string? route = null) =>
        new(T0.AddMinutes(minutes), mode, mode == TapMode.Bus ? "bus" : "metro", station, stop, route, "adult", "d", minutes);
}

public sealed class ContentHashTests
{
    /// <summary>Hashes in the ledger were made as SHA-256 of the fields joined by U+001F; a retry must still match them.</summary>
    [Theory]
    [InlineData("gate-1", 41L, true, "ok", "metro-entry", "S01", null, null)]
    [InlineData("bus-17", 9_000_000_001L, false, "stale", "bus", null, "BS1624", "B1")]
    [InlineData("gate-ü", 1L, true, "passback", "metro-exit", "Ümlaut station", "", null)]
    public void ContentHash_MatchesTheJoinedFieldsHash(string device, long seq, bool accepted, string reason, string mode, string? station, string? stop, string? route)
    {
        var tap = new TapRecord
        {
            Seq = seq, At = new DateTimeOffset(2026, 11, 21, 8, 30, 1, 123, TimeSpan.FromHours(1)), Code = "TR1:" + new string('A', 300), Accepted = accepted,
            Reason = reason, Mode = mode, OperatorId = "metro", StationId = station, StopId = stop, RouteId = route,
        };
        var text = string.Join('\u001f', device, tap.Seq, tap.At.UtcTicks, tap.Code, tap.Accepted, tap.Reason, tap.Mode, tap.OperatorId, tap.StationId, tap.StopId, tap.RouteId);
        var expected = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text))[..16];

        Assert.Equal(expected, IngestService.ContentHash(device, tap));

        tap = tap with { StationId = new string('x', 2_000) };
        text = string.Join('\u001f', device, tap.Seq, tap.At.UtcTicks, tap.Code, tap.Accepted, tap.Reason, tap.Mode, tap.OperatorId, tap.StationId, tap.StopId, tap.RouteId);
        Assert.Equal(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text))[..16], IngestService.ContentHash(device, tap));
    }
}
