using Transit.Analytics.Privacy;

namespace Transit.Analytics.Tests;

public sealed class PrivacyTests
{
    [Fact]
    public void Of_SameAccountAndSecret_GivesTheSamePseudonym()
    {
        var a = new Pseudonymizer("deployment-secret-one-0123456789"u8);
        var b = new Pseudonymizer("deployment-secret-one-0123456789"u8);
        Assert.Equal(a.Of("rider-0042"), b.Of("rider-0042"));
        Assert.NotEqual(a.Of("rider-0042"), a.Of("rider-0043"));
    }

    [Fact]
    public void Of_OtherSecret_GivesAnUnlinkablePseudonym()
    {
        var a = new Pseudonymizer("deployment-secret-one-0123456789"u8);
        var b = new Pseudonymizer("deployment-secret-two-0123456789"u8);
        Assert.NotEqual(a.Of("rider-0042"), b.Of("rider-0042"));
    }

    [Fact]
    public void Of_KnownVector_IsTheFirstEightBytesOfHmacSha256()
    {
        var secret = "0123456789abcdef"u8.ToArray();
        var mac = System.Security.Cryptography.HMACSHA256.HashData(secret, "r0000001"u8);
        Assert.Equal(BitConverter.ToInt64(mac), new Pseudonymizer(secret).Of("r0000001"));
        Assert.Equal(16, Pseudonymizer.Text(new Pseudonymizer(secret).Of("r0000001")).Length);
    }

    [Fact]
    public void Of_NoAccount_IsTheUnknownRider()
    {
        var p = new Pseudonymizer("deployment-secret-one-0123456789"u8);
        Assert.Equal(Pseudonymizer.Unknown, p.Of(null));
        Assert.Equal(Pseudonymizer.Unknown, p.Of(""));
    }

    [Fact]
    public void Constructor_ShortSecret_IsRefused() =>
        Assert.Throws<ArgumentException>(() => new Pseudonymizer("short"u8));

    [Fact]
    public void FromText_HexSecret_DecodesTheBytes() =>
        Assert.Equal(new Pseudonymizer(Convert.FromHexString("00112233445566778899aabbccddeeff")).Of("x"), Pseudonymizer.FromText("00112233445566778899aabbccddeeff").Of("x"));

    [Theory]
    [InlineData(0)]
    [InlineData(65)]
    public void SmallCellPolicy_KOutsideTheKeptRiderLists_IsRefused(int k) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new SmallCellPolicy(k));
}
