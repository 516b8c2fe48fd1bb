namespace Transit.FareRules.Tests;

/// <summary>Matching legs to fare_leg_rules.txt: networks, areas, timeframes, rule_priority, categories and media.</summary>
public class LegMatchingTests
{
    private static JourneyFare Price(FareFeed feed, params FareLeg[] legs) => new FareEngine(feed).Price(legs);

    private static JourneyFare Price(FareFeed feed, PricingOptions options, params FareLeg[] legs) => new FareEngine(feed, options).Price(legs);

    // Re-expresses OTP's AreasTest: rules to the outer zone, from it, and inner → outer, without rule_priority.
    private static readonly (string, string)[] AreaFiles =
    [
        ("areas.txt", "area_id\ninner\nouter\n"),
        ("stop_areas.txt", "area_id,stop_id\ninner,s1\nouter,s2\n"),
        ("fare_products.txt", "fare_product_id,amount,currency\nsingle_to_outer,1.00,USD\nsingle_from_outer,1.50,USD\nzone_ab_single,5.00,USD\n"),
        ("fare_leg_rules.txt", "leg_group_id,from_area_id,to_area_id,fare_product_id\ng,,outer,single_to_outer\ng,outer,,single_from_outer\ng,inner,outer,zone_ab_single\n"),
    ];

    [Fact]
    public void Price_FromAndToArea_MatchesTheExactRuleOnly()
    {
        var fare = Price(Feeds.Valid(AreaFiles), Feeds.Leg("rA", "s1", "s2", "10:00", "10:30"));

        Assert.Equal(500, fare.Total);
        Assert.Equal("zone_ab_single", fare.Legs[0].FareProductId);
    }

    [Fact]
    public void Price_OnlyToArea_BlankFromMatchesAStopInNoListedArea()
    {
        var fare = Price(Feeds.Valid(AreaFiles), Feeds.Leg("rA", "s3", "s2", "10:00", "10:30"));

        Assert.Equal("single_to_outer", fare.Legs[0].FareProductId);
        Assert.Equal(100, fare.Total);
    }

    [Fact]
    public void Price_OnlyFromArea_BlankToMatchesAStopInNoListedArea()
    {
        var fare = Price(Feeds.Valid(AreaFiles), Feeds.Leg("rA", "s2", "s3", "10:00", "10:30"));

        Assert.Equal("single_from_outer", fare.Legs[0].FareProductId);
    }

    [Fact]
    public void Price_StopInNoMatchingRule_IsUnpricedNotFree()
    {
        // No rule goes from s1 (inner) to s3: the unpriced-leg policy charges the dearest fare from inner, flagged.
        var fare = Price(Feeds.Valid(AreaFiles), Feeds.Leg("rA", "s1", "s3", "10:00", "10:30"));
        var left = new FareEngine(Feeds.Valid(AreaFiles), new PricingOptions { UnpricedLegs = UnpricedLegPolicy.LeaveUnpriced })
            .Price([Feeds.Leg("rA", "s1", "s3", "10:00", "10:30")]);

        Assert.True(fare.IsUnpriced);
        Assert.Equal(FareFlags.Unpriced, fare.Legs[0].Flags & FareFlags.Unpriced);
        Assert.Equal(("zone_ab_single", 500L), (fare.Legs[0].FareProductId, fare.Total));
        Assert.True(left.IsUnpriced);
        Assert.Null(left.Legs[0].FareProductId);
        Assert.Equal(0, left.Total);
    }

    [Fact]
    public void Price_PlatformOfStationInArea_InheritsTheStationsArea()
    {
        var feed = Feeds.Valid(
            ("areas.txt", "area_id\ncentral\nwest_wing\n"),
            ("stop_areas.txt", "area_id,stop_id\ncentral,st1\nwest_wing,p1b\n"),
            ("fare_products.txt", "fare_product_id,amount,currency\ncentral_fare,3.00,USD\nwing_fare,4.00,USD\n"),
            ("fare_leg_rules.txt", "from_area_id,fare_product_id\ncentral,central_fare\nwest_wing,wing_fare\n"));

        Assert.Equal(["central"], feed.AreasOf("p1a"));
        Assert.Equal(["west_wing"], feed.AreasOf("p1b"));
        Assert.Equal("central_fare", Price(feed, Feeds.Leg("rM", "p1a", "s1", "10:00", "10:10")).Legs[0].FareProductId);
        Assert.Equal("central_fare", Price(feed, Feeds.Leg("rM", "st1", "s1", "10:00", "10:10")).Legs[0].FareProductId);
        Assert.Equal("wing_fare", Price(feed, Feeds.Leg("rM", "p1b", "s1", "10:00", "10:10")).Legs[0].FareProductId);
    }

