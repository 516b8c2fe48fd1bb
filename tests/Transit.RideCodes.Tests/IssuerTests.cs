using System.Text;
using Transit.RideCodes;
using static Transit.RideCodes.Tests.TestIssuer;

namespace Transit.RideCodes.Tests;

/// <summary>Several issuers at one verifier: each code is checked under its own issuer's chain, and only that one.</summary>
public class IssuerTests
{
    [Fact]
    public void Verify_CodesOfEachAcceptedIssuer_AcceptedAndNamedByIssuer()
    {
        using var home = new TestIssuer();
        using var wallet = new TestIssuer(SignatureAlgorithm.Sm2, issuerId: "nw");
        using var card = new TestIssuer(issuerId: "card");
        var verifier = Verifier(home, wallet, card);
        using var a = home.Phone();
        using var b = wallet.Phone();
        using var c = card.Phone();

        var results = new[] { a, b, c }.Select(p => verifier.Verify(p.Show(Now, 0).ToText())).ToList();

        Assert.All(results, r => Assert.Equal(VerificationReason.Ok, r.Reason));
        Assert.Equal(["home", "nw", "card"], results.Select(r => r.Issuer));
        Assert.StartsWith("TR1:", a.Show(Now, 0).ToText(), StringComparison.Ordinal);
        Assert.StartsWith("TR2:", b.Show(Now, 0).ToText(), StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_IssuerNotAccepted_UnknownIssuer()
    {
        using var home = new TestIssuer();
        using var wallet = new TestIssuer(issuerId: "nw");
        using var phone = wallet.Phone();

        var result = Verifier(home).Verify(phone.Show(Now, 0).ToText());

        Assert.Equal(VerificationReason.UnknownIssuer, result.Reason);
        Assert.Equal("nw", result.Issuer);
    }

    [Fact]
    public void Verify_Version1CodeWithoutHomeIssuer_UnknownIssuer()
    {
        using var home = new TestIssuer();
        using var wallet = new TestIssuer(issuerId: "nw");
        using var phone = home.Phone();

        Assert.Equal(VerificationReason.UnknownIssuer, Verifier(wallet).Verify(phone.Show(Now, 0).ToText()).Reason);
    }

    [Fact]
    public void Verify_CredentialNamingAnotherIssuerSignedWithOwnKey_BadIssuerSignature()
    {
        // The wallet's key, same key id as the card's, signs a credential that claims to be the card's.
        using var wallet = new TestIssuer(issuerId: "nw");
        using var card = new TestIssuer(issuerId: "card");
        using var forged = PhoneCredential.Issue(wallet.Issuer, card.KeyId, "rider-1", "0", Now.AddHours(-1), TimeSpan.FromHours(24), "card");

        Assert.Equal(VerificationReason.BadIssuerSignature, Verifier(wallet, card).Verify(forged.Show(Now, 0).ToText()).Reason);
    }

    [Fact]
    public void Verify_Version1CodeSignedByExternalIssuerKey_BadIssuerSignature()
    {
        // An external issuer's key makes a TR1 code: TR1 codes are the home issuer's, checked under its keys only.
        using var home = new TestIssuer();
        using var wallet = new TestIssuer(issuerId: "nw");
        using var forged = PhoneCredential.Issue(wallet.Issuer, home.KeyId, "rider-1", "0", Now.AddHours(-1), TimeSpan.FromHours(24));

        Assert.Equal(VerificationReason.BadIssuerSignature, Verifier(home, wallet).Verify(forged.Show(Now, 0).ToText()).Reason);
    }

    [Fact]
    public void Verify_IssuerIdRewrittenInAValidCode_BadIssuerSignature()
    {
        // The issuer id is inside the signed body: relabelling a genuine "nw" code as "nx" breaks the issuer signature.
        using var nw = new TestIssuer(issuerId: "nw");
        using var nx = new TestIssuer(issuerId: "nx");
        using var phone = nw.Phone();
        var bytes = phone.Show(Now, 0).ToBytes();
        Assert.Equal((byte)'w', bytes[2]);
        bytes[2] = (byte)'x';
        var relabelled = RideCodeFormat.IssuerPrefix + Base45.Encode(bytes);

        var result = Verifier(nw, nx).Verify(relabelled);

        Assert.Equal("nx", result.Issuer);
        Assert.Equal(VerificationReason.BadIssuerSignature, result.Reason);
    }

    [Fact]
    public void Verify_Version1CodeRewrappedAsVersion2_Refused()
    {
        // The same body under the other version's domain tag does not verify: TR1 and TR2 signatures never mix.
        using var home = new TestIssuer(issuerId: "city");
        using var phone = PhoneCredential.Issue(home.Issuer, home.KeyId, "rider-1", "0", Now.AddHours(-1), TimeSpan.FromHours(24));
        var v1 = phone.Show(Now, 0).ToBytes();
        var rewrapped = RideCodeFormat.IssuerPrefix + Base45.Encode([4, .. "city"u8, .. v1]);

        Assert.Equal(VerificationReason.BadIssuerSignature, Verifier(home).Verify(rewrapped).Reason);
    }

    [Fact]
    public void Verify_CachedVersion1CredentialWhoseBytesAlsoReadAsVersion2_Version2NotTakenFromTheCache()
    {
        // A version-1 credential built so that its exact bytes also parse as a version-2 credential of the same issuer
        // ("city") for another account ("rider1"): key id 0x0463 = 04 'c', then "ity", and fields that line up. The
        // issuer signed them under "TR1C" only; the cache must not let the version-2 reading skip "TR2C".
        using var city = new TestIssuer(keyId: 0x0463, issuerId: "city");
        using var phoneKey = SigningKey.Generate(SignatureAlgorithm.P256);
        var v1 = Credential.Issue(
            city.Issuer, 0x0463, "!!!!Prider", "1", Now.AddHours(-1), TimeSpan.FromMinutes(0x69), phoneKey.PublicKey, 0x6974_7904_6300_0001UL);
        Assert.True(Credential.TryParse(v1.ToBytes(), 2, out var v2));
        Assert.Equal(("city", "rider1"), (v2.Issuer, v2.Account));
        var verifier = city.Verifier();
        Assert.Equal(VerificationReason.Ok, verifier.Verify(RideCode.Sign(v1, phoneKey, Now, 0).ToText(), Now).Reason);

        var at = v2.NotBefore.AddMinutes(1);
        var result = verifier.Verify(RideCode.Sign(v2, phoneKey, at, 0).ToText(), at);

        Assert.Equal(VerificationReason.BadIssuerSignature, result.Reason);
    }

    [Fact]
    public void Verify_SameAccountAtTwoIssuers_DenyListOfOneDeniesOnlyItsOwnRider()
    {
        using var home = new TestIssuer();
        using var wallet = new TestIssuer(issuerId: "nw");
        var homeTrust = new TrustStore(home.Root.PublicKey, home.KeySet, new DenyList(2, Now, ["rider-1"], []));
        var verifier = new RideCodeVerifier(new IssuerTrust([homeTrust, wallet.Trust]), time: new FixedClock(Now), replays: new ReplayCache());
        using var atHome = home.Phone("rider-1");
        using var atWallet = wallet.Phone("rider-1");

        Assert.Equal(VerificationReason.Denied, verifier.Verify(atHome.Show(Now, 0).ToText()).Reason);
        Assert.Equal(VerificationReason.Ok, verifier.Verify(atWallet.Show(Now, 0).ToText()).Reason);
    }

    [Fact]
    public void Verify_SameCredentialIdAndTimeAtTwoIssuers_NotAReplay()
    {
        // Issuers draw credential ids on their own; one issuer's code must not make another's look replayed.
        using var home = new TestIssuer();
        using var wallet = new TestIssuer(issuerId: "nw");
        using var phoneKey = SigningKey.Generate(SignatureAlgorithm.P256);
        var first = Credential.Issue(home.Issuer, home.KeyId, "a", "0", Now.AddHours(-1), TimeSpan.FromHours(24), phoneKey.PublicKey, 42);
        var second = Credential.Issue(wallet.Issuer, wallet.KeyId, "a", "0", Now.AddHours(-1), TimeSpan.FromHours(24), phoneKey.PublicKey, 42, "nw");
        var verifier = Verifier(home, wallet);

        Assert.Equal(VerificationReason.Ok, verifier.Verify(RideCode.Sign(first, phoneKey, Now, 0).ToText()).Reason);
        Assert.Equal(VerificationReason.Ok, verifier.Verify(RideCode.Sign(second, phoneKey, Now, 0).ToText()).Reason);
        Assert.Equal(VerificationReason.Replayed, verifier.Verify(RideCode.Sign(second, phoneKey, Now, 0).ToText()).Reason);
    }

    [Fact]
    public void UpdateKeySet_KeySetOfAnotherIssuer_RefusedAndHeldKept()
    {
        // Even under the chain's own root (a root shared by mistake), a key set naming another issuer is refused.
        using var wallet = new TestIssuer(issuerId: "nw");
        var other = new KeySet(2, Now, wallet.KeySet.Keys, issuer: "card");

        var ex = Assert.Throws<TrustDocumentException>(() => wallet.Trust.UpdateKeySet(other.Sign(wallet.Root)));

        Assert.Contains("issuer 'card'", ex.Message, StringComparison.Ordinal);
        Assert.Equal("nw", wallet.Trust.IssuerId);
        Assert.Equal(1, wallet.Trust.KeySet.Version);
    }

    [Fact]
    public void IssuerTrust_TwoChainsForOneIssuer_Refused()
    {
        using var a = new TestIssuer(issuerId: "nw");
        using var b = new TestIssuer(issuerId: "nw");

        Assert.Throws<ArgumentException>(() => new IssuerTrust([a.Trust, b.Trust]));
    }

    [Fact]
    public void KeySet_IssuerId_RoundTripsThroughTheSignedDocument()
    {
        using var wallet = new TestIssuer(issuerId: "nw");
        var opened = KeySet.Open(wallet.KeySet.Sign(wallet.Root), wallet.Root.PublicKey);
        Assert.Equal("nw", opened.Issuer);
        Assert.Contains("\"issuer\":\"nw\"", Encoding.UTF8.GetString(wallet.KeySet.ToPayload()), StringComparison.Ordinal);

        using var home = new TestIssuer();
        Assert.DoesNotContain("issuer", Encoding.UTF8.GetString(home.KeySet.ToPayload()), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("Upper")]
    [InlineData("-lead")]
    [InlineData("toolongid")]
    [InlineData("sp ace")]
    public void Issue_BadIssuerId_Refused(string issuer)
    {
        using var home = new TestIssuer();
        Assert.Throws<ArgumentException>(() => PhoneCredential.Issue(home.Issuer, 1, "a", "0", Now, TimeSpan.FromHours(1), issuer));
    }

    [Theory]
    [InlineData(SignatureAlgorithm.P256)]
    [InlineData(SignatureAlgorithm.Sm2)]
    public void Show_LongestAccountCategoryAndIssuer_FitsIn300Characters(SignatureAlgorithm algorithm)
    {
        using var issuer = new TestIssuer(algorithm, issuerId: "abcdefgh");
        using var phone = issuer.Phone("abcde", "f");
        Assert.True(phone.Show(Now, 0).ToText().Length <= 300);

        var ex = Assert.Throws<ArgumentException>(() => issuer.Phone("abcdef", "f"));
        Assert.Contains("300-character", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_Version2WithBadIssuerBytes_Malformed()
    {
        using var wallet = new TestIssuer(issuerId: "nw");
        using var phone = wallet.Phone();
        var bytes = phone.Show(Now, 0).ToBytes();
        foreach (var (index, value) in new[] { (0, (byte)0), (0, (byte)9), (1, (byte)'N'), (1, (byte)'-') })
        {
            var copy = bytes.ToArray();
            copy[index] = value;
            Assert.Equal(VerificationReason.Malformed, wallet.Verifier().Verify(RideCodeFormat.IssuerPrefix + Base45.Encode(copy)).Reason);
        }
    }

    [Fact]
    public void PhoneCredentialFile_Version2_RoundTripsWithItsIssuer()
    {
        using var wallet = new TestIssuer(issuerId: "nw");
        using var phone = wallet.Phone();
        using var read = PhoneCredential.Parse(phone.ToJson());

        Assert.Equal("nw", read.Credential.Issuer);
        Assert.Throws<TrustDocumentException>(() => PhoneCredential.Parse(phone.ToJson().Replace("\"issuer\":\"nw\"", "\"issuer\":\"nx\"", StringComparison.Ordinal)));
    }

    private static RideCodeVerifier Verifier(params TestIssuer[] issuers) =>
        new(new IssuerTrust(issuers.Select(i => i.Trust)), time: new FixedClock(Now), replays: new ReplayCache());
}
