namespace Transit.FareRules.Tests;

/// <summary>fare_transfer_rules.txt: re-expressions of OTP's transfer tests, transfer counts, the four time limits and the
/// three transfer types over chains of three legs.</summary>
public class TransferTests
{
    private const string Products = "fare_product_id,amount,currency\nA,1.00,USD\nB,2.00,USD\nC,3.00,USD\nT1,0.50,USD\nT2,0.25,USD\n";
    private const string Groups = "leg_group_id,network_id,fare_product_id\ngA,netA,A\ngB,netB,B\ngC,netC,C\n";

    private static FareEngine Engine(string transfers, string products = Products, string groups = Groups) =>
        new(Feeds.Valid(("fare_products.txt", products), ("fare_leg_rules.txt", groups), ("fare_transfer_rules.txt", transfers)));

    /// <summary>Legs on the given routes, ten minutes each with a one-minute gap, from 10:00.</summary>
    private static FareLeg[] Legs(params string[] routes) =>
        [.. routes.Select((route, i) => new FareLeg(route, "s1", "s2", Feeds.At("10:00").AddMinutes(11 * i), Feeds.At("10:10").AddMinutes(11 * i)))];

    private const string TransferHeader = "from_leg_group_id,to_leg_group_id,transfer_count,duration_limit,duration_limit_type,fare_transfer_type,fare_product_id\n";

    [Fact]
    public void Price_FreeTransferInNetwork_ChargesTheFirstLegOnly()
    {
        var fare = Engine(TransferHeader + "gA,gA,-1,,,0,\n").Price(Legs("rA", "rA"));

        Assert.Equal(100, fare.Total);
        Assert.Equal((100L, 0L), (fare.Legs[0].Amount, fare.Legs[1].Amount));
        Assert.Equal("A", fare.Legs[1].FareProductId);
        Assert.True((fare.Legs[1].Flags & FareFlags.Transfer) != 0);
        Assert.Equal(2, fare.Legs[1].FareTransferRuleLine);
    }

    [Fact]
    public void Price_CostedTransferInNetwork_AddsTheTransferProduct()
    {
        var fare = Engine(TransferHeader + "gA,gA,-1,,,0,T1\n").Price(Legs("rA", "rA"));

        Assert.Equal(150, fare.Total);
        Assert.Equal(("T1", 50L), (fare.Legs[1].TransferProductId, fare.Legs[1].TransferAmount));
        Assert.Equal(FareTransferType.FromLegPlusTransfer, fare.Legs[1].TransferType);
    }

    // Re-expresses OTP's CostedTransferAcrossNetworksTest: A→A and B→B free, A→B costs T1, B→A free.
    [Theory]
    [InlineData("AAB", 150)]
    [InlineData("ABA", 150)]
    [InlineData("ABB", 150)]
    [InlineData("BAB", 250)]
    [InlineData("ABAB", 200)]
    public void Price_TransfersAcrossNetworks_ApplyPerDirection(string networks, long expected)
    {
        var engine = Engine(TransferHeader + "gA,gA,-1,,,0,\ngB,gB,-1,,,0,\ngA,gB,,,,0,T1\ngB,gA,,,,0,\n");

        var fare = engine.Price(Legs([.. networks.Select(n => "r" + n)]));

        Assert.Equal(expected, fare.Total);
        Assert.Equal(fare.Total, fare.Legs.Sum(l => l.Total));
    }

    [Fact]
    public void Price_NoTransferRuleBetweenNetworks_ChargesEachLeg()
    {
        var fare = Engine(TransferHeader + "gA,gA,-1,,,0,\n").Price(Legs("rA", "rB"));

        Assert.Equal(300, fare.Total);
        Assert.Null(fare.Legs[1].FareTransferRuleLine);
    }

    // Re-expresses OTP's TransferCountTest and TransferCountWithTimeLimitTest.
    [Theory]
    [InlineData(1, 2, 100)]
    [InlineData(1, 3, 200)]
    [InlineData(1, 4, 200)]
    [InlineData(2, 3, 100)]
    [InlineData(2, 4, 200)]
    [InlineData(-1, 6, 100)]
    public void Price_TransferCount_LimitsConsecutiveTransfers(int count, int legs, long expected)
    {
        var engine = Engine(TransferHeader + $"gA,gA,{count},7200,0,0,\n");

        Assert.Equal(expected, engine.Price(Legs([.. Enumerable.Repeat("rA", legs)])).Total);
    }

