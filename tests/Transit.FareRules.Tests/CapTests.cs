namespace Transit.FareRules.Tests;

/// <summary>The fare_caps.txt extension applied to one account's journeys (docs/fare-caps.md).</summary>
public class CapTests
{
    private const string CapHeader = "cap_id,period_type,period_duration,day_start_time,amount,currency,ride_count,rider_category_id,fare_media_id,network_id,timeframe_group_id\n";

    private static readonly DateOnly Monday = new(2024, 9, 30);

    private static (FareEngine Engine, FareCapCalculator Caps) Setup(string caps)
    {
        var feed = Feeds.Valid(
            ("rider_categories.txt", "rider_category_id,rider_category_name,is_default_fare_category\nadult,Adult,1\nchild,Child,0\n"),
            ("fare_media.txt", "fare_media_id,fare_media_type\ncard,2\ncash,0\n"),
            ("timeframes.txt", "timeframe_group_id,start_time,end_time,service_id\noffpeak,10:00:00,16:00:00,all\n"),
            ("fare_products.txt", "fare_product_id,rider_category_id,amount,currency\nbus,adult,2.00,USD\nbus,child,1.00,USD\nrail,,2.50,USD\nmetro,,3.00,USD\n"),
            ("fare_leg_rules.txt", "network_id,fare_product_id\nnetA,bus\nnetB,rail\nmetro,metro\n"),
            ("fare_caps.txt", CapHeader + caps));
        return (new FareEngine(feed), new FareCapCalculator(feed));
    }

    private static FareLeg Bus(int day, string time, string? category = null, string? media = null) =>
        Feeds.Leg("rA", "s1", "s2", time, time, category, media, Monday.AddDays(day));

    private static long[] Charged((FareEngine Engine, FareCapCalculator Caps) setup, params FareLeg[][] journeys) =>
        [.. setup.Caps.Apply([.. journeys.Select(j => setup.Engine.Price(j))]).Select(c => c.Charged)];

    private static long[] Charged((FareEngine Engine, FareCapCalculator Caps) setup, params FareLeg[] singleLegJourneys) =>
        Charged(setup, [.. singleLegJourneys.Select(l => new[] { l })]);

    [Fact]
    public void Apply_DailyCap_ChargesUpToTheCapThenNothingUntilTheServiceDayEnds()
    {
        var setup = Setup("daily,0,,04:30:00,5.00,USD,,,,,\n");

        var charged = Charged(setup, Bus(1, "08:00"), Bus(1, "10:00"), Bus(1, "12:00"), Bus(1, "14:00"), Bus(2, "03:00"), Bus(2, "05:00"));

        Assert.Equal([200L, 200, 100, 0, 0, 200], charged);
    }

    [Fact]
    public void Apply_DailyCap_ReportsTheAdjustmentAndTheCap()
    {
        var setup = Setup("daily,0,,,5.00,USD,,,,,\n");

        var results = setup.Caps.Apply([.. new[] { "08:00", "10:00", "12:00" }.Select(t => setup.Engine.Price([Bus(1, t)]))]);

        Assert.Equal([0L, 0, 100], results.Select(r => r.CapAdjustment));
        Assert.Equal(["daily"], results[2].AppliedCapIds);
        Assert.Empty(results[0].AppliedCapIds);
        Assert.All(results, r => Assert.Equal(r.Fare.Total, r.Charged + r.CapAdjustment));
    }

    [Fact]
    public void Apply_CalendarWeekCap_RunsMondayToSundayOfServiceDays()
    {
        var setup = Setup("week,1,,04:30:00,10.00,USD,,,,,\n");

        var charged = Charged(setup, [.. Enumerable.Range(0, 7).Select(d => Bus(d, "09:00")), Bus(7, "03:00"), Bus(7, "09:00")]);

        Assert.Equal([200L, 200, 200, 200, 200, 0, 0, 0, 200], charged);
    }

    [Fact]
    public void Apply_RollingSevenDayCap_StartsAtTheFirstTap()
    {
        var setup = Setup("rolling,2,604800,,10.00,USD,,,,,\n");

        var charged = Charged(
            setup,
            [.. Enumerable.Range(2, 5).Select(d => Bus(d, "10:00")), Bus(7, "10:00"), Bus(9, "09:59"), Bus(9, "10:00"), Bus(9, "11:00")]);

        Assert.Equal([200L, 200, 200, 200, 200, 0, 0, 200, 200], charged);
    }