    [Fact]
    public void Price_BlankNetworkWithoutPriority_MatchesOnlyNetworksNoRuleLists()
    {
        var feed = Feeds.Valid(
            ("fare_products.txt", "fare_product_id,amount,currency\na,1.00,USD\nother,3.00,USD\n"),
            ("fare_leg_rules.txt", "network_id,fare_product_id\nnetA,a\n,other\n"));

        Assert.Equal("a", Price(feed, Feeds.Leg("rA", "s1", "s2", "10:00", "10:10")).Legs[0].FareProductId);
        Assert.Equal("other", Price(feed, Feeds.Leg("rB", "s1", "s2", "10:00", "10:10")).Legs[0].FareProductId);
        Assert.Equal("other", Price(feed, Feeds.Leg("rN", "s1", "s2", "10:00", "10:10")).Legs[0].FareProductId);
    }

    [Fact]
    public void Price_BlankNetworkWithPriority_MatchesEveryNetworkAndHighestPriorityWins()
    {
        var feed = Feeds.Valid(
            ("fare_products.txt", "fare_product_id,amount,currency\na,1.00,USD\nflat,3.00,USD\n"),
            ("fare_leg_rules.txt", "network_id,fare_product_id,rule_priority\nnetA,a,0\n,flat,1\n"));

        var fare = Price(feed, Feeds.Leg("rA", "s1", "s2", "10:00", "10:10"));

        Assert.Equal("flat", fare.Legs[0].FareProductId);
        Assert.Equal(300, fare.Total);
    }

    // Re-expresses OTP's SameGroupIdPriorityTest: a network rule and an area rule, with and without priority.
    [Theory]
    [InlineData("network_id,from_area_id,to_area_id,fare_product_id\nnetA,,,r1\n,z,z,r2\n", null)]
    [InlineData("network_id,from_area_id,to_area_id,fare_product_id,rule_priority\nnetA,,,r1,0\n,z,z,r2,2\n", "r2")]
    [InlineData("network_id,from_area_id,to_area_id,fare_product_id,rule_priority\nnetA,,,r1,1\nnetA,,,r2,2\n", "r2")]
    [InlineData("network_id,from_area_id,to_area_id,fare_product_id\n,z,z,r1\n,z,z,r2\n", "r1")]
    public void Price_MixedNetworkAndAreaRules_FollowBlankAndPrioritySemantics(string rules, string? expected)
    {
        var feed = Feeds.Valid(
            ("areas.txt", "area_id\nz\n"),
            ("stop_areas.txt", "area_id,stop_id\nz,s1\nz,s2\n"),
            ("fare_products.txt", "fare_product_id,amount,currency\nr1,1.00,USD\nr2,2.00,USD\n"),
            ("fare_leg_rules.txt", rules));

        var fare = Price(feed, Feeds.Leg("rA", "s1", "s2", "10:00", "10:10"));

        Assert.Equal(expected, fare.Legs[0].FareProductId);
        Assert.Equal(expected is null, fare.IsUnpriced);
    }

    [Fact]
    public void Price_SeveralRulesWithoutPriority_CheapestWins()
    {
        var feed = Feeds.Valid(
            ("fare_products.txt", "fare_product_id,amount,currency\ndear,2.00,USD\ncheap,1.00,USD\n"),
            ("fare_leg_rules.txt", "network_id,fare_product_id\nnetA,dear\nnetA,cheap\n"));

        Assert.Equal("cheap", Price(feed, Feeds.Leg("rA", "s1", "s2", "10:00", "10:10")).Legs[0].FareProductId);
    }

    [Fact]
    public void Price_HigherPriorityDearerRule_WinsOverCheaperRule()
    {
        var feed = Feeds.Valid(
            ("fare_products.txt", "fare_product_id,amount,currency\ndear,2.00,USD\ncheap,1.00,USD\n"),
            ("fare_leg_rules.txt", "network_id,fare_product_id,rule_priority\nnetA,dear,1\nnetA,cheap,\n"));

        Assert.Equal(200, Price(feed, Feeds.Leg("rA", "s1", "s2", "10:00", "10:10")).Total);
    }

