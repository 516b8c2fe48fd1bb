using System.Text;
using Transit.RideCodes;

namespace Transit.RideCodes.Tests;

public class Base45Tests
{
    [Theory]
    [InlineData("AB", "BB8")]
    [InlineData("Hello!!", "%69 VD92EX0")]
    [InlineData("base-45", "UJCLQE7W581")]
    [InlineData("ietf!", "QED8WEX0")]
    [InlineData("", "")]
    public void Encode_Rfc9285Examples(string plain, string encoded)
    {
        Assert.Equal(encoded, Base45.Encode(Encoding.ASCII.GetBytes(plain)));
        Assert.True(Base45.TryDecode(encoded, out var decoded));
        Assert.Equal(plain, Encoding.ASCII.GetString(decoded));
    }

    [Theory]
    [InlineData("GGW")]   // 65535 + 1: a 3-character group above 0xFFFF
    [InlineData("ZZZ")]
    [InlineData("V5")]    // 2-character group above 0xFF (31 + 5 × 45 = 256)
    [InlineData("A")]     // a dangling single character
    [InlineData("ab")]    // lower case is not in the alphabet
    [InlineData("BB8é")]
    [InlineData("BB\u0000")]
    public void TryDecode_InvalidText_ReturnsFalse(string text) => Assert.False(Base45.TryDecode(text, out _));

    [Fact]
    public void Encode_AllByteValues_RoundTrip()
    {
        var bytes = Enumerable.Range(0, 256).Select(i => (byte)i).Concat(new byte[] { 0xFF, 0xFF, 0x00 }).ToArray();
        var text = Base45.Encode(bytes);
        Assert.Equal(Base45.EncodedLength(bytes.Length), text.Length);
        Assert.True(Base45.TryDecode(text, out var decoded));
        Assert.Equal(bytes, decoded);
    }
}
