using Transit.RideCodes;

namespace Transit.Simulation.Tests;

public sealed class SimulatedIssuersTests
{
    [Fact]
    public void Standard_Three_AreTheCityAppTheNationalWalletOnSm2AndAnotherCitysCard()
    {
        var issuers = SimulatedIssuers.Standard(3);

        Assert.Equal([IssuerIds.Home, "nat", "twin"], issuers.Select(i => i.Id));
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
        Assert.InRange(byIssuer["twin"], 850, 1_150);
        Assert.Equal(assigned.Count, assigned.Select(r => r.Account).Distinct().Count());
        Assert.All(assigned.Zip(riders), p => Assert.Equal(p.First.Issuer == IssuerIds.Home, p.First.Account == p.Second.Account));
        Assert.Equal(assigned, SimulatedIssuers.Assign(riders, issuers, seed: 2));
        Assert.NotEqual(assigned.Select(r => r.Issuer), SimulatedIssuers.Assign(riders, issuers, seed: 3).Select(r => r.Issuer));
    }

    [Fact]
    public void ExternalAccount_OfTheLastRiderAndTheLongestCategoryAndIssuer_FitsACode()
    {
        var last = SimulatedIssuers.ExternalAccount(SimulatedIssuers.MaxRiders - 1);

        Assert.Equal("zzzz", last);
        Assert.Equal("0", SimulatedIssuers.ExternalAccount(0));
        Assert.Equal("10", SimulatedIssuers.ExternalAccount(36));
        Assert.All(SimulatedIssuers.Standard(SimulatedIssuers.Max).Skip(1), issuer => Credential.Issue(
            Key, 1, last, "senior", DateTimeOffset.UnixEpoch, TimeSpan.FromDays(1), Key.PublicKey, issuer: issuer.Id));
        Assert.Throws<ArgumentOutOfRangeException>(() => SimulatedIssuers.ExternalAccount(SimulatedIssuers.MaxRiders));
    }

    [Fact]
    public void Assign_MoreRidersThanAccountsFit_Refused()
    {
        var riders = Enumerable.Repeat(Population.Riders(1, seed: 1)[0], SimulatedIssuers.MaxRiders + 1).ToList();

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => SimulatedIssuers.Assign(riders, SimulatedIssuers.Standard(2), seed: 1));

        Assert.Contains("at most 1,679,616 riders", error.Message, StringComparison.Ordinal);
    }

    private static readonly SigningKey Key = SigningKey.Generate(SignatureAlgorithm.P256);

    [Fact]
    public void Assign_OneIssuer_EveryRiderOnTheCityApp()
    {
        var riders = Population.Riders(100, seed: 1);

        Assert.All(SimulatedIssuers.Assign(riders, SimulatedIssuers.Standard(1), seed: 1), r => Assert.Equal(IssuerIds.Home, r.Issuer));
    }
}