    // Re-expresses OTP's OverlappingTimeframeTest and OverlappingTimeframesWithPriorityTest.
    private static FareFeed TimeframeFeed(bool priority) => Feeds.Valid(
        ("timeframes.txt", "timeframe_group_id,start_time,end_time,service_id\nall_day,,,all\nthree_to_five,15:00:00,17:00:00,all\n"),
        ("fare_products.txt", "fare_product_id,amount,currency\nday_fare,2.00,USD\nafternoon_fare,1.00,USD\n"),
        ("fare_leg_rules.txt", priority
            ? "from_timeframe_group_id,fare_product_id,rule_priority\nall_day,day_fare,1\nthree_to_five,afternoon_fare,0\n"
            : "from_timeframe_group_id,fare_product_id\nall_day,day_fare\nthree_to_five,afternoon_fare\n"));

    [Fact]
    public void Price_OverlappingTimeframesWithoutPriority_BothMatchAndCheapestWins()
    {
        var feed = TimeframeFeed(priority: false);

        Assert.Equal("afternoon_fare", Price(feed, Feeds.Leg("rA", "s1", "s2", "15:00", "15:10")).Legs[0].FareProductId);
        Assert.Equal("day_fare", Price(feed, Feeds.Leg("rA", "s1", "s2", "10:00", "10:10")).Legs[0].FareProductId);
        Assert.Equal("day_fare", Price(feed, Feeds.Leg("rA", "s1", "s2", "17:00", "17:10")).Legs[0].FareProductId);
    }

    [Fact]
    public void Price_OverlappingTimeframesWithPriority_OnlyTheHigherPriorityRuleMatches()
    {
        var feed = TimeframeFeed(priority: true);

        Assert.Equal("day_fare", Price(feed, Feeds.Leg("rA", "s1", "s2", "15:00", "15:10")).Legs[0].FareProductId);
    }

    [Fact]
    public void Price_ToTimeframe_UsesTheArrivalTime()
    {
        var feed = Feeds.Valid(
            ("timeframes.txt", "timeframe_group_id,start_time,end_time,service_id\nevening,18:00:00,24:00:00,all\n"),
            ("fare_products.txt", "fare_product_id,amount,currency\nevening_fare,1.00,USD\n"),
            ("fare_leg_rules.txt", "to_timeframe_group_id,fare_product_id\nevening,evening_fare\n"));

        Assert.False(Price(feed, Feeds.Leg("rA", "s1", "s2", "17:40", "18:05")).IsUnpriced);
        Assert.True(Price(feed, Feeds.Leg("rA", "s1", "s2", "17:40", "17:55")).IsUnpriced);
    }

    [Fact]
    public void Price_TimeframeService_AppliesOnlyOnItsDays()
    {
        var feed = Feeds.Valid(
            ("timeframes.txt", "timeframe_group_id,start_time,end_time,service_id\npeak,07:00:00,09:00:00,weekdays\n"),
            ("fare_products.txt", "fare_product_id,amount,currency\npeak_fare,3.00,USD\noff_peak_fare,2.00,USD\n"),
            ("fare_leg_rules.txt", "from_timeframe_group_id,fare_product_id,rule_priority\npeak,peak_fare,1\n,off_peak_fare,0\n"));

        Assert.Equal(300, Price(feed, Feeds.Leg("rA", "s1", "s2", "08:00", "08:10")).Total);
        Assert.Equal(200, Price(feed, Feeds.Leg("rA", "s1", "s2", "08:00", "08:10", day: new DateOnly(2024, 10, 5))).Total);
        Assert.Equal(200, Price(feed, Feeds.Leg("rA", "s1", "s2", "09:00", "09:10")).Total);
    }

