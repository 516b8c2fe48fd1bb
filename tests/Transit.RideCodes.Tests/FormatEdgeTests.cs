using Transit.RideCodes;

namespace Transit.RideCodes.Tests;

/// <summary>Base45 and the reason codes at their edges: the largest group values, each position of a bad character.</summary>
public sealed class FormatEdgeTests
{
    [Theory]
    [InlineData("FGW", new byte[] { 0xFF, 0xFF })] // 15 + 15 × 45 + 32 × 2025 = 65535
    [InlineData("U5", new byte[] { 0xFF })]         // 30 + 5 × 45 = 255
    [InlineData("000", new byte[] { 0, 0 })]
    [InlineData("00", new byte[] { 0 })]
    [InlineData("", new byte[0])]
    public void TryDecode_LargestAndSmallestGroups_Decoded(string text, byte[] expected)
    {
        Assert.True(Base45.TryDecode(text, out var data));
        Assert.Equal(expected, data);
        Assert.Equal(text, Base45.Encode(expected));
    }

    [Theory]
    [InlineData("a00")]
    [InlineData("0a0")]
    [InlineData("00a")]
    [InlineData("000a0")]
    [InlineData("0000a")]
    [InlineData("000\u00800")]
    [InlineData("0000\uffff")]
    [InlineData("0000")]
    [InlineData("0000000")]
    public void TryDecode_BadCharacterInAnyPosition_OrDanglingCharacter_False(string text)
    {
        Assert.False(Base45.TryDecode(text, out var data));
        Assert.Empty(data);
    }

    [Theory]
    [InlineData('0', true)]
    [InlineData(':', true)]
    [InlineData(' ', true)]
    [InlineData('a', false)]
    [InlineData('\u007f', false)]
    [InlineData('\u0080', false)]
    [InlineData('\u0100', false)]
    public void IsInAlphabet_QrAlphanumericOnly(char c, bool expected) => Assert.Equal(expected, Base45.IsInAlphabet(c));

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 2)]
    [InlineData(2, 3)]
    [InlineData(3, 5)]
    [InlineData(213, 320)]
    public void EncodedLength_ThreePerTwoBytesTwoForALastOne(int bytes, int chars) => Assert.Equal(chars, Base45.EncodedLength(bytes));

    [Fact]
    public void EncodedLength_Negative_Throws() =>
        Assert.Equal("byteCount", Assert.Throws<ArgumentOutOfRangeException>(() => Base45.EncodedLength(-1)).ParamName);

    [Fact]
    public void ReasonCodes_OnePerReasonInCheckingOrder_RoundTrip()
    {
        var reasons = Enum.GetValues<VerificationReason>();

        Assert.Equal(reasons.Length, VerificationReasons.All.Count);
        Assert.Equal("ok", VerificationReason.Ok.ToCode());
        Assert.Equal("replayed", VerificationReason.Replayed.ToCode());
        Assert.Equal("credential-validity-too-long", VerificationReason.CredentialValidityTooLong.ToCode());
        foreach (var reason in reasons)
        {
            Assert.Equal(VerificationReasons.All[(int)reason], reason.ToCode());
            Assert.True(VerificationReasons.TryParse(reason.ToCode(), out var back));
            Assert.Equal(reason, back);
        }
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("OK")]
    [InlineData("expired")]
    public void ReasonCodes_UnknownName_FalseAndOk(string? code)
    {
        Assert.False(VerificationReasons.TryParse(code, out var reason));
        Assert.Equal(VerificationReason.Ok, reason);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(15)]
    public void ReasonCodes_UnknownValue_Throws(int value) =>
        Assert.Equal("reason", Assert.Throws<ArgumentOutOfRangeException>(() => ((VerificationReason)value).ToCode()).ParamName);
}