    [Theory]
    [InlineData(4, 200)]
    [InlineData(5, 300)]
    public void Price_SeveralTransferCounts_SelectTheSmallestCountCoveringTheTransfer(int legs, long expected)
    {
        // Transfer 1 uses the count-1 rule (0.50) although the count-3 rule (0.25) is cheaper; transfers 2 and 3 use 0.25.
        var engine = Engine(TransferHeader + "gA,gA,1,,,0,T1\ngA,gA,3,,,0,T2\n");

        Assert.Equal(expected, engine.Price(Legs([.. Enumerable.Repeat("rA", legs)])).Total);
    }

    // The four duration_limit_types with a 10-minute limit; the first leg is 10:00–10:08.
    [Theory]
    [InlineData(0, "10:09", "10:10", 100)]
    [InlineData(0, "10:09", "10:11", 200)]
    [InlineData(1, "10:10", "10:30", 100)]
    [InlineData(1, "10:11", "10:12", 200)]
    [InlineData(2, "10:18", "10:40", 100)]
    [InlineData(2, "10:19", "10:20", 200)]
    [InlineData(3, "10:09", "10:18", 100)]
    [InlineData(3, "10:09", "10:19", 200)]
    public void Price_DurationLimitType_MeasuresBetweenTheRightValidations(int type, string start, string end, long expected)
    {
        var engine = Engine(TransferHeader + $"gA,gA,-1,600,{type},0,\n");

        var fare = engine.Price([Feeds.Leg("rA", "s1", "s2", "10:00", "10:08"), Feeds.Leg("rA", "s2", "s3", start, end)]);

        Assert.Equal(expected, fare.Total);
    }

    // Re-expresses OTP's DepartureToArrivalTimeLimitTest: the limit runs from the first leg of consecutive transfers.
    [Fact]
    public void Price_DurationLimitOverConsecutiveTransfers_IsMeasuredFromTheFirstLeg()
    {
        var engine = Engine(TransferHeader + "gA,gA,-1,600,0,0,T1\n");
        FareLeg[] legs =
        [
            Feeds.Leg("rA", "s1", "s2", "10:00", "10:03"),
            Feeds.Leg("rA", "s2", "s3", "10:03", "10:06"),
            Feeds.Leg("rA", "s3", "s4", "10:09", "10:15"),
            Feeds.Leg("rA", "s4", "s5", "10:15", "10:17"),
        ];

        var three = engine.Price(legs[..3]);
        var four = engine.Price(legs);

        Assert.Equal(250, three.Total);
        Assert.Equal([100L, 50L, 100L], three.Legs.Select(l => l.Total));
        Assert.Equal(300, four.Total);
        Assert.Equal([100L, 50L, 100L, 50L], four.Legs.Select(l => l.Total));
    }

    [Fact]
    public void Price_TransferTypeZeroOverThreeLegs_IsAPlusABPlusBC()
    {
        var fare = Engine(TransferHeader + "gA,gB,,,,0,AB\ngB,gC,,,,0,BC\n", Products + "AB,0.50,USD\nBC,0.40,USD\n").Price(Legs("rA", "rB", "rC"));

        Assert.Equal(190, fare.Total);
        Assert.Equal([(100L, 0L), (0L, 50L), (0L, 40L)], fare.Legs.Select(l => (l.Amount, l.TransferAmount)));
        Assert.Equal(["A", "B", "C"], fare.Legs.Select(l => l.FareProductId));
        Assert.Equal([null, "AB", "BC"], fare.Legs.Select(l => l.TransferProductId));
    }

    [Fact]
    public void Price_TransferTypeOneOverThreeLegs_IsAPlusABPlusBPlusBCPlusC()
    {
        var fare = Engine(TransferHeader + "gA,gB,,,,1,AB\ngB,gC,,,,1,BC\n", Products + "AB,-0.50,USD\nBC,-0.40,USD\n").Price(Legs("rA", "rB", "rC"));

        Assert.Equal(510, fare.Total);
        Assert.Equal([(100L, 0L), (200L, -50L), (300L, -40L)], fare.Legs.Select(l => (l.Amount, l.TransferAmount)));
        Assert.All(fare.Legs.Skip(1), l => Assert.Equal(FareTransferType.FromLegPlusTransferPlusToLeg, l.TransferType));
    }

    [Fact]
    public void Price_TransferTypeTwoOverThreeLegs_IsABPlusBC()
    {
        var products = "fare_product_id,amount,currency\nA,3.00,USD\nB,3.00,USD\nC,3.00,USD\nAB,2.50,USD\nBC,1.00,USD\n";

        var fare = Engine(TransferHeader + "gA,gB,,,,2,AB\ngB,gC,,,,2,BC\n", products).Price(Legs("rA", "rB", "rC"));

        Assert.Equal(350, fare.Total);
        Assert.Equal([(0L, 0L), (0L, 250L), (0L, 100L)], fare.Legs.Select(l => (l.Amount, l.TransferAmount)));
        Assert.Equal("A", fare.Legs[0].FareProductId);
    }

