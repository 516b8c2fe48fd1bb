namespace Transit.FareRules.Tests;

/// <summary>The real feeds: Zakroczym (zones, rider categories, CRLF) and MBTA (large, messy, extra columns).</summary>
public class RealFeedTests
{
    private static readonly Lazy<FareFeed> Zakroczym = new(() => FareFeed.Load(Paths.RealFeed("zakroczym")));
    private static readonly Lazy<FareFeed> Mbta = new(() => FareFeed.Load(Paths.RealFeed("mbta-fares")));

    private static FareLeg Warsaw(string route, string from, string to, string? category = null, string? media = null)
    {
        var start = new DateTimeOffset(2025, 11, 18, 7, 30, 0, TimeSpan.FromHours(1));
        return new FareLeg(route, from, to, start, start.AddMinutes(20), category, media);
    }

    private static FareLeg Boston(string route, string from, string to, string start, string end, string? media) =>
        new(route, from, to, DateTimeOffset.Parse($"2024-10-01T{start}:00-04:00", System.Globalization.CultureInfo.InvariantCulture), DateTimeOffset.Parse($"2024-10-01T{end}:00-04:00", System.Globalization.CultureInfo.InvariantCulture), null, media);

    [Fact]
    public void Load_Zakroczym_HasNoErrorAndReadsCrlfFiles()
    {
        var feed = Zakroczym.Value;

        Assert.False(feed.Report.HasErrors, string.Join("\n", feed.Report.Notices));
        Assert.Equal("Komunikacja Gminna Zakroczym", feed.Agencies["0"].Name);
        Assert.Equal("Europe/Warsaw", feed.Agencies["0"].TimeZoneId);
        Assert.Equal("0", feed.DefaultRiderCategoryId);
        Assert.Equal("PLN", feed.Currency);
        Assert.Equal(9, feed.FareLegRules.Count);
        Assert.Equal(["1"], feed.AreasOf("100"));
    }

    [Theory]
    [InlineData("100", "117", "4.00", "single_ride_zones12_normal")]
    [InlineData("117", "100", "4.00", "single_ride_zones12_normal")]
    [InlineData("100", "120", "5.00", "single_ride_zones13_normal")]
    [InlineData("118", "121", "4.00", "single_ride_zones23_normal")]
    [InlineData("100", "110", "0.00", "single_ride_zone1_normal")]
    public void Price_ZakroczymZonePairs_CostWhatFareProductsSay(string from, string to, string amount, string product)
    {
        var fare = new FareEngine(Zakroczym.Value).Price([Warsaw("Z1", from, to)]);

        Assert.False(fare.IsUnpriced);
        Assert.Equal(amount, fare.FormatTotal());
        Assert.Equal("PLN", fare.Currency);
        Assert.Equal(product, fare.Legs[0].FareProductId);
        Assert.Equal("0", fare.Legs[0].AgencyId);
    }

