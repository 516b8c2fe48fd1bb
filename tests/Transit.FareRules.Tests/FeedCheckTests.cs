namespace Transit.FareRules.Tests;

public class FeedCheckTests
{
    private const string Products = "fare_product_id,amount,currency\nf1,2.00,USD\n";

    private static void AssertNotice(FareFeed feed, string file, int line, string code, NoticeSeverity severity = NoticeSeverity.Error)
    {
        Assert.True(
            feed.Report.Notices.Any(n => n.File == file && n.Line == line && n.Code == code && n.Severity == severity),
            $"expected {severity} {file}:{line} {code}; got:\n{string.Join("\n", feed.Report.Notices)}");
    }

    [Fact]
    public void Load_ValidFeed_HasNoNotice()
    {
        var feed = Feeds.Build(("fare_products.txt", Products), ("fare_leg_rules.txt", "fare_product_id\nf1\n"));

        Assert.Empty(feed.Report.Notices);
        Assert.False(feed.Report.HasErrors);
    }

    [Fact]
    public void Load_OverlappingTimeframes_ReportsTimeframeOverlap()
    {
        var feed = Feeds.Build(("timeframes.txt", "timeframe_group_id,start_time,end_time,service_id\npeak,07:00:00,09:00:00,all\npeak,08:30:00,10:00:00,all\npeak,08:30:00,10:00:00,weekdays\n"));

        AssertNotice(feed, "timeframes.txt", 3, NoticeCodes.TimeframeOverlap);
        Assert.Single(feed.Report.WithCode(NoticeCodes.TimeframeOverlap));
    }

    [Fact]
    public void Load_TimeframeWithOnlyStart_ReportsOnlyStartOrEndTime()
    {
        var feed = Feeds.Build(("timeframes.txt", "timeframe_group_id,start_time,end_time,service_id\npeak,07:00:00,,all\n"));

        AssertNotice(feed, "timeframes.txt", 2, NoticeCodes.TimeframeOnlyStartOrEndTime);
    }

    [Fact]
    public void Load_TimeframeAfterMidnight_ReportsGreaterThanTwentyFourHours()
    {
        var feed = Feeds.Build(("timeframes.txt", "timeframe_group_id,start_time,end_time,service_id\nnight,23:00:00,25:00:00,all\nday,00:00:00,24:00:00,all\n"));

        AssertNotice(feed, "timeframes.txt", 2, NoticeCodes.TimeframeTimeGreaterThanTwentyFourHours);
        Assert.Single(feed.Report.Notices);
    }

    [Fact]
    public void Load_TransferCountProblems_ReportEachCode()
    {
        var feed = Feeds.Build(
            ("fare_products.txt", Products),
            ("fare_leg_rules.txt", "leg_group_id,fare_product_id\ng1,f1\n"),
            ("fare_transfer_rules.txt", """
                from_leg_group_id,to_leg_group_id,transfer_count,duration_limit,duration_limit_type,fare_transfer_type
                g1,g1,,,,0
                g1,,1,,,0
                g1,g1,0,,,0
                g1,g1,-2,,,0
                g1,g1,-1,600,,0
                g1,g1,2,,1,0

                """));

        AssertNotice(feed, "fare_transfer_rules.txt", 2, NoticeCodes.FareTransferRuleMissingTransferCount);
        AssertNotice(feed, "fare_transfer_rules.txt", 3, NoticeCodes.FareTransferRuleForbiddenTransferCount);
        AssertNotice(feed, "fare_transfer_rules.txt", 4, NoticeCodes.FareTransferRuleInvalidTransferCount);
        AssertNotice(feed, "fare_transfer_rules.txt", 5, NoticeCodes.FareTransferRuleInvalidTransferCount);
        AssertNotice(feed, "fare_transfer_rules.txt", 6, NoticeCodes.FareTransferRuleDurationLimitWithoutType);
        AssertNotice(feed, "fare_transfer_rules.txt", 7, NoticeCodes.FareTransferRuleDurationLimitTypeWithoutDurationLimit);
    }

    [Fact]
    public void Load_TwoDefaultRiderCategories_ReportsMoreThanOneDefault()
    {
        var feed = Feeds.Build(("rider_categories.txt", "rider_category_id,rider_category_name,is_default_fare_category\nadult,Adult,1\nchild,Child,0\nsenior,Senior,1\n"));

        AssertNotice(feed, "rider_categories.txt", 4, NoticeCodes.MoreThanOneDefaultRiderCategory);
        Assert.Equal("adult", feed.DefaultRiderCategoryId);
    }

