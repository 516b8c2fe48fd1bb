using System.Text;
using Transit.RideCodes;
using static Transit.RideCodes.Tests.TestIssuer;

namespace Transit.RideCodes.Tests;

/// <summary>
/// The operator's signed acceptance list (docs/interoperability.md, "Acceptance document"): signed by clearing's
/// online key under the operator's trust, naming each accepted issuer's root, versioned, and tamper-evident.
/// </summary>
public sealed class IssuerAcceptanceTests : IDisposable
{
    private readonly TestIssuer _operator = new();
    private readonly SigningKey _online = SigningKey.Generate(SignatureAlgorithm.P256);
    private readonly TestIssuer _wallet = new(SignatureAlgorithm.Sm2, issuerId: "nw");
    private readonly TestIssuer _card = new(issuerId: "card");
    private readonly KeySet _operatorKeys;

    public IssuerAcceptanceTests() =>
        _operatorKeys = new KeySet(
            2, Now.AddDays(-1), _operator.KeySet.Keys, [new OnlineKey(1, _online.PublicKey, KeyStatus.Active, OnlineKey.DelegableDocuments)]);

    public void Dispose()
    {
        _operator.Dispose();
        _online.Dispose();
        _wallet.Dispose();
        _card.Dispose();
    }

    [Fact]
    public void Open_SignedByCertifiedOnlineKey_ReadsEveryIssuerAndWindow()
    {
        var document = Acceptance(3).ToJson();

        var opened = IssuerAcceptance.Open(SignedDocument.Parse(document), _operator.Root.PublicKey, _operatorKeys, "metro");

        Assert.Equal(3, opened.Version);
        Assert.Equal(["card", "nw"], opened.Issuers.Select(i => i.IssuerId));
        var nw = opened.Issuers.Single(i => i.IssuerId == "nw");
        Assert.Equal(SignatureAlgorithm.Sm2, nw.Algorithm);
        Assert.Equal(_wallet.Root.PublicKey.Compressed, nw.RootKey.Compressed);
        Assert.Equal(Now.AddDays(-2), nw.ValidFrom);
        Assert.Equal(Now.AddDays(5), nw.ValidTo);
        Assert.Null(opened.Issuers.Single(i => i.IssuerId == "card").ValidTo);
    }