    [Fact]
    public void Price_TimeframeAfterMidnight_UsesTheCalendarDayOfTheEvent()
    {
        var feed = Feeds.Valid(
            ("calendar.txt", "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\nsat,0,0,0,0,0,1,0,20240101,20261231\n"),
            ("timeframes.txt", "timeframe_group_id,start_time,end_time,service_id\nsaturday_night,00:00:00,05:00:00,sat\n"),
            ("fare_products.txt", "fare_product_id,amount,currency\nnight,4.00,USD\n"),
            ("fare_leg_rules.txt", "from_timeframe_group_id,fare_product_id\nsaturday_night,night\n"));

        // 00:30 on Saturday 5 October matches; 00:30 on Friday 4 October (a trip of Thursday's service day) does not.
        Assert.False(Price(feed, Feeds.Leg("rA", "s1", "s2", "00:30", "00:50", day: new DateOnly(2024, 10, 5))).IsUnpriced);
        Assert.True(Price(feed, Feeds.Leg("rA", "s1", "s2", "00:30", "00:50", day: new DateOnly(2024, 10, 4))).IsUnpriced);
    }

    [Fact]
    public void Price_EventTime_IsConvertedToTheStopTimezone()
    {
        var feed = Feeds.Valid(
            ("timeframes.txt", "timeframe_group_id,start_time,end_time,service_id\nmorning,06:00:00,09:00:00,all\n"),
            ("fare_products.txt", "fare_product_id,amount,currency\nmorning_fare,1.00,USD\n"),
            ("fare_leg_rules.txt", "from_timeframe_group_id,fare_product_id\nmorning,morning_fare\n"));
        var utc = new DateTimeOffset(2024, 10, 1, 12, 0, 0, TimeSpan.Zero);

        // 12:00 UTC is 08:00 in New York (the agency) but 05:00 at the stop in Los Angeles.
        Assert.False(Price(feed, new FareLeg("rA", "s1", "s2", utc, utc.AddMinutes(10))).IsUnpriced);
        Assert.True(Price(feed, new FareLeg("rA", "west", "s2", utc, utc.AddMinutes(10))).IsUnpriced);
    }

    private static readonly (string, string)[] CategoryFiles =
    [
        ("rider_categories.txt", "rider_category_id,rider_category_name,is_default_fare_category\nadult,Adult,1\nchild,Child,0\nsenior,Senior,0\n"),
        ("fare_products.txt", "fare_product_id,rider_category_id,amount,currency\nsingle,adult,2.00,USD\nsingle,child,1.00,USD\nday_pass,,5.00,USD\n"),
        ("fare_leg_rules.txt", "network_id,fare_product_id\nnetA,single\nnetB,day_pass\n"),
    ];

    [Theory]
    [InlineData(null, "adult", 200)]
    [InlineData("adult", "adult", 200)]
    [InlineData("child", "child", 100)]
    public void Price_RiderCategory_UsesItsProductAndTheDefaultWhenNoneIsGiven(string? category, string expectedCategory, long expected)
    {
        var fare = Price(Feeds.Valid(CategoryFiles), Feeds.Leg("rA", "s1", "s2", "10:00", "10:10", category));

        Assert.Equal(expected, fare.Total);
        Assert.Equal(expectedCategory, fare.RiderCategoryId);
    }

    [Fact]
    public void Price_CategoryWithoutProduct_IsUnpricedOrFallsBackWhenAllowed()
    {
        var feed = Feeds.Valid(CategoryFiles);

        Assert.True(Price(feed, Feeds.Leg("rA", "s1", "s2", "10:00", "10:10", "senior")).IsUnpriced);
        var fallback = Price(feed, new PricingOptions { FallBackToDefaultCategory = true }, Feeds.Leg("rA", "s1", "s2", "10:00", "10:10", "senior"));
        Assert.Equal(200, fallback.Total);
        Assert.True((fallback.Flags & FareFlags.CategoryFallback) != 0);
    }

    [Fact]
    public void Price_ProductWithoutCategory_IsEligibleForEveryCategory()
    {
        var feed = Feeds.Valid(CategoryFiles);

        Assert.Equal(500, Price(feed, Feeds.Leg("rB", "s1", "s2", "10:00", "10:10", "senior")).Total);
        Assert.Equal(500, Price(feed, Feeds.Leg("rB", "s1", "s2", "10:00", "10:10", "unknown")).Total);
    }

    private static readonly (string, string)[] MediaFiles =
    [
        ("fare_media.txt", "fare_media_id,fare_media_type\ncard,2\ncash,0\napp,4\nticket,1\n"),
        ("fare_products.txt", "fare_product_id,fare_media_id,amount,currency\nsingle,card,2.00,USD\nsingle,cash,2.50,USD\nsingle,,3.00,USD\nticketed,ticket,4.00,USD\n"),
        ("fare_leg_rules.txt", "network_id,fare_product_id\nnetA,single\nnetB,ticketed\n"),
    ];

