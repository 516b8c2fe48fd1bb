using Transit.RideCodes;

namespace Transit.RideCodes.Tests;

/// <summary>The issuer set's and the issuer id's guards, at their edges and with the messages an installer reads.</summary>
public class IssuerTrustGuardTests
{
    [Theory]
    [InlineData("0", true)]
    [InlineData("9", true)]
    [InlineData("a", true)]
    [InlineData("z", true)]
    [InlineData("a-0", true)]
    [InlineData("12345678", true)]
    [InlineData("123456789", false)]
    [InlineData("/", false)]
    [InlineData(":", false)]
    [InlineData("`", false)]
    [InlineData("{", false)]
    [InlineData("A", false)]
    [InlineData("-a", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void IsValid_CharacterAndLengthEdges(string? id, bool valid) => Assert.Equal(valid, IssuerIds.IsValid(id));

    [Fact]
    public void Validate_Invalid_MessageNamesTheIdAndTheRule()
    {
        var error = Assert.Throws<ArgumentException>(() => IssuerIds.Validate("Bad", "issuer"));

        Assert.Equal("issuer", error.ParamName);
        Assert.StartsWith("issuer id 'Bad' must have 1 to 8 characters of a-z, 0-9 and '-', not starting with '-'", error.Message, StringComparison.Ordinal);
        Assert.Equal("ok-1", IssuerIds.Validate("ok-1", "issuer"));
    }

    [Fact]
    public void New_NullIssuers_ArgumentNull() =>
        Assert.Equal("issuers", Assert.Throws<ArgumentNullException>(() => new IssuerTrust(null!)).ParamName);

    [Fact]
    public void New_OneIssuerTwice_MessageNamesIt()
    {
        using var a = new TestIssuer(issuerId: "nw");
        using var b = new TestIssuer(issuerId: "nw");

        var error = Assert.Throws<ArgumentException>(() => new IssuerTrust([a.Trust, b.Trust]));

        Assert.Equal("issuers", error.ParamName);
        Assert.StartsWith("issuer 'nw' is given twice", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void New_HomeNotAmongTheIssuers_MessageListsThemInOrdinalOrder()
    {
        using var card = new TestIssuer(issuerId: "card");
        using var wallet = new TestIssuer(issuerId: "nw");
        using var bank = new TestIssuer(issuerId: "bank");

        var error = Assert.Throws<ArgumentException>(() => new IssuerTrust([wallet.Trust, card.Trust, bank.Trust], home: "city"));

        Assert.Equal("home", error.ParamName);
        Assert.StartsWith("the home issuer 'city' is not among the issuers (bank, card, nw)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void IssuerIds_InOrdinalOrder_AndTryGetByIdOrHome()
    {
        using var home = new TestIssuer();
        using var wallet = new TestIssuer(issuerId: "nw");
        using var card = new TestIssuer(issuerId: "card");
        var trust = new IssuerTrust([wallet.Trust, home.Trust, card.Trust]);

        Assert.Equal(["card", "home", "nw"], trust.IssuerIds);
        Assert.Same(home.Trust, trust.Home);
        Assert.True(trust.TryGet(null, out var v1));
        Assert.Same(home.Trust, v1);
        Assert.True(trust.TryGet("nw", out var nw));
        Assert.Same(wallet.Trust, nw);
        Assert.False(trust.TryGet("bank", out _));
    }

    [Fact]
    public void TryGet_Version1WithoutHome_False()
    {
        using var wallet = new TestIssuer(issuerId: "nw");
        var trust = new IssuerTrust([wallet.Trust]);

        Assert.Null(trust.Home);
        Assert.False(trust.TryGet(null, out _));
        Assert.Same(wallet.Trust, new IssuerTrust([wallet.Trust], home: "nw").Home);
    }
}