    [Fact]
    public void Load_ProductCategoriesWithoutOrWithTwoDefaults_AreReported()
    {
        var categories = "rider_category_id,rider_category_name,is_default_fare_category\nadult,Adult,1\nchild,Child,\nsenior,Senior,\n";
        var feed = Feeds.Build(
            ("rider_categories.txt", categories),
            ("fare_products.txt", "fare_product_id,rider_category_id,amount,currency\nreduced,child,1.00,USD\nreduced,senior,1.00,USD\nsingle,adult,2.00,USD\nsingle,child,1.00,USD\n"));

        AssertNotice(feed, "fare_products.txt", 2, NoticeCodes.FareProductWithoutDefaultRiderCategory, NoticeSeverity.Warning);
        Assert.Single(feed.Report.Notices);
    }

    [Fact]
    public void Load_ProductForTwoDefaultCategories_ReportsMultipleDefaults()
    {
        var feed = Feeds.Build(
            ("rider_categories.txt", "rider_category_id,rider_category_name,is_default_fare_category\nadult,Adult,1\nresident,Resident,1\n"),
            ("fare_products.txt", "fare_product_id,rider_category_id,amount,currency\nsingle,adult,2.00,USD\nsingle,resident,1.50,USD\n"));

        AssertNotice(feed, "rider_categories.txt", 3, NoticeCodes.MoreThanOneDefaultRiderCategory);
        AssertNotice(feed, "fare_products.txt", 2, NoticeCodes.FareProductWithMultipleDefaultRiderCategories);
    }

    [Fact]
    public void Load_NetworkInRoutesAndRouteNetworks_ReportsSpecifiedInMoreThanOneFile()
    {
        var feed = Feeds.Build(
            ("networks.txt", "network_id,network_name\nnetA,A\n"),
            ("route_networks.txt", "network_id,route_id\nnetA,rA\n"));

        AssertNotice(feed, "route_networks.txt", 0, NoticeCodes.RouteNetworksSpecifiedInMoreThanOneFile);
        AssertNotice(feed, "networks.txt", 0, NoticeCodes.RouteNetworksSpecifiedInMoreThanOneFile);
    }

    [Fact]
    public void Load_RouteNetworksFile_AssignsNetworks()
    {
        var feed = Feeds.Valid(
            ("routes.txt", "route_id,agency_id,route_type\nr1,A,3\nr2,A,3\n"),
            ("networks.txt", "network_id,network_name\nbus,Buses\n"),
            ("route_networks.txt", "network_id,route_id\nbus,r1\n"));

        Assert.Equal("bus", feed.Routes["r1"].NetworkId);
        Assert.Null(feed.Routes["r2"].NetworkId);
        Assert.Equal("Buses", feed.Networks["bus"].Name);
    }

