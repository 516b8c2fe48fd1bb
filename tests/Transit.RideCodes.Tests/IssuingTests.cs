using System.Buffers.Binary;
using Transit.RideCodes;

namespace Transit.RideCodes.Tests;

/// <summary>
/// The issuing side: <see cref="Credential.Issue"/> and <see cref="RideCode.Sign"/> refuse every field the format
/// cannot hold, at its exact edge, naming the argument; and the bytes they write are the documented layout.
/// </summary>
public sealed class IssuingTests : IDisposable
{
    private static readonly DateTimeOffset Now = TestIssuer.Now;
    private readonly TestIssuer _issuer = new();
    private readonly SigningKey _phone = SigningKey.Generate(SignatureAlgorithm.P256);

    public void Dispose()
    {
        _issuer.Dispose();
        _phone.Dispose();
    }

    private Credential Issue(string account = "rider", string category = "0", DateTimeOffset? notBefore = null, TimeSpan? validity = null, ulong? id = null) =>
        Credential.Issue(_issuer.Issuer, 1, account, category, notBefore ?? Now, validity ?? TimeSpan.FromHours(1), _phone.PublicKey, id);

    [Fact]
    public void Issue_WritesTheDocumentedBodyLayout()
    {
        var credential = Credential.Issue(
            _issuer.Issuer, 0x0102, "ab", "xyz", DateTimeOffset.FromUnixTimeSeconds(0x11223344), TimeSpan.FromMinutes(0x0506), _phone.PublicKey, 0x0A0B0C0D0E0F1011);

        byte[] expected =
        [
            0x01, 0x02, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0x10, 0x11, 0x11, 0x22, 0x33, 0x44, 0x05, 0x06, 0x13,
            (byte)'a', (byte)'b', (byte)'x', (byte)'y', (byte)'z', .. _phone.PublicKey.Compressed,
        ];
        Assert.Equal(expected, credential.Body);
        Assert.Equal((0x0102, 0x0A0B0C0D0E0F1011UL, "ab", "xyz"), (credential.KeyId, credential.CredentialId, credential.Account, credential.Category));
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(0x11223344), credential.NotBefore);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(0x11223344).AddMinutes(0x0506), credential.NotAfter);
        Assert.Equal("0a0b0c0d0e0f1011", credential.CredentialIdText);
        Assert.Equal(expected.Length + 64, credential.EncodedLength);
        Assert.Equal([.. "TR1C"u8, .. expected], credential.IssuerSignedMessage);
        Assert.True(_issuer.Issuer.PublicKey.Verify(credential.IssuerSignedMessage, credential.IssuerSignature));
        Assert.Equal([.. expected, .. credential.IssuerSignature], credential.ToBytes());
    }

    [Fact]
    public void Issue_WithoutId_DrawsARandomOne()
    {
        Assert.NotEqual(Issue().CredentialId, Issue().CredentialId);
    }

    [Fact]
    public void Issue_NullArguments_ThrowNamingThem()
    {
        Assert.Equal("issuerKey", Assert.Throws<ArgumentNullException>(
            () => Credential.Issue(null!, 1, "a", "", Now, TimeSpan.FromHours(1), _phone.PublicKey)).ParamName);
        Assert.Equal("phoneKey", Assert.Throws<ArgumentNullException>(
            () => Credential.Issue(_issuer.Issuer, 1, "a", "", Now, TimeSpan.FromHours(1), null!)).ParamName);
        Assert.Equal("account", Assert.Throws<ArgumentNullException>(() => Issue(account: null!)).ParamName);
        Assert.Equal("category", Assert.Throws<ArgumentNullException>(() => Issue(category: null!)).ParamName);
    }

    [Theory]
    [InlineData("", "0", "account", "account must have 1 to 16 characters (got 0)")]
    [InlineData("abcdefghijklmnopq", "", "account", "account must have 1 to 16 characters (got 17)")]
    [InlineData("a", "abcdefghijklmnop", "category", "category must have 0 to 15 characters (got 16)")]
    [InlineData("a b", "0", "account", "account may hold only printable ASCII without spaces (found U+0020)")]
    [InlineData("ab\u007f", "0", "account", "account may hold only printable ASCII without spaces (found U+007F)")]
    [InlineData("a", "\u00e9", "category", "category may hold only printable ASCII without spaces (found U+00E9)")]
    [InlineData("abcdefgh", "abcdefgh", "account",
        "account token and rider category together may have at most 15 characters (got 8 + 8) so that a code fits a 300-character QR code")]
    public void Issue_BadToken_ThrowsNamingItAndItsLimit(string account, string category, string parameter, string message)
    {
        var ex = Assert.Throws<ArgumentException>(() => Issue(account, category));

        Assert.Equal(parameter, ex.ParamName);
        Assert.Equal($"{message} (Parameter '{parameter}')", ex.Message);
    }

    [Theory]
    [InlineData("!", "")]
    [InlineData("~", "~")]
    [InlineData("abcdefghijklmnop", "")]
    [InlineData("a", "abcdefghijklmn")]
    [InlineData("abcdefgh", "abcdefg")]
    public void Issue_TokensAtTheirEdges_AcceptedAndReadBack(string account, string category)
    {
        if (account.Length + category.Length > Credential.MaxAccountAndCategoryLength)
        {
            Assert.Throws<ArgumentException>(() => Issue(account, category));
            return;
        }

        var credential = Issue(account, category);

        Assert.Equal((account, category), (credential.Account, credential.Category));
        Assert.True(Credential.TryParse(credential.ToBytes(), out var back));
        Assert.Equal((account, category), (back.Account, back.Category));
    }

    [Fact]
    public void Issue_PhoneKeyOfTheOtherAlgorithm_ThrowsNamingBoth()
    {
        using var sm2 = SigningKey.Generate(SignatureAlgorithm.Sm2);

        var ex = Assert.Throws<ArgumentException>(
            () => Credential.Issue(_issuer.Issuer, 1, "a", "", Now, TimeSpan.FromHours(1), sm2.PublicKey));

        Assert.Equal("phoneKey", ex.ParamName);
        Assert.Equal("the phone key is sm2 but the issuer key is p256 (Parameter 'phoneKey')", ex.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(59)]
    [InlineData(90)]
    [InlineData(65_536 * 60)]
    [InlineData(-60)]
    public void Issue_ValidityNotWholeMinutesInRange_Throws(int seconds)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Issue(validity: TimeSpan.FromSeconds(seconds)));

        Assert.Equal("validity", ex.ParamName);
        Assert.StartsWith("validity must be whole minutes between 1 minute and 45 days", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Issue_ValidityOneTickOffAWholeMinute_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Issue(validity: TimeSpan.FromMinutes(2) + TimeSpan.FromTicks(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Issue(validity: TimeSpan.FromMinutes(2) - TimeSpan.FromTicks(1)));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(65_535)]
    public void Issue_ValidityAtItsEdges_Accepted(int minutes)
    {
        var credential = Issue(validity: TimeSpan.FromMinutes(minutes));

        Assert.Equal(Now.AddMinutes(minutes), credential.NotAfter);
        Assert.Equal(Credential.MaxValidity, TimeSpan.FromMinutes(65_535));
    }

    [Fact]
    public void Issue_NotBeforeOutside1970To2106_Throws_AtTheEdges_Accepted()
    {
        var first = DateTimeOffset.UnixEpoch;
        var last = DateTimeOffset.FromUnixTimeSeconds(uint.MaxValue);

        Assert.Equal(first, Issue(notBefore: first).NotBefore);
        Assert.Equal(last, Issue(notBefore: last).NotBefore);
        foreach (var outside in new[] { first.AddSeconds(-1), last.AddSeconds(1) })
        {
            var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Issue(notBefore: outside));
            Assert.Equal("notBefore", ex.ParamName);
            Assert.StartsWith("not-before must lie between 1970 and 2106", ex.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("00000000000000ff", true, 0xFFUL)]
    [InlineData("FFFFFFFFFFFFFFFF", true, ulong.MaxValue)]
    [InlineData("0000000000000ff", false, 0UL)]
    [InlineData("000000000000000ff", false, 0UL)]
    [InlineData("000000000000000g", false, 0UL)]
    [InlineData(null, false, 0UL)]
    public void TryParseCredentialId_SixteenHexDigitsOnly(string? text, bool ok, ulong expected)
    {
        Assert.Equal(ok, Credential.TryParseCredentialId(text, out var id));
        if (ok)
        {
            Assert.Equal(expected, id);
            Assert.Equal(text!.ToLowerInvariant(), Credential.FormatCredentialId(id));
        }
    }

    [Fact]
    public void TryParse_EveryByteCountButTheRightOne_False()
    {
        var bytes = Issue("abc", "de").ToBytes();

        Assert.True(Credential.TryParse(bytes, out _));
        for (var length = 0; length < bytes.Length + 2; length++)
        {
            var data = length <= bytes.Length ? bytes[..length] : [.. bytes, 0];
            Assert.Equal(length == bytes.Length, Credential.TryParse(data, out _));
        }
    }

    [Theory]
    [InlineData(0x20, false)]
    [InlineData(0x21, true)]
    [InlineData(0x7E, true)]
    [InlineData(0x7F, false)]
    public void TryParse_AccountOrCategoryByte_PrintableAsciiOnly(byte value, bool ok)
    {
        var bytes = Issue("abc", "de").ToBytes();
        var inAccount = bytes.ToArray();
        inAccount[18] = value;
        var inCategory = bytes.ToArray();
        inCategory[21] = value;

        Assert.Equal(ok, Credential.TryParse(inAccount, out _));
        Assert.Equal(ok, Credential.TryParse(inCategory, out _));
    }

    [Theory]
    [InlineData(0x00, false)]
    [InlineData(0x02, true)]
    [InlineData(0x03, true)]
    [InlineData(0x04, false)]
    public void TryParse_PhoneKeyPrefix_CompressedOnly(byte prefix, bool ok)
    {
        var bytes = Issue("abc", "de").ToBytes();
        bytes[22] = prefix;

        Assert.Equal(ok, Credential.TryParse(bytes, out _));
    }

    [Fact]
    public void TryParse_ZeroMinutesOfValidity_False_OneMinute_True()
    {
        var bytes = Issue().ToBytes();
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(14), 0);
        Assert.False(Credential.TryParse(bytes, out _));

        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(14), 1);
        Assert.True(Credential.TryParse(bytes, out var credential));
        Assert.Equal(credential.NotBefore.AddMinutes(1), credential.NotAfter);
    }

    [Fact]
    public void Sign_WritesTheDocumentedCodeLayout()
    {
        var credential = Issue();

        var code = RideCode.Sign(credential, _phone, Now.AddSeconds(0x010203), 0x04);

        Assert.Equal((0x010203u, (byte)4), (code.TimestampOffset, code.Counter));
        Assert.Equal(Now.AddSeconds(0x010203), code.Timestamp);
        Assert.Equal(new ReplayKey(credential.CredentialId, 0x01020304), code.ReplayKey);
        Assert.Equal([.. "TR1D"u8, .. credential.ToBytes(), 1, 2, 3, 4], code.PhoneSignedMessage);
        Assert.Equal([.. credential.ToBytes(), 1, 2, 3, 4, .. code.Signature], code.ToBytes());
        Assert.True(_phone.PublicKey.Verify(code.PhoneSignedMessage, code.Signature));
        Assert.Equal("TR1:" + Base45.Encode(code.ToBytes()), code.ToText());
        Assert.Equal(code.ToText(), code.ToString());
    }

    [Fact]
    public void Sign_DropsFractionsOfASecond()
    {
        var code = RideCode.Sign(Issue(), _phone, Now.AddSeconds(5).AddMilliseconds(999), 0);

        Assert.Equal(5u, code.TimestampOffset);
    }

    [Fact]
    public void Sign_NullOrForeignKey_ThrowsNamingIt()
    {
        using var other = SigningKey.Generate(SignatureAlgorithm.P256);
        var credential = Issue();

        Assert.Equal("credential", Assert.Throws<ArgumentNullException>(() => RideCode.Sign(null!, _phone, Now, 0)).ParamName);
        Assert.Equal("phoneKey", Assert.Throws<ArgumentNullException>(() => RideCode.Sign(credential, null!, Now, 0)).ParamName);
        var ex = Assert.Throws<ArgumentException>(() => RideCode.Sign(credential, other, Now, 0));
        Assert.Equal("phoneKey", ex.ParamName);
        Assert.Equal("this phone key is not the one the credential names (Parameter 'phoneKey')", ex.Message);
    }

    [Fact]
    public void Sign_TimeOutsideNotBeforeTo194Days_Throws_AtTheEdges_Signs()
    {
        var credential = Issue();
        var last = credential.NotBefore.AddSeconds(RideCode.MaxTimestampOffset);

        Assert.Equal(0u, RideCode.Sign(credential, _phone, credential.NotBefore, 0).TimestampOffset);
        Assert.Equal(RideCode.MaxTimestampOffset, RideCode.Sign(credential, _phone, last, 0xFF).TimestampOffset);
        Assert.Equal(0xFFFF_FFFFu, RideCode.Sign(credential, _phone, last, 0xFF).ReplayKey.TimeAndCounter);
        foreach (var outside in new[] { credential.NotBefore.AddTicks(-1), last.AddSeconds(1) })
        {
            var ex = Assert.Throws<ArgumentOutOfRangeException>(() => RideCode.Sign(credential, _phone, outside, 0));
            Assert.Equal("at", ex.ParamName);
            Assert.StartsWith(
                $"a code's time must lie between the credential's not-before ({credential.NotBefore:O}) and 194 days after it",
                ex.Message,
                StringComparison.Ordinal);
        }
    }

    [Fact]
    public void ParseBytes_RoundTripsEveryField_AndRefusesAnyOtherLength()
    {
        var code = RideCode.Sign(Issue("abc", "de"), _phone, Now.AddSeconds(77), 9);
        var bytes = code.ToBytes();

        Assert.True(RideCodeFormat.TryParse(bytes, out var back));
        Assert.Equal(bytes, back.ToBytes());
        Assert.Equal((77u, (byte)9), (back.TimestampOffset, back.Counter));
        Assert.Equal(code.Signature, back.Signature);
        Assert.False(RideCodeFormat.TryParse(bytes[..^1], out _));
        Assert.False(RideCodeFormat.TryParse([.. bytes, 0], out _));
    }

    [Theory]
    [InlineData("TR3:AAAA", ParseStatus.UnsupportedVersion)]
    [InlineData("TR01:AAAA", ParseStatus.UnsupportedVersion)]
    [InlineData("TR123456:AAAA", ParseStatus.UnsupportedVersion)]
    [InlineData("TR1234567:AAAA", ParseStatus.Malformed)]
    [InlineData("TR:AAAA", ParseStatus.Malformed)]
    [InlineData("TR1", ParseStatus.Malformed)]
    [InlineData("TR12", ParseStatus.Malformed)]
    [InlineData("TR1;AAAA", ParseStatus.Malformed)]
    [InlineData("XR1:AAAA", ParseStatus.Malformed)]
    [InlineData("TX1:AAAA", ParseStatus.Malformed)]
    [InlineData("TR1:", ParseStatus.Malformed)]
    [InlineData("TR1:AAAA", ParseStatus.Malformed)]
    [InlineData("TR1:a", ParseStatus.Malformed)]
    [InlineData("", ParseStatus.Malformed)]
    [InlineData(null, ParseStatus.Malformed)]
    public void ParseText_Prefix_VersionOrMalformed(string? text, ParseStatus expected)
    {
        Assert.Equal(expected, RideCodeFormat.TryParse(text, out var code));
        Assert.Null(code);
    }

    [Fact]
    public void ParseText_LongerThanTheLimit_MalformedWithoutDecoding_ValidCodeOk()
    {
        var text = RideCode.Sign(Issue(), _phone, Now, 0).ToText();

        Assert.Equal(ParseStatus.Ok, RideCodeFormat.TryParse(text, out var code));
        Assert.Equal(text, code.ToText());
        Assert.Equal(ParseStatus.Malformed, RideCodeFormat.TryParse("TR3:" + new string('A', RideCodeFormat.MaxTextLength - 3), out _));
        Assert.Equal(ParseStatus.UnsupportedVersion, RideCodeFormat.TryParse("TR3:" + new string('A', RideCodeFormat.MaxTextLength - 4), out _));
    }
}