    [Fact]
    public void Price_TransferTypeTwoAtTheStartOfAChain_ReplacesTheFromLegProduct()
    {
        var products = "fare_product_id,amount,currency\nA,3.00,USD\nB,3.00,USD\nC,3.00,USD\nAB,4.00,USD\n";

        var fare = Engine(TransferHeader + "gA,gB,,,,2,AB\n", products).Price(Legs("rA", "rB"));

        Assert.Equal(400, fare.Total);
    }

    [Fact]
    public void Price_SeveralValidCombinations_ChoosesTheCheapestForTheRider()
    {
        // A transfer that costs more than paying the second leg again is not used.
        var fare = Engine(TransferHeader + "gA,gA,-1,,,0,AA\n", Products + "AA,1.50,USD\n").Price(Legs("rA", "rA"));

        Assert.Equal(200, fare.Total);
        Assert.Null(fare.Legs[1].TransferProductId);
    }

    // Re-expresses OTP's WildcardNetworkTransferTest: rules without network match every leg.
    [Fact]
    public void Price_RulesWithoutNetwork_TransferWithinTheirGroup()
    {
        var engine = Engine(TransferHeader + "gA,gA,-1,,,0,\n", groups: "leg_group_id,fare_product_id\ngA,A\ngB,B\n");

        var fare = engine.Price(Legs("rA", "rB"));

        Assert.Equal(100, fare.Total);
        Assert.Equal(["gA", "gA"], fare.Legs.Select(l => l.LegGroupId));
    }

    [Fact]
    public void Price_BlankLegGroups_MatchGroupsNoOtherRuleLists()
    {
        // Blank from/to: every transfer between groups not listed elsewhere; gA → anything is listed and costs T1.
        var engine = Engine(TransferHeader + ",,-1,,,0,\ngA,,,,,0,T1\n");

        Assert.Equal(200, engine.Price(Legs("rB", "rC")).Total);
        Assert.Equal(150, engine.Price(Legs("rA", "rC")).Total);
        Assert.Equal(150, engine.Price(Legs("rA", "rB")).Total);
    }

    [Fact]
    public void Price_TransferProductForAnotherCategory_IsNotUsed()
    {
        // Re-expresses OTP's FreeTransferWithCategoryTest: only youths get the free transfer.
        var feed = Feeds.Valid(
            ("rider_categories.txt", "rider_category_id,rider_category_name,is_default_fare_category\nadult,Adult,1\nyouth,Youth,0\n"),
            ("fare_products.txt", "fare_product_id,rider_category_id,amount,currency\nsingle,adult,2.00,USD\nsingle,youth,1.00,USD\nyouth_transfer,youth,0.00,USD\n"),
            ("fare_leg_rules.txt", "leg_group_id,fare_product_id\ng,single\n"),
            ("fare_transfer_rules.txt", TransferHeader + "g,g,-1,,,0,youth_transfer\n"));
        var engine = new FareEngine(feed);

        Assert.Equal(400, engine.Price([Feeds.Leg("rA", "s1", "s2", "10:00", "10:10"), Feeds.Leg("rA", "s2", "s3", "10:20", "10:30")]).Total);
        Assert.Equal(100, engine.Price([Feeds.Leg("rA", "s1", "s2", "10:00", "10:10", "youth"), Feeds.Leg("rA", "s2", "s3", "10:20", "10:30", "youth")]).Total);
    }

    [Fact]
    public void Price_TransferOnlyRule_PricesALegOnlyWhenReachedByTransfer()
    {
        var feed = Feeds.Valid(
            ("fare_products.txt", Products + "FREE,0.00,USD\n"),
            ("fare_leg_rules.txt", "leg_group_id,network_id,fare_product_id,transfer_only\ngA,netA,A,\ngB,netB,B,\nfree_b,netB,FREE,1\n"),
            ("fare_transfer_rules.txt", TransferHeader + "gA,free_b,,,,0,\n"));
        var engine = new FareEngine(feed);

        Assert.Equal(200, engine.Price(Legs("rB")).Total);
        Assert.Equal(100, engine.Price(Legs("rA", "rB")).Total);
        Assert.Equal(0, new FareEngine(feed, new PricingOptions { HonorTransferOnly = false }).Price(Legs("rB")).Total);
    }
}