    [Fact]
    public void Load_Zakroczym_WarnsThatItsBusFaresNeedTheAlightingZone()
    {
        var notice = Assert.Single(Zakroczym.Value.Report.Notices, n => n.Code == NoticeCodes.FareNeedsDestinationWithoutTapOut);

        Assert.Equal(NoticeSeverity.Warning, notice.Severity);
        Assert.Contains("Z1", notice.Message, StringComparison.Ordinal);
        Assert.Contains("bus-exit", notice.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("100", 500, "single_ride_zones13_normal")]
    [InlineData("117", 400, "single_ride_zones12_normal")]
    public void Price_ZakroczymBoardingWithoutAlighting_ChargesTheDearestFareFromTheBoardingZoneAndStaysFlagged(string from, long amount, string product)
    {
        // Every Zakroczym fare depends on the zone where the rider gets off; a bus boarding alone cannot know it.
        var leg = Warsaw("Z1", from, null!);

        var fare = new FareEngine(Zakroczym.Value).Price([leg]);

        Assert.Equal(amount, fare.Total);
        Assert.Equal(product, fare.Legs[0].FareProductId);
        Assert.True(fare.IsUnpriced);
        Assert.Equal(FareFlags.Unpriced, fare.Legs[0].Flags & FareFlags.Unpriced);
    }

    [Fact]
    public void Price_ZakroczymBoardingWithoutAlighting_TakesTheNetworksConfiguredDefaultFareOrStaysAtZeroWhenAsked()
    {
        var leg = Warsaw("Z1", "100", null!);

        var fixedFare = new FareEngine(Zakroczym.Value, new PricingOptions { DefaultFares = new Dictionary<string, long> { [""] = 300 } }).Price([leg]);
        var left = new FareEngine(Zakroczym.Value, new PricingOptions { UnpricedLegs = UnpricedLegPolicy.LeaveUnpriced }).Price([leg]);

        Assert.Equal((300L, true), (fixedFare.Total, fixedFare.IsUnpriced));
        Assert.Equal((0L, true), (left.Total, left.IsUnpriced));
    }

    [Fact]
    public void Price_ZakroczymReducedCategory_HasNoSingleFareUnlessFallingBack()
    {
        var leg = Warsaw("Z1", "100", "117", category: "3");

        Assert.True(new FareEngine(Zakroczym.Value).Price([leg]).IsUnpriced);
        var fallback = new FareEngine(Zakroczym.Value, new PricingOptions { FallBackToDefaultCategory = true }).Price([leg]);
        Assert.Equal(400, fallback.Total);
        Assert.True((fallback.Flags & FareFlags.CategoryFallback) != 0);
    }

    [Fact]
    public void Price_ZakroczymMonthlyTicketMedia_HasNoSingleRideProduct()
    {
        Assert.True(new FareEngine(Zakroczym.Value).Price([Warsaw("Z1", "100", "117", media: "1")]).IsUnpriced);
        Assert.Equal(400, new FareEngine(Zakroczym.Value).Price([Warsaw("Z1", "100", "117", media: "0")]).Total);
    }

    [Fact]
    public void Load_Mbta_HasNoErrorDespiteExtraColumns()
    {
        var feed = Mbta.Value;

        Assert.False(feed.Report.HasErrors, string.Join("\n", feed.Report.Notices.Where(n => n.Severity == NoticeSeverity.Error).Take(5)));
        Assert.Equal(677, feed.FareLegRules.Count);
        Assert.Equal(37, feed.FareTransferRules.Count);
        Assert.False(feed.HasRulePriority);
        Assert.Equal("local_bus_restricted", feed.Routes["714"].NetworkId);
        Assert.Equal("rapid_transit", feed.Routes["Red"].NetworkId);
        // Zone fares on commuter rail and ferries, which have no tap-out, are warned about too.
        Assert.All(feed.Report.Notices, n => Assert.Contains(n.Code, (string[])[NoticeCodes.FareLegRuleTimeframeNotFound, NoticeCodes.FareNeedsDestinationWithoutTapOut]));
        Assert.Equal(185, feed.Report.Notices.Count(n => n.Code == NoticeCodes.FareLegRuleTimeframeNotFound));
        Assert.True(feed.FareLegRules.Single(r => r.Line == 462).TransferOnly);
    }

    [Theory]
    [InlineData("Red", "70063", "70075", "charlieticket", "2.40", "prod_rapid_transit_quick_subway")]
    [InlineData("Orange", "70036", "70014", "charlieticket", "2.40", "prod_rapid_transit_quick_subway")]
    [InlineData("Green-B", "70106", "70196", "cash", "2.40", "prod_rapid_transit_cash")]
    [InlineData("1", "110", "10", "cash", "1.70", "prod_local_bus")]
    [InlineData("1", "110", "10", "charlieticket", "2.40", "prod_rapid_transit_quick_subway")]
    [InlineData("66", "64", "1123", "cash", "1.70", "prod_local_bus")]
    public void Price_MbtaSubwayAndLocalBus_ByFareMedia(string route, string from, string to, string media, string amount, string product)
    {
        var fare = new FareEngine(Mbta.Value).Price([Boston(route, from, to, "08:00", "08:20", media)]);

        Assert.False(fare.IsUnpriced, fare.Flags.ToString());
        Assert.Equal(amount, fare.FormatTotal());
        Assert.Equal("USD", fare.Currency);
        Assert.Equal(product, fare.Legs[0].FareProductId);
    }

    [Fact]
    public void Price_MbtaCashAtASubwayGate_IsUnpriced()
    {
        // The feed prices subway cash only at surface Green Line stops or as a transfer (its transfer_only column).
        Assert.True(new FareEngine(Mbta.Value).Price([Boston("Red", "70063", "70075", "08:00", "08:20", "cash")]).IsUnpriced);
    }

    [Fact]
    public void Price_MbtaSubwayThenBusWithinTwoHours_TransfersFree()
    {
        var engine = new FareEngine(Mbta.Value);

        var within = engine.Price([Boston("Red", "70063", "70075", "08:00", "08:20", "charlieticket"), Boston("1", "110", "10", "09:30", "09:50", "charlieticket")]);
        var after = engine.Price([Boston("Red", "70063", "70075", "08:00", "08:20", "charlieticket"), Boston("1", "110", "10", "10:01", "10:20", "charlieticket")]);

        Assert.Equal("2.40", within.FormatTotal());
        Assert.True((within.Legs[1].Flags & FareFlags.Transfer) != 0);
        Assert.Equal("4.80", after.FormatTotal());
    }

    [Fact]
    public void Price_MbtaSubwayToSubway_TransfersFreeWithoutLimit()
    {
        var fare = new FareEngine(Mbta.Value).Price(
        [
            Boston("Red", "70063", "70075", "08:00", "08:20", "charlieticket"),
            Boston("Orange", "70036", "70014", "11:00", "11:20", "charlieticket"),
        ]);

        Assert.Equal("2.40", fare.FormatTotal());
    }

    [Fact]
    public void Price_MbtaCashBusThenCashSubway_LeavesTheSubwayLegUnpriced()
    {
        // Cash subway legs are priced only when reached by transfer; no rule transfers from a cash bus, so it stays unpriced.
        var fare = new FareEngine(Mbta.Value).Price([Boston("1", "110", "10", "08:00", "08:20", "cash"), Boston("Red", "70063", "70075", "08:30", "08:50", "cash")]);

        Assert.Equal("1.70", fare.FormatTotal());
        Assert.True((fare.Legs[1].Flags & FareFlags.Unpriced) != 0);
    }
}
