using Transit.RideCodes;

namespace Transit.Simulation.Tests;

public sealed class SimulatedIssuersTests
{
    [Fact]
    public void Standard_Three_AreTheCityAppTheNationalWalletOnSm2AndAnotherCitysCard()
    {
        var issuers = SimulatedIssuers.Standard(3);

        Assert.Equal([IssuerIds.Home, "nat", "city2"], issuers.Select(i => i.Id));
        Assert.Equal(["p256", "sm2", "p256"], issuers.Select(i => i.Algorithm));
    }

    [Fact]
    public void Standard_Twenty_ValidAndDistinctIds()
    {
        var issuers = SimulatedIssuers.Standard(SimulatedIssuers.Max);

        Assert.Equal(SimulatedIssuers.Max, issuers.Select(i => i.Id).Distinct().Count());
        Assert.All(issuers, i => Assert.True(IssuerIds.IsValid(i.Id), i.Id));
        Assert.Null(issuers[0].FeeBasisPoints);
        Assert.All(issuers.Skip(1), i => Assert.InRange(i.FeeBasisPoints!.Value, 0, 10_000));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(21)]
    public void Standard_OutOfRange_SaysTheRange(int count)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => SimulatedIssuers.Standard(count));

        Assert.Contains("1 to 20 issuers", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Assign_HalfOnTheCityAppTheRestSpreadAndTheSameForASeed()
    {
        var riders = Population.Riders(4_000, seed: 2);
        var issuers = SimulatedIssuers.Standard(3);

        var assigned = SimulatedIssuers.Assign(riders, issuers, seed: 2);

        var byIssuer = assigned.GroupBy(r => r.Issuer).ToDictionary(g => g.Key, g => g.Count());
        Assert.InRange(byIssuer[IssuerIds.Home], 1_850, 2_150);
        Assert.InRange(byIssuer["nat"], 850, 1_150);
        Assert.InRange(byIssuer["city2"], 850, 1_150);
        Assert.Equal(riders.Select(r => r.Account), assigned.Select(r => r.Account));
        Assert.Equal(assigned, SimulatedIssuers.Assign(riders, issuers, seed: 2));
        Assert.NotEqual(assigned.Select(r => r.Issuer), SimulatedIssuers.Assign(riders, issuers, seed: 3).Select(r => r.Issuer));
    }

    [Fact]
    public void Assign_OneIssuer_EveryRiderOnTheCityApp()
    {
        var riders = Population.Riders(100, seed: 1);

        Assert.All(SimulatedIssuers.Assign(riders, SimulatedIssuers.Standard(1), seed: 1), r => Assert.Equal(IssuerIds.Home, r.Issuer));
    }
}