    [Fact]
    public void Apply_RideCountCap_MakesRidesAfterTheNthFreeForTheWeek()
    {
        var setup = Setup("omny,1,,,,,3,,,,\n");

        var charged = Charged(setup, Bus(0, "08:00"), Bus(0, "09:00"), Bus(1, "08:00"), Bus(2, "08:00"), Bus(6, "22:00"), Bus(7, "08:00"));

        Assert.Equal([200L, 200, 200, 0, 0, 200], charged);
    }

    [Fact]
    public void Apply_RideCountCapOnRollingWindow_CountsFromTheFirstRide()
    {
        var setup = Setup("omny,2,604800,,,,2,,,,\n");

        var charged = Charged(setup, Bus(3, "08:00"), Bus(4, "08:00"), Bus(9, "07:59"), Bus(10, "08:00"));

        Assert.Equal([200L, 200, 0, 200], charged);
    }

    [Fact]
    public void Apply_OffPeakCap_CountsAndCapsOnlyOffPeakJourneys()
    {
        var setup = Setup("offpeak_daily,0,,,3.00,USD,,,,,offpeak\n");

        var charged = Charged(setup, Bus(1, "08:00"), Bus(1, "11:00"), Bus(1, "12:00"), Bus(1, "13:00"), Bus(1, "17:00"));

        Assert.Equal([200L, 200, 100, 0, 200], charged);
    }

    [Fact]
    public void Apply_NetworkCap_CapsOnlyThatNetworksLegs()
    {
        var setup = Setup("bus_daily,0,,,3.00,USD,,,,netA,\n");

        var charged = Charged(
            setup,
            [Bus(1, "08:00")],
            [Bus(1, "09:00"), Feeds.Leg("rB", "s2", "s3", "09:30", "09:40", day: Monday.AddDays(1))]);

        Assert.Equal([200L, 350], charged);
    }

    [Fact]
    public void Apply_CategoryAndMediaCaps_ApplyOnlyToMatchingJourneys()
    {
        var setup = Setup("child_daily,0,,,1.50,USD,,child,,,\ncard_daily,0,,,3.00,USD,,,card,,\n");

        Assert.Equal([100L, 50, 0], Charged(setup, Bus(1, "08:00", "child"), Bus(1, "09:00", "child"), Bus(1, "10:00", "child")));
        Assert.Equal([200L, 200, 200], Charged(setup, Bus(1, "08:00", media: "cash"), Bus(1, "09:00", media: "cash"), Bus(1, "10:00", media: "cash")));
        Assert.Equal([200L, 100, 0], Charged(setup, Bus(1, "08:00", media: "card"), Bus(1, "09:00", media: "card"), Bus(1, "10:00", media: "card")));
    }

    [Fact]
    public void Apply_DailyAndWeeklyCaps_TheTighterOneApplies()
    {
        var setup = Setup("daily,0,,,5.00,USD,,,,,\nweekly,1,,,8.00,USD,,,,,\n");

        var charged = Charged(setup, Bus(0, "08:00"), Bus(0, "09:00"), Bus(0, "10:00"), Bus(1, "08:00"), Bus(1, "09:00"), Bus(1, "10:00"));

        Assert.Equal([200L, 200, 100, 200, 100, 0], charged);
    }

    [Fact]
    public void Apply_IncompleteJourneyMaximumFare_IsChargedInFullAndDoesNotCount()
    {
        var setup = Setup("daily,0,,,5.00,USD,,,,,\n");
        var incomplete = Feeds.Leg("rM", "st1", null, "07:00", "07:00", day: Monday.AddDays(1));

        var results = setup.Caps.Apply([.. new[] { [incomplete], [Bus(1, "08:00")], [Bus(1, "09:00")], [Bus(1, "10:00")], new[] { Bus(1, "11:00") } }.Select(j => setup.Engine.Price(j))]);

        Assert.Equal([300L, 200, 200, 100, 0], results.Select(r => r.Charged));
        Assert.True(results[0].Fare.IsIncomplete);
    }

    [Fact]
    public void Apply_JourneysOutOfOrder_Throws()
    {
        var setup = Setup("daily,0,,,5.00,USD,,,,,\n");

        Assert.Throws<ArgumentException>(() => setup.Caps.Apply([setup.Engine.Price([Bus(1, "10:00")]), setup.Engine.Price([Bus(1, "09:00")])]));
    }

    [Fact]
    public void Apply_WithoutCaps_ChargesEveryJourneyInFull()
    {
        var setup = Setup("");

        Assert.Equal([200L, 200, 200], Charged(setup, Bus(1, "08:00"), Bus(1, "09:00"), Bus(1, "10:00")));
    }
}
