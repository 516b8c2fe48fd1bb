namespace Transit.FareRules.Tests;

/// <summary>Tap-in/tap-out networks: areas from entry and exit stations, maximum fares for missing entries and exits.</summary>
public class IncompleteJourneyTests
{
    private static readonly (string, string)[] Metro =
    [
        ("areas.txt", "area_id\nz1\nz2\n"),
        ("stop_areas.txt", "area_id,stop_id\nz1,st1\nz1,st2\nz2,st3\n"),
        ("fare_products.txt", "fare_product_id,amount,currency\nzone_1,2.00,USD\nzones_1_2,3.50,USD\nbus,1.50,USD\n"),
        ("fare_leg_rules.txt", """
            leg_group_id,network_id,from_area_id,to_area_id,fare_product_id
            metro,metro,z1,z1,zone_1
            metro,metro,z1,z2,zones_1_2
            metro,metro,z2,z1,zones_1_2
            metro,metro,z2,z2,zone_1
            bus,netA,,,bus

            """),
    ];

    [Fact]
    public void Price_EntryAndExitStations_GiveTheLegsAreas()
    {
        var fare = new FareEngine(Feeds.Valid(Metro)).Price([Feeds.Leg("rM", "st1", "p3a", "08:00", "08:20")]);

        Assert.Equal(350, fare.Total);
        Assert.False(fare.IsIncomplete);
    }

    [Fact]
    public void Price_MissingExit_ChargesTheNetworksDearestFareAndFlagsIt()
    {
        var fare = new FareEngine(Feeds.Valid(Metro)).Price([Feeds.Leg("rM", "st1", null, "08:00", "08:00")]);

        Assert.Equal(350, fare.Total);
        Assert.True(fare.IsIncomplete);
        Assert.Equal(FareFlags.Incomplete | FareFlags.MissingExit, fare.Legs[0].Flags);
        Assert.Equal("zones_1_2", fare.Legs[0].FareProductId);
        Assert.Equal(0, fare.CappableAmount);
    }

    [Fact]
    public void Price_MissingEntry_ChargesTheConfiguredMaximumFare()
    {
        var engine = new FareEngine(Feeds.Valid(Metro), new PricingOptions { MaximumFares = new Dictionary<string, long> { ["metro"] = 600 } });

        var fare = engine.Price([Feeds.Leg("rM", null, "st2", "08:00", "08:20")]);

        Assert.Equal(600, fare.Total);
        Assert.Equal(FareFlags.Incomplete | FareFlags.MissingEntry, fare.Legs[0].Flags);
        Assert.Null(fare.Legs[0].FareProductId);
    }

    [Fact]
    public void Price_BusWithoutAlighting_IsNotIncomplete()
    {
        var fare = new FareEngine(Feeds.Valid(Metro)).Price([Feeds.Leg("rA", "s1", null, "08:00", "08:00")]);

        Assert.Equal(150, fare.Total);
        Assert.False(fare.IsIncomplete);
    }

    [Fact]
    public void Price_NetworkNotTapOut_PricesAMissingExitWithTheBlankToArea()
    {
        var engine = new FareEngine(Feeds.Valid(Metro), new PricingOptions { TapOutNetworks = new HashSet<string>() });

        var fare = engine.Price([Feeds.Leg("rM", "st1", null, "08:00", "08:00")]);

        Assert.True(fare.IsUnpriced);
        Assert.False(fare.IsIncomplete);
    }

    [Fact]
    public void Price_IncompleteLegInAJourney_DoesNotTransferAndIsExcludedFromTheCappableAmount()
    {
        var feed = Feeds.Valid([.. Metro, ("fare_transfer_rules.txt", "from_leg_group_id,to_leg_group_id,fare_transfer_type\nbus,metro,0\n")]);

        var complete = new FareEngine(feed).Price([Feeds.Leg("rA", "s1", "s2", "08:00", "08:10"), Feeds.Leg("rM", "st1", "st2", "08:20", "08:30")]);
        var incomplete = new FareEngine(feed).Price([Feeds.Leg("rA", "s1", "s2", "08:00", "08:10"), Feeds.Leg("rM", "st1", null, "08:20", "08:20")]);

        Assert.Equal(150, complete.Total);
        Assert.Equal(500, incomplete.Total);
        Assert.Equal(150, incomplete.CappableAmount);
    }

    [Fact]
    public void Constructor_NegativeMaximumFare_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new FareEngine(Feeds.Valid(Metro), new PricingOptions { MaximumFares = new Dictionary<string, long> { ["metro"] = -1 } }));
}