    [Theory]
    [InlineData("card", 200)]
    [InlineData("cash", 250)]
    [InlineData("app", 300)]
    [InlineData("token", 300)]
    [InlineData(null, 200)]
    public void Price_FareMedia_ChoosesTheMediasRowThenTheUnknownMediaRow(string? media, long expected) =>
        Assert.Equal(expected, Price(Feeds.Valid(MediaFiles), Feeds.Leg("rA", "s1", "s2", "10:00", "10:10", media: media)).Total);

    [Fact]
    public void Price_ProductNotSoldForTheMedia_IsUnpriced()
    {
        var feed = Feeds.Valid(MediaFiles);

        Assert.True(Price(feed, Feeds.Leg("rB", "s1", "s2", "10:00", "10:10", media: "card")).IsUnpriced);
        Assert.Equal(400, Price(feed, Feeds.Leg("rB", "s1", "s2", "10:00", "10:10", media: "ticket")).Total);
    }

    [Fact]
    public void Price_RuleForAnotherMedia_DoesNotHideTheBlankRule()
    {
        // Cash is accepted only at the street stop s1; card holders pay the blank-area rule everywhere (as in the MBTA feed).
        var feed = Feeds.Valid(
            ("areas.txt", "area_id\nstreet\n"),
            ("stop_areas.txt", "area_id,stop_id\nstreet,s1\n"),
            ("fare_media.txt", "fare_media_id,fare_media_type\ncard,2\ncash,0\n"),
            ("fare_products.txt", "fare_product_id,fare_media_id,amount,currency\ncash_fare,cash,2.40,USD\ncard_fare,card,2.40,USD\n"),
            ("fare_leg_rules.txt", "network_id,from_area_id,fare_product_id\nmetro,street,cash_fare\nmetro,,card_fare\n"));
        var engine = new FareEngine(feed, new PricingOptions { TapOutNetworks = new HashSet<string>() });

        Assert.Equal("card_fare", engine.Price([Feeds.Leg("rM", "s1", "s2", "10:00", "10:10", media: "card")]).Legs[0].FareProductId);
        Assert.Equal("cash_fare", engine.Price([Feeds.Leg("rM", "s1", "s2", "10:00", "10:10", media: "cash")]).Legs[0].FareProductId);
        Assert.True(engine.Price([Feeds.Leg("rM", "s3", "s2", "10:00", "10:10", media: "cash")]).IsUnpriced);
    }

    [Fact]
    public void Price_UnknownRouteOrStop_IsFlagged()
    {
        var feed = Feeds.Valid(("fare_products.txt", "fare_product_id,amount,currency\nflat,2.00,USD\n"), ("fare_leg_rules.txt", "fare_product_id\nflat\n"));

        var fare = Price(feed, Feeds.Leg("nope", "s1", "mystery", "10:00", "10:10"));

        Assert.True((fare.Flags & FareFlags.UnknownReference) != 0);
        Assert.Null(fare.Legs[0].AgencyId);
        Assert.Equal(200, fare.Total);
    }

    [Fact]
    public void Price_Breakdown_NamesAgencyNetworkGroupAndRuleLine()
    {
        var feed = Feeds.Valid(("fare_products.txt", "fare_product_id,amount,currency\nflat,2.00,USD\n"), ("fare_leg_rules.txt", "leg_group_id,network_id,fare_product_id\nother,netB,flat\nbus,netA,flat\n"));

        var leg = Price(feed, Feeds.Leg("rA", "s1", "s2", "10:00", "10:10")).Legs[0];

        Assert.Equal(("A", "netA", "bus", "flat", 200L, 3), (leg.AgencyId, leg.NetworkId, leg.LegGroupId, leg.FareProductId, leg.Amount, leg.FareLegRuleLine!.Value));
        Assert.Equal("USD", Price(feed, Feeds.Leg("rA", "s1", "s2", "10:00", "10:10")).Currency);
    }

    [Fact]
    public void Price_NoLegs_Throws() =>
        Assert.Throws<ArgumentException>(() => new FareEngine(Feeds.Valid()).Price([]));
}