    [Fact]
    public void Open_SignedByAnUncertifiedKey_Refused()
    {
        using var stranger = SigningKey.Generate(SignatureAlgorithm.P256);
        var forged = SignedDocument.CreateOnline(IssuerAcceptance.DocumentType, List(3).ToPayload(), stranger, 1);

        var ex = Assert.Throws<TrustDocumentException>(() => IssuerAcceptance.Open(forged, _operator.Root.PublicKey, _operatorKeys, "metro"));
        Assert.Contains("signature by online key 1 does not verify", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_SignedByAnIssuerRootInsteadOfTheOperators_Refused()
    {
        // An issuer must not be able to add itself (or another issuer) to an operator's list.
        var forged = SignedDocument.Create(IssuerAcceptance.DocumentType, List(3).ToPayload(), _wallet.Root);

        Assert.Throws<TrustDocumentException>(() => IssuerAcceptance.Open(forged, _operator.Root.PublicKey, _operatorKeys, "metro"));
    }

    [Fact]
    public void Open_AnotherOperatorsList_Refused()
    {
        var ex = Assert.Throws<TrustDocumentException>(() =>
            IssuerAcceptance.Open(Acceptance(3), _operator.Root.PublicKey, _operatorKeys, "bus"));
        Assert.Contains("for operator 'metro', not 'bus'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_AnyPayloadByteTampered_Refused()
    {
        var genuine = Acceptance(3);
        for (var i = 0; i < genuine.Payload.Length; i++)
        {
            var payload = (byte[])genuine.Payload.Clone();
            payload[i] ^= 0x01;
            var tampered = new SignedDocument(genuine.Type, genuine.Algorithm, payload, genuine.Signature, genuine.OnlineKeyId);
            Assert.Throws<TrustDocumentException>(() => IssuerAcceptance.Open(tampered, _operator.Root.PublicKey, _operatorKeys, "metro"));
        }
    }

    [Fact]
    public void SupersedesHeld_OlderVersionRefused_SameVersionNothingToDo_NewerTaken()
    {
        var held = Open(Acceptance(3));

        var older = Assert.Throws<TrustDocumentException>(() => Open(Acceptance(2)).SupersedesHeld(held));
        Assert.Contains("version 2 is older than the held version 3", older.Message, StringComparison.Ordinal);
        Assert.False(Open(Acceptance(3)).SupersedesHeld(held));
        Assert.True(Open(Acceptance(4)).SupersedesHeld(held));
        Assert.True(held.SupersedesHeld(null));
    }

    [Fact]
    public void SupersedesHeld_SameVersionOtherContent_Refused()
    {
        var held = Open(Acceptance(3));
        var other = Open(Sign(new IssuerAcceptance(3, "metro", Now, [Accepted(_card, Now.AddDays(-2), null)])));

        Assert.Throws<TrustDocumentException>(() => other.SupersedesHeld(held));
    }

    [Fact]
    public void OpenChain_KeySetSignedByAnotherRoot_RefusedNamingTheIssuer()
    {
        // The card's key set, but relabelled as the wallet's: clearing (or the wire) must not swap roots.
        var nw = Open(Acceptance(3)).Issuers.Single(i => i.IssuerId == "nw");

        var ex = Assert.Throws<TrustDocumentException>(() => nw.OpenChain(_card.KeySet.Sign(_card.Root), null));
        Assert.Contains("issuer 'nw': its key set does not verify under the root key the acceptance names", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OpenChain_KeySetOfAnotherIssuerUnderTheNamedRoot_Refused()
    {
        // The wallet's own root signing a key set that declares the card: the wallet cannot serve as the card.
        var relabelled = new KeySet(1, Now, _wallet.KeySet.Keys, issuer: "card");
        var nw = Open(Acceptance(3)).Issuers.Single(i => i.IssuerId == "nw");

        var ex = Assert.Throws<TrustDocumentException>(() => nw.OpenChain(relabelled.Sign(_wallet.Root), null));
        Assert.Contains("issuer 'nw': the key set is issuer 'card's", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OpenChain_DenyListOfAnotherIssuer_Refused()
    {
        var nw = Open(Acceptance(3)).Issuers.Single(i => i.IssuerId == "nw");
        var cardList = new DenyList(2, Now, ["rider-1"], []).Sign(_card.Root);

        var ex = Assert.Throws<TrustDocumentException>(() => nw.OpenChain(_wallet.KeySet.Sign(_wallet.Root), cardList));
        Assert.Contains("issuer 'nw': deny list", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OpenChain_GenuineKeySetAndDenyList_ServeTheIssuer()
    {
        var nw = Open(Acceptance(3)).Issuers.Single(i => i.IssuerId == "nw");

        var chain = nw.OpenChain(_wallet.KeySet.Sign(_wallet.Root), new DenyList(2, Now, ["rider-9"], []).Sign(_wallet.Root));

        Assert.Equal("nw", chain.IssuerId);
        Assert.Equal(2, chain.DenyList.Version);
    }

    [Theory]
    [InlineData("home")]
    [InlineData("Bad")]
    [InlineData("")]
    public void Create_NotAnotherIssuersId_Refused(string id) =>
        Assert.Throws<TrustDocumentException>(() => new IssuerAcceptance(1, "metro", Now, [new AcceptedIssuer(id, _card.Root.PublicKey, Now, null)]));

    [Fact]
    public void Create_IssuerTwiceOrEmptyWindow_Refused()
    {
        Assert.Throws<TrustDocumentException>(() => new IssuerAcceptance(1, "metro", Now, [Accepted(_card, Now, null), Accepted(_card, Now.AddDays(1), null)]));
        Assert.Throws<TrustDocumentException>(() => new IssuerAcceptance(1, "metro", Now, [Accepted(_card, Now, Now)]));
        Assert.Throws<TrustDocumentException>(() => new IssuerAcceptance(0, "metro", Now, []));
    }

    [Fact]
    public void Verify_OutsideTheAcceptanceWindow_UnknownIssuer_InsideOk()
    {
        var windows = new Dictionary<string, (DateTimeOffset, DateTimeOffset)> { ["nw"] = (Now.AddMinutes(-10), Now.AddMinutes(10)) };
        var trust = new IssuerTrust([_operator.Trust, _wallet.Trust], "home", windows);
        var verifier = new RideCodeVerifier(trust, time: new FixedClock(Now));
        using var phone = _wallet.Phone();

        Assert.Equal(VerificationReason.Ok, verifier.Verify(phone.Show(Now, 0).ToText(), Now).Reason);
        Assert.Equal(VerificationReason.UnknownIssuer, verifier.Verify(phone.Show(Now.AddMinutes(10), 1).ToText(), Now.AddMinutes(10)).Reason);
        Assert.Equal(VerificationReason.UnknownIssuer, verifier.Verify(phone.Show(Now.AddMinutes(-11), 2).ToText(), Now.AddMinutes(-11)).Reason);
    }

    [Fact]
    public void Payload_FixedInputs_MatchesTheDocumentedTestVector()
    {
        using var p256 = SigningKey.FromPrivateScalar(SignatureAlgorithm.P256, Convert.FromHexString(VectorScalar));
        var at = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
        var list = new IssuerAcceptance(7, "metro", at, [new AcceptedIssuer("nw", p256.PublicKey, at, at.AddDays(31))]);

        Assert.Equal(VectorPayload, Encoding.UTF8.GetString(list.ToPayload()));
        Assert.Equal(list.ToPayload(), Open(VectorEnvelope, p256.PublicKey, null).ToPayload());
    }

    // docs/interoperability.md, "Acceptance document": the test vector (root-signed, so that it verifies without a key set).
    private const string VectorScalar = "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721";

    private const string VectorPayload =
        """{"version":7,"operator":"metro","issuedAt":"2026-12-01T00:00:00+00:00","issuers":[{"id":"nw","alg":"p256","rootPublicKey":"A2D\u002B1LolWp0xyWHrdMY1bWjASbiSO2H6bOZpYi5g8p\u002B2","validFrom":"2026-12-01T00:00:00+00:00","validTo":"2027-01-01T00:00:00+00:00"}]}""";

    private const string VectorEnvelope =
        """{"type":"transit-issuer-acceptance","alg":"p256","payload":"eyJ2ZXJzaW9uIjo3LCJvcGVyYXRvciI6Im1ldHJvIiwiaXNzdWVkQXQiOiIyMDI2LTEyLTAxVDAwOjAwOjAwKzAwOjAwIiwiaXNzdWVycyI6W3siaWQiOiJudyIsImFsZyI6InAyNTYiLCJyb290UHVibGljS2V5IjoiQTJEXHUwMDJCMUxvbFdwMHh5V0hyZE1ZMWJXakFTYmlTTzJINmJPWnBZaTVnOHBcdTAwMkIyIiwidmFsaWRGcm9tIjoiMjAyNi0xMi0wMVQwMDowMDowMCswMDowMCIsInZhbGlkVG8iOiIyMDI3LTAxLTAxVDAwOjAwOjAwKzAwOjAwIn1dfQ==","signature":"om1swOeyfEMHEbfmcgCO4VT81SNjAPyYOyz/PsDDmLrtv9f5dwXfEPeUDtjllmrMRH2GgdfLZa2O7pRpQppZxA=="}""";

    private static IssuerAcceptance Open(string envelope, PublicKey root, KeySet? keySet) =>
        IssuerAcceptance.Open(SignedDocument.Parse(envelope), root, keySet ?? new KeySet(1, Now, []), "metro");

    private IssuerAcceptance Open(SignedDocument document) => IssuerAcceptance.Open(document, _operator.Root.PublicKey, _operatorKeys, "metro");

    private SignedDocument Acceptance(long version) => Sign(List(version));

    private SignedDocument Sign(IssuerAcceptance list) => SignedDocument.CreateOnline(IssuerAcceptance.DocumentType, list.ToPayload(), _online, 1);

    private IssuerAcceptance List(long version) =>
        new(version, "metro", Now, [Accepted(_wallet, Now.AddDays(-2), Now.AddDays(5)), Accepted(_card, Now.AddDays(-2), null)]);

    private static AcceptedIssuer Accepted(TestIssuer issuer, DateTimeOffset from, DateTimeOffset? to) =>
        new(issuer.IssuerId!, issuer.Root.PublicKey, from, to);
}
