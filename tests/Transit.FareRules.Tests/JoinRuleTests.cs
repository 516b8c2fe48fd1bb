namespace Transit.FareRules.Tests;

/// <summary>fare_leg_join_rules.txt: consecutive legs that match a join rule are priced as one effective fare leg.</summary>
public class JoinRuleTests
{
    private static readonly (string, string)[] Zones =
    [
        ("areas.txt", "area_id\nz1\nz2\nz3\n"),
        ("stop_areas.txt", "area_id,stop_id\nz1,st1\nz2,st2\nz3,st3\nz3,s3\n"),
        ("fare_products.txt", "fare_product_id,amount,currency\nsame_zone,2.00,USD\none_zone,3.00,USD\ntwo_zones,4.00,USD\nbus,1.50,USD\n"),
        ("fare_leg_rules.txt", """
            leg_group_id,network_id,from_area_id,to_area_id,fare_product_id
            metro,metro,z1,z1,same_zone
            metro,metro,z2,z1,one_zone
            metro,metro,z1,z2,one_zone
            metro,metro,z2,z3,one_zone
            metro,metro,z1,z3,two_zones
            metro,metro,z2,z2,same_zone
            bus,netA,,,bus
            bus,netA,z1,,bus

            """),
    ];

    private static FareEngine Engine(string joins) =>
        new(Feeds.Valid([.. Zones, ("fare_leg_join_rules.txt", joins)]), new PricingOptions { TapOutNetworks = new HashSet<string>() });

    [Fact]
    public void Price_LegsChangingLinesInOneStation_AreOneEffectiveLeg()
    {
        var fare = Engine("from_network_id,to_network_id\nmetro,metro\n").Price(
        [
            Feeds.Leg("rM", "p2a", "p1a", "10:00", "10:10"),
            Feeds.Leg("rM", "p1b", "p3a", "10:15", "10:30"),
        ]);

        // z2 → z3 as one leg, not z2 → z1 plus z1 → z3.
        Assert.Equal(300, fare.Total);
        Assert.Equal([0, 0], fare.Legs.Select(l => l.EffectiveLegIndex));
        Assert.Equal([300L, 0L], fare.Legs.Select(l => l.Amount));
        Assert.True((fare.Legs[1].Flags & FareFlags.Joined) != 0);
        Assert.Equal("one_zone", fare.Legs[1].FareProductId);
    }

    [Fact]
    public void Price_LegsThroughThreeLines_JoinIntoOneLeg()
    {
        var fare = Engine("from_network_id,to_network_id\nmetro,metro\n").Price(
        [
            Feeds.Leg("rM", "p1a", "p2a", "10:00", "10:10"),
            Feeds.Leg("rM", "st2", "p1b", "10:12", "10:20"),
            Feeds.Leg("rM", "p1a", "st1", "10:22", "10:30"),
        ]);

        Assert.Equal(200, fare.Total);
        Assert.All(fare.Legs, l => Assert.Equal(0, l.EffectiveLegIndex));
    }

    [Fact]
    public void Price_LegsAtDifferentStations_AreNotJoined()
    {
        var fare = Engine("from_network_id,to_network_id\nmetro,metro\n").Price(
        [
            Feeds.Leg("rM", "p2a", "p1a", "10:00", "10:10"),
            Feeds.Leg("rM", "p2a", "p3a", "10:15", "10:30"),
        ]);

        Assert.Equal(600, fare.Total);
        Assert.Equal([0, 1], fare.Legs.Select(l => l.EffectiveLegIndex));
    }

    [Fact]
    public void Price_JoinRuleWithStops_JoinsOnlyAtThoseStops()
    {
        var engine = Engine("from_network_id,to_network_id,from_stop_id,to_stop_id\nmetro,metro,st1,p3a\n");

        var atStation = engine.Price([Feeds.Leg("rM", "p2a", "p1a", "10:00", "10:10"), Feeds.Leg("rM", "p3a", "p2a", "10:15", "10:30")]);
        var elsewhere = engine.Price([Feeds.Leg("rM", "p2a", "p1a", "10:00", "10:10"), Feeds.Leg("rM", "p1b", "p3a", "10:15", "10:30")]);

        Assert.Equal(200, atStation.Total);
        Assert.Equal(700, elsewhere.Total);
    }

    [Fact]
    public void Price_LegsOfAnotherNetwork_AreNotJoined()
    {
        var fare = Engine("from_network_id,to_network_id\nmetro,metro\n").Price(
        [
            Feeds.Leg("rM", "p2a", "p1a", "10:00", "10:10"),
            Feeds.Leg("rA", "p1a", "s1", "10:15", "10:30"),
        ]);

        Assert.Equal(450, fare.Total);
        Assert.Equal([0, 1], fare.Legs.Select(l => l.EffectiveLegIndex));
    }
}