    [Fact]
    public void Load_UnknownReferences_ReportForeignKeyViolations()
    {
        var feed = Feeds.Build(
            ("areas.txt", "area_id\nz1\n"),
            ("stop_areas.txt", "area_id,stop_id\nz1,s1\nz9,s1\nz1,nowhere\n"),
            ("fare_products.txt", "fare_product_id,fare_media_id,rider_category_id,amount,currency\nf1,,,2.00,USD\nf2,card,,2.00,USD\nf3,,kid,1.00,USD\n"),
            ("fare_leg_rules.txt", "leg_group_id,network_id,from_area_id,to_area_id,fare_product_id\ng1,netA,z1,,f1\ng2,netZ,,,f1\ng3,,z7,,f1\ng4,,,,f9\n"),
            ("fare_transfer_rules.txt", "from_leg_group_id,to_leg_group_id,transfer_count,fare_transfer_type,fare_product_id\ng1,g8,,0,\ng1,g2,,0,f7\n"));

        AssertNotice(feed, "stop_areas.txt", 3, NoticeCodes.ForeignKeyViolation);
        AssertNotice(feed, "stop_areas.txt", 4, NoticeCodes.ForeignKeyViolation);
        AssertNotice(feed, "fare_products.txt", 3, NoticeCodes.ForeignKeyViolation);
        AssertNotice(feed, "fare_products.txt", 4, NoticeCodes.ForeignKeyViolation);
        AssertNotice(feed, "fare_leg_rules.txt", 3, NoticeCodes.ForeignKeyViolation);
        AssertNotice(feed, "fare_leg_rules.txt", 4, NoticeCodes.ForeignKeyViolation);
        AssertNotice(feed, "fare_leg_rules.txt", 5, NoticeCodes.ForeignKeyViolation);
        AssertNotice(feed, "fare_transfer_rules.txt", 2, NoticeCodes.ForeignKeyViolation);
        AssertNotice(feed, "fare_transfer_rules.txt", 3, NoticeCodes.ForeignKeyViolation);
        Assert.Contains(feed.Report.Notices, n => n.Message.Contains("'netZ'", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_AmountsThatDoNotFitTheCurrency_ReportInvalidCurrencyAmount()
    {
        var feed = Feeds.Build(("fare_products.txt", "fare_product_id,amount,currency\nf1,2.405,USD\nf2,210.5,JPY\nf3,two,USD\nf4,1.00,XYZ\nf5,210,JPY\n"));

        AssertNotice(feed, "fare_products.txt", 2, NoticeCodes.InvalidCurrencyAmount);
        AssertNotice(feed, "fare_products.txt", 3, NoticeCodes.InvalidCurrencyAmount);
        AssertNotice(feed, "fare_products.txt", 4, NoticeCodes.InvalidCurrencyAmount);
        AssertNotice(feed, "fare_products.txt", 5, NoticeCodes.InvalidCurrency);
        Assert.Single(feed.FareProducts);
        Assert.Equal(210, feed.FareProducts[0].Amount);
    }

    [Fact]
    public void Load_DuplicateKeysAndMissingFields_AreReported()
    {
        var feed = Feeds.Build(
            ("areas.txt", "area_id,area_name\nz1,One\nz1,Again\n,Nameless\n"),
            ("fare_products.txt", "fare_product_id,amount,currency\nf1,1.00,USD\nf1,2.00,USD\n"));

        AssertNotice(feed, "areas.txt", 3, NoticeCodes.DuplicateKey);
        AssertNotice(feed, "areas.txt", 4, NoticeCodes.MissingRequiredField);
        AssertNotice(feed, "fare_products.txt", 3, NoticeCodes.DuplicateKey);
    }

    [Fact]
    public void Load_MissingRequiredColumn_ReportsItAndSkipsTheFile()
    {
        var feed = Feeds.Build(("fare_products.txt", "fare_product_id,currency\nf1,USD\n"));

        AssertNotice(feed, "fare_products.txt", 1, NoticeCodes.MissingRequiredColumn);
        Assert.Empty(feed.FareProducts);
    }

    [Fact]
    public void Load_BadTimezoneAndMalformedValues_AreReported()
    {
        var feed = Feeds.Build(
            ("agency.txt", "agency_id,agency_name,agency_url,agency_timezone\nA,Agency,https://a.example,Mars/Olympus\n"),
            ("calendar.txt", "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\nx,1,1,1,1,1,1,1,2024-01-01,20241231\ny,1,1,1,1,1,1,1,20241231,20240101\n"),
            ("timeframes.txt", "timeframe_group_id,start_time,end_time,service_id\nt,7am,09:00:00,y\n"),
            ("fare_products.txt", Products),
            ("fare_leg_rules.txt", "fare_product_id,rule_priority\nf1,-1\n"),
            ("fare_media.txt", "fare_media_id,fare_media_type\ncard,9\n"));

        AssertNotice(feed, "agency.txt", 2, NoticeCodes.InvalidTimezone);
        AssertNotice(feed, "calendar.txt", 2, NoticeCodes.InvalidDate);
        AssertNotice(feed, "calendar.txt", 3, NoticeCodes.StartAndEndRangeOutOfOrder);
        AssertNotice(feed, "timeframes.txt", 2, NoticeCodes.InvalidTime);
        AssertNotice(feed, "fare_leg_rules.txt", 2, NoticeCodes.NumberOutOfRange);
        AssertNotice(feed, "fare_media.txt", 2, NoticeCodes.UnexpectedEnumValue);
    }

    [Fact]
    public void Load_JoinRuleWithOneStopOrTwoNetworks_IsReported()
    {
        var feed = Feeds.Build(("fare_leg_join_rules.txt", "from_network_id,to_network_id,from_stop_id,to_stop_id\nmetro,metro,st1,\nnetA,netB,,\n"));

        AssertNotice(feed, "fare_leg_join_rules.txt", 2, NoticeCodes.MissingRequiredField);
        AssertNotice(feed, "fare_leg_join_rules.txt", 3, NoticeCodes.FareLegJoinRuleNetworkMismatch, NoticeSeverity.Warning);
    }

    [Fact]
    public void Load_UndefinedTimeframeGroup_IsAWarningAndTheRuleNeverMatches()
    {
        var feed = Feeds.Build(("fare_products.txt", Products), ("fare_leg_rules.txt", "network_id,from_timeframe_group_id,fare_product_id\nnetA,gone,f1\n"));

        AssertNotice(feed, "fare_leg_rules.txt", 2, NoticeCodes.FareLegRuleTimeframeNotFound, NoticeSeverity.Warning);
        var fare = new FareEngine(feed).Price([Feeds.Leg("rA", "s1", "s2", "10:00", "10:10")]);
        Assert.True(fare.IsUnpriced);
    }

    [Fact]
    public void Load_MixedCurrencies_WarnsAndPricesTheFirstCurrencyOnly()
    {
        var feed = Feeds.Build(
            ("fare_products.txt", "fare_product_id,amount,currency\nusd,2.00,USD\neur,1.00,EUR\n"),
            ("fare_leg_rules.txt", "network_id,fare_product_id\nnetA,usd\nnetB,eur\n"));

        AssertNotice(feed, "fare_products.txt", 3, NoticeCodes.MultipleCurrencies, NoticeSeverity.Warning);
        var engine = new FareEngine(feed);
        Assert.Equal(200, engine.Price([Feeds.Leg("rA", "s1", "s2", "10:00", "10:10")]).Total);
        Assert.True(engine.Price([Feeds.Leg("rB", "s1", "s2", "10:00", "10:10")]).IsUnpriced);
    }

    [Fact]
    public void Load_BadFareCaps_AreReported()
    {
        var feed = Feeds.Build(
            ("fare_products.txt", Products),
            ("fare_caps.txt", """
                cap_id,period_type,period_duration,amount,currency,ride_count,day_start_time
                c1,0,,5.00,USD,,04:30:00
                c2,2,,5.00,USD,,
                c3,0,3600,5.00,USD,,
                c4,1,,,,,
                c5,1,,5.00,USD,10,
                c6,0,,5.005,USD,,
                c1,1,,5.00,USD,,

                """));

        Assert.DoesNotContain(feed.Report.Notices, n => n.Line == 2);
        AssertNotice(feed, "fare_caps.txt", 3, NoticeCodes.FareCapMissingPeriodDuration);
        AssertNotice(feed, "fare_caps.txt", 4, NoticeCodes.FareCapForbiddenPeriodDuration);
        AssertNotice(feed, "fare_caps.txt", 5, NoticeCodes.FareCapMissingLimit);
        AssertNotice(feed, "fare_caps.txt", 6, NoticeCodes.FareCapAmountAndRideCount);
        AssertNotice(feed, "fare_caps.txt", 7, NoticeCodes.InvalidCurrencyAmount);
        AssertNotice(feed, "fare_caps.txt", 8, NoticeCodes.DuplicateKey);
        var cap = Assert.Single(feed.FareCaps, c => c.Id == "c1");
        Assert.Equal(16_200, cap.DayStartSeconds);
    }

    [Fact]
    public void LoadOrThrow_FeedWithErrors_ThrowsWithTheReport()
    {
        var directory = Paths.TestFeed("broken");

        var ex = Assert.Throws<FareFeedException>(() => FareFeed.LoadOrThrow(directory));

        Assert.True(ex.Report.HasErrors);
        Assert.Contains("error", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_MissingDirectory_Throws() =>
        Assert.Throws<DirectoryNotFoundException>(() => FareFeed.Load(Path.Combine(Paths.Root, "no-such-feed")));

    [Fact]
    public void ToString_Notice_NamesSeverityFileLineAndCode()
    {
        var notice = new FeedNotice("fare_products.txt", 3, NoticeCodes.InvalidCurrencyAmount, NoticeSeverity.Error, "amount bad");

        Assert.Equal("ERROR fare_products.txt:3 invalid_currency_amount: amount bad", notice.ToString());
    }
}
