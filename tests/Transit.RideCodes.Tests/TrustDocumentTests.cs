using System.Text;
using Transit.RideCodes;

namespace Transit.RideCodes.Tests;

public class TrustDocumentTests
{
    private static readonly DateTimeOffset Now = TestIssuer.Now;

    [Theory]
    [InlineData(SignatureAlgorithm.P256)]
    [InlineData(SignatureAlgorithm.Sm2)]
    public void KeySetOpen_SignedByRoot_RoundTripsThroughJson(SignatureAlgorithm algorithm)
    {
        using var issuer = new TestIssuer(algorithm);
        var json = issuer.KeySet.Sign(issuer.Root).ToJson();
        var opened = KeySet.Open(SignedDocument.Parse(json), issuer.Root.PublicKey);
        Assert.Equal(issuer.KeySet.Version, opened.Version);
        Assert.Equal(issuer.KeySet.ToPayload(), opened.ToPayload());
        Assert.True(opened.TryGetKey(1, out var key));
        Assert.Equal(issuer.Issuer.PublicKey.Compressed, key.PublicKey.Compressed);
    }

    [Fact]
    public void KeySetOpen_PayloadTampered_Refused()
    {
        using var issuer = new TestIssuer();
        var signed = issuer.KeySet.Sign(issuer.Root);
        var text = Encoding.UTF8.GetString(signed.Payload).Replace("\"active\"", "\"revoked\"", StringComparison.Ordinal);
        var tampered = new SignedDocument(signed.Type, signed.Algorithm, Encoding.UTF8.GetBytes(text), signed.Signature);
        var ex = Assert.Throws<TrustDocumentException>(() => KeySet.Open(tampered, issuer.Root.PublicKey));
        Assert.Contains("signature does not verify", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void KeySetOpen_EachPayloadBitFlipped_Refused()
    {
        using var issuer = new TestIssuer();
        var signed = issuer.KeySet.Sign(issuer.Root);
        for (var i = 0; i < signed.Payload.Length; i += 7)
        {
            var payload = (byte[])signed.Payload.Clone();
            payload[i] ^= 0x01;
            Assert.Throws<TrustDocumentException>(() => KeySet.Open(new SignedDocument(signed.Type, signed.Algorithm, payload, signed.Signature), issuer.Root.PublicKey));
        }
    }

    [Fact]
    public void KeySetOpen_SignedByAnotherRoot_Refused()
    {
        using var issuer = new TestIssuer();
        using var impostor = SigningKey.Generate(SignatureAlgorithm.P256);
        Assert.Throws<TrustDocumentException>(() => KeySet.Open(issuer.KeySet.Sign(impostor), issuer.Root.PublicKey));
    }

    [Fact]
    public void KeySetOpen_DenyListDocument_RefusedAsWrongType()
    {
        using var issuer = new TestIssuer();
        var denyList = new DenyList(1, Now, [], []).Sign(issuer.Root);
        var ex = Assert.Throws<TrustDocumentException>(() => KeySet.Open(denyList, issuer.Root.PublicKey));
        Assert.Contains("expected a transit-keyset", ex.Message, StringComparison.Ordinal);

        // Relabelling the type does not help: the type is signed with the payload.
        var relabelled = new SignedDocument(KeySet.DocumentType, denyList.Algorithm, denyList.Payload, denyList.Signature);
        Assert.Throws<TrustDocumentException>(() => KeySet.Open(relabelled, issuer.Root.PublicKey));
    }

    [Theory]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("[]")]
    [InlineData("{\"type\":\"transit-keyset\"}")]
    [InlineData("{\"type\":\"transit-keyset\",\"alg\":\"rsa\",\"payload\":\"\",\"signature\":\"\"}")]
    [InlineData("{\"type\":\"transit-keyset\",\"alg\":\"p256\",\"payload\":\"!!\",\"signature\":\"AA==\"}")]
    public void SignedDocumentParse_Garbage_ThrowsTrustDocumentException(string json) =>
        Assert.Throws<TrustDocumentException>(() => SignedDocument.Parse(json));

    [Fact]
    public void TrustStoreUpdateKeySet_NewerAccepted_OlderAndBadRefusedKeepingLastGood()
    {
        using var issuer = new TestIssuer();
        var store = new TrustStore(issuer.Root.PublicKey, issuer.KeySet);
        var v2 = issuer.KeySet.With(issuer.KeySet.Keys, Now);
        Assert.True(store.UpdateKeySet(v2.Sign(issuer.Root)));
        Assert.Equal(2, store.KeySet.Version);

        Assert.False(store.UpdateKeySet(v2.Sign(issuer.Root)));
        var older = Assert.Throws<TrustDocumentException>(() => store.UpdateKeySet(issuer.KeySet.Sign(issuer.Root)));
        Assert.Contains("older", older.Message, StringComparison.Ordinal);

        using var impostor = SigningKey.Generate(SignatureAlgorithm.P256);
        Assert.Throws<TrustDocumentException>(() => store.UpdateKeySet(v2.With([], Now).Sign(impostor)));

        var sameVersionOtherContent = new KeySet(2, Now.AddMinutes(1), []);
        Assert.Throws<TrustDocumentException>(() => store.UpdateKeySet(sameVersionOtherContent.Sign(issuer.Root)));
        Assert.Equal(v2.ToPayload(), store.KeySet.ToPayload());
    }

    [Fact]
    public void DenyListDeltas_AppliedInOrder_GiveTheSnapshot()
    {
        var v1 = new DenyList(1, Now, ["a"], [1UL]);
        var v2 = new DenyList(2, Now, ["a", "b"], [1UL, 2UL]);
        var v3 = new DenyList(3, Now, ["b", "c"], [2UL]);
        var applied = v1.Apply(v2.DeltaFrom(v1)).Apply(v3.DeltaFrom(v2));
        Assert.Equal(3, applied.Version);
        Assert.Equal(v3.ToPayload(), applied.ToPayload());
    }

    [Fact]
    public void DenyListApply_OutOfOrder_RefusedNamingTheGap()
    {
        var v1 = new DenyList(1, Now, [], []);
        var v2 = new DenyList(2, Now, ["x"], []);
        var v3 = new DenyList(3, Now, ["x", "y"], []);
        var skip = Assert.Throws<TrustDocumentException>(() => v1.Apply(v3.DeltaFrom(v2)));
        Assert.Contains("missing", skip.Message, StringComparison.Ordinal);
        var old = Assert.Throws<TrustDocumentException>(() => v3.Apply(v2.DeltaFrom(v1)));
        Assert.Contains("older", old.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TrustStoreApplyDenyListDelta_SignedDeltas_AppliedLiveAndBadOnesRefused()
    {
        using var issuer = new TestIssuer();
        var v1 = new DenyList(1, Now, [], []);
        var v2 = new DenyList(2, Now, ["mallory"], []);
        var v3 = new DenyList(3, Now, ["mallory", "eve"], []);
        var store = new TrustStore(issuer.Root.PublicKey, issuer.KeySet, v1);
        using var phone = issuer.Phone("mallory");
        var verifier = new RideCodeVerifier(store, time: new FixedClock(Now));
        Assert.True(verifier.Verify(phone.Show(Now, 0).ToText()).Accepted);

        var delta3 = v3.DeltaFrom(v2).Sign(issuer.Root);
        Assert.Throws<TrustDocumentException>(() => store.ApplyDenyListDelta(delta3));
        store.ApplyDenyListDelta(v2.DeltaFrom(v1).Sign(issuer.Root));
        Assert.Equal(VerificationReason.Denied, verifier.Verify(phone.Show(Now, 1).ToText()).Reason);

        using var impostor = SigningKey.Generate(SignatureAlgorithm.P256);
        Assert.Throws<TrustDocumentException>(() => store.ApplyDenyListDelta(v3.DeltaFrom(v2).Sign(impostor)));
        Assert.Equal(2, store.DenyList.Version);
        store.ApplyDenyListDelta(delta3);
        Assert.Equal(3, store.DenyList.Version);
        Assert.Throws<TrustDocumentException>(() => store.UpdateDenyList(v2.Sign(issuer.Root)));
        Assert.Equal(3, store.DenyList.Version);
    }

    [Fact]
    public void DenyListOpen_BadCredentialId_RefusedNamingIt()
    {
        using var issuer = new TestIssuer();
        var payload = Encoding.UTF8.GetBytes("{\"version\":2,\"issuedAt\":\"2026-11-21T00:00:00Z\",\"accounts\":[],\"credentials\":[\"xyz\"]}");
        var document = SignedDocument.Create(DenyList.SnapshotType, payload, issuer.Root);
        var ex = Assert.Throws<TrustDocumentException>(() => DenyList.Open(document, issuer.Root.PublicKey));
        Assert.Contains("'xyz'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void KeyFiles_PrivateAndPublic_RoundTrip()
    {
        foreach (var algorithm in new[] { SignatureAlgorithm.P256, SignatureAlgorithm.Sm2 })
        {
            using var key = SigningKey.Generate(algorithm);
            using var back = KeyFiles.ParsePrivateKey(KeyFiles.FormatPrivateKey(key, 12), out var kid);
            Assert.Equal((ushort)12, kid);
            Assert.Equal(key.PublicKey.Compressed, back.PublicKey.Compressed);
            Assert.True(key.PublicKey.Verify("x"u8, back.Sign("x"u8)));
            Assert.Equal(key.PublicKey.Compressed, KeyFiles.ParsePublicKey(KeyFiles.FormatPublicKey(key.PublicKey)).Compressed);
        }
    }

    [Fact]
    public void PhoneCredentialFile_RoundTrip_SignsVerifiableCodes()
    {
        using var issuer = new TestIssuer();
        using var phone = issuer.Phone("file-rider", "3");
        using var back = PhoneCredential.Parse(phone.ToJson());
        Assert.Equal(phone.Credential.ToBytes(), back.Credential.ToBytes());
        Assert.True(issuer.Verifier().Verify(back.Show(Now, 0).ToText()).Accepted);
        Assert.Throws<TrustDocumentException>(() => PhoneCredential.Parse("{\"type\":\"other\"}"));
    }
}
