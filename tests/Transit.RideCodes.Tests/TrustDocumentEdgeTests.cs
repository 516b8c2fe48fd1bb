using System.Text;
using Transit.RideCodes;

namespace Transit.RideCodes.Tests;

/// <summary>
/// Key sets, deny lists, the trust store and signed documents at their edges: exact versions, exact instants, every
/// refusal with the message that names what is wrong.
/// </summary>
public sealed class TrustDocumentEdgeTests : IDisposable
{
    private static readonly DateTimeOffset Now = TestIssuer.Now;
    private static readonly TimeSpan Tick = TimeSpan.FromTicks(1);
    private readonly TestIssuer _issuer = new();

    private PublicKey RootKey => _issuer.Root.PublicKey;

    public void Dispose() => _issuer.Dispose();

    [Fact]
    public void SignedDocument_SignatureCoversDomainTypeAndPayloadAsDocumented()
    {
        var payload = "{\"any\":1}"u8.ToArray();
        byte[] documented = [.. "transit-signed-v1\n"u8, .. "transit-keyset"u8, (byte)'\n', .. payload];

        var created = SignedDocument.Create(KeySet.DocumentType, payload, _issuer.Root);
        Assert.True(RootKey.Verify(documented, created.Signature));
        Assert.Equal(_issuer.Root.Algorithm, created.Algorithm);
        Assert.Equal(KeySet.DocumentType, created.Type);
        Assert.Equal(payload, created.Payload);

        var byHand = new SignedDocument(KeySet.DocumentType, _issuer.Root.Algorithm, payload, _issuer.Root.Sign(documented));
        Assert.True(byHand.IsSignedBy(RootKey));
    }

    [Fact]
    public void SignedDocument_AlgorithmRelabelled_NotSignedBy()
    {
        var signed = _issuer.KeySet.Sign(_issuer.Root);
        var relabelled = new SignedDocument(signed.Type, SignatureAlgorithm.Sm2, signed.Payload, signed.Signature);
        Assert.True(signed.IsSignedBy(RootKey));
        Assert.False(relabelled.IsSignedBy(RootKey));
    }

    [Fact]
    public void SignedDocument_RoundTripsThroughJson()
    {
        var signed = _issuer.KeySet.Sign(_issuer.Root);
        var back = SignedDocument.Parse(signed.ToJson());
        Assert.Equal(signed.Type, back.Type);
        Assert.Equal(signed.Algorithm, back.Algorithm);
        Assert.Equal(signed.Payload, back.Payload);
        Assert.Equal(signed.Signature, back.Signature);
        Assert.Contains("\"type\":\"transit-keyset\"", signed.ToJson(), StringComparison.Ordinal);
        Assert.Contains("\"alg\":\"p256\"", signed.ToJson(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{", "not a signed document: ")]
    [InlineData("null", "type, payload or signature missing")]
    [InlineData("{\"type\":\"\",\"alg\":\"p256\",\"payload\":\"\",\"signature\":\"\"}", "type, payload or signature missing")]
    [InlineData("{\"type\":\"t\",\"alg\":\"p256\",\"signature\":\"\"}", "type, payload or signature missing")]
    [InlineData("{\"type\":\"t\",\"alg\":\"p256\",\"payload\":\"\"}", "type, payload or signature missing")]
    [InlineData("{\"type\":\"t\",\"alg\":\"rsa\",\"payload\":\"\",\"signature\":\"\"}", "unknown signature algorithm 'rsa'")]
    [InlineData("{\"type\":\"t\",\"alg\":\"p256\",\"payload\":\"!!\",\"signature\":\"\"}", "payload or signature is not base64")]
    [InlineData("{\"type\":\"t\",\"alg\":\"p256\",\"payload\":\"\",\"signature\":\"!!\"}", "payload or signature is not base64")]
    public void SignedDocumentParse_Broken_MessageNamesTheProblem(string json, string message)
    {
        var ex = Assert.Throws<TrustDocumentException>(() => SignedDocument.Parse(json));
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SignedDocument_EmptyType_Throws()
    {
        Assert.Throws<ArgumentException>(() => new SignedDocument("", SignatureAlgorithm.P256, [], []));
        Assert.Throws<ArgumentNullException>(() => SignedDocument.Create("t", [], null!));
        Assert.Throws<ArgumentNullException>(() => _issuer.KeySet.Sign(_issuer.Root).IsSignedBy(null!));
    }

    [Fact]
    public void OpenPayload_WrongTypeOrSignature_MessageNamesIt()
    {
        var signed = _issuer.KeySet.Sign(_issuer.Root);
        Assert.Equal(signed.Payload, signed.OpenPayload(KeySet.DocumentType, RootKey));
        var wrongType = Assert.Throws<TrustDocumentException>(() => signed.OpenPayload(DenyList.SnapshotType, RootKey));
        Assert.Equal("expected a transit-denylist document, got transit-keyset", wrongType.Message);
        using var other = SigningKey.Generate(SignatureAlgorithm.P256);
        var badSignature = Assert.Throws<TrustDocumentException>(() => signed.OpenPayload(KeySet.DocumentType, other.PublicKey));
        Assert.Equal("the transit-keyset document's root signature does not verify", badSignature.Message);
    }

    [Fact]
    public void ReadPayload_NotJsonOfTheType_MessageStartsWithWhat()
    {
        var document = SignedDocument.Create(KeySet.DocumentType, "{\"version\":\"x\"}"u8.ToArray(), _issuer.Root);
        var ex = Assert.Throws<TrustDocumentException>(() => KeySet.Open(document, RootKey));
        Assert.StartsWith("key set payload: ", ex.Message, StringComparison.Ordinal);
        Assert.IsType<System.Text.Json.JsonException>(ex.InnerException);
    }

    [Fact]
    public void TrustDocumentException_Constructors_KeepMessageAndCause()
    {
        var inner = new InvalidOperationException("cause");
        Assert.Equal("m", new TrustDocumentException("m").Message);
        var wrapped = new TrustDocumentException("m", inner);
        Assert.Equal("m", wrapped.Message);
        Assert.Same(inner, wrapped.InnerException);
        Assert.NotNull(new TrustDocumentException().Message);
    }

    [Fact]
    public void IssuerKey_VerifiesUntilValidUntilExclusive_IssuesFromValidFromInclusive()
    {
        var key = new IssuerKey(1, _issuer.Issuer.PublicKey, KeyStatus.Active, Now, Now.AddDays(1));
        Assert.False(key.IssuesAt(Now - Tick));
        Assert.True(key.IssuesAt(Now));
        Assert.True(key.IssuesAt(Now.AddDays(1) - Tick));
        Assert.False(key.IssuesAt(Now.AddDays(1)));
        Assert.True(key.VerifiesAt(Now.AddDays(1) - Tick));
        Assert.False(key.VerifiesAt(Now.AddDays(1)));
        Assert.True(key.VerifiesAt(Now.AddDays(-100)));

        var openEnded = key with { ValidUntil = null };
        Assert.True(openEnded.VerifiesAt(DateTimeOffset.MaxValue));
        Assert.True(openEnded.IssuesAt(Now.AddYears(50)));
        Assert.False((key with { Status = KeyStatus.Retired }).IssuesAt(Now));
        Assert.False((key with { Status = KeyStatus.Revoked }).IssuesAt(Now));
        Assert.Equal(_issuer.Issuer.Algorithm, key.Algorithm);
    }

    [Fact]
    public void CurrentIssuingKey_NewestActiveKeyThatIssuesNow()
    {
        using var newer = SigningKey.Generate(SignatureAlgorithm.P256);
        using var future = SigningKey.Generate(SignatureAlgorithm.P256);
        var keySet = new KeySet(3, Now, [
            new IssuerKey(1, _issuer.Issuer.PublicKey, KeyStatus.Active, Now.AddDays(-10), null),
            new IssuerKey(2, newer.PublicKey, KeyStatus.Active, Now.AddDays(-1), null),
            new IssuerKey(3, future.PublicKey, KeyStatus.Active, Now.AddDays(1), null),
            new IssuerKey(4, future.PublicKey, KeyStatus.Retired, Now, null),
        ]);
        Assert.Equal(2, keySet.CurrentIssuingKey(Now)!.KeyId);
        Assert.Equal(3, keySet.CurrentIssuingKey(Now.AddDays(1))!.KeyId);
        Assert.Equal(1, keySet.CurrentIssuingKey(Now.AddDays(-2))!.KeyId);
        Assert.Null(keySet.CurrentIssuingKey(Now.AddDays(-11)));
        Assert.Equal([1, 2, 3, 4], keySet.Keys.Select(k => (int)k.KeyId));
    }

    [Fact]
    public void KeySet_Construction_RefusesBadVersionAndDuplicateIds()
    {
        var key = new IssuerKey(5, _issuer.Issuer.PublicKey, KeyStatus.Active, Now, null);
        Assert.Throws<ArgumentOutOfRangeException>(() => new KeySet(0, Now, [key]));
        Assert.Throws<ArgumentNullException>(() => new KeySet(1, Now, null!));
        var duplicate = Assert.Throws<TrustDocumentException>(() => new KeySet(1, Now, [key, key with { Status = KeyStatus.Retired }]));
        Assert.Equal("key id 5 appears twice in the key set", duplicate.Message);
        Assert.True(new KeySet(1, Now, [key]).TryGetKey(5, out var found));
        Assert.Same(key, found);
        Assert.False(new KeySet(1, Now, [key]).TryGetKey(6, out _));
    }

    [Fact]
    public void KeySetWith_NextVersionAtTheGivenTime()
    {
        var next = _issuer.KeySet.With([], Now.AddHours(1));
        Assert.Equal(_issuer.KeySet.Version + 1, next.Version);
        Assert.Equal(Now.AddHours(1), next.IssuedAt);
        Assert.Empty(next.Keys);
        Assert.Throws<OverflowException>(() => new KeySet(long.MaxValue, Now, []).With([], Now));
    }

    [Fact]
    public void KeySetOpen_RoundTripKeepsEveryField()
    {
        var keySet = new KeySet(4, Now, [
            new IssuerKey(1, _issuer.Issuer.PublicKey, KeyStatus.Retired, Now.AddDays(-3), Now.AddDays(4)),
            new IssuerKey(2, _issuer.Root.PublicKey, KeyStatus.Revoked, Now.AddDays(-1), null),
        ]);
        var opened = KeySet.Open(SignedDocument.Parse(keySet.Sign(_issuer.Root).ToJson()), RootKey);
        Assert.Equal(4, opened.Version);
        Assert.Equal(Now, opened.IssuedAt);
        Assert.Equal(keySet.Keys, opened.Keys, (a, b) =>
            a.KeyId == b.KeyId && a.Status == b.Status && a.ValidFrom == b.ValidFrom && a.ValidUntil == b.ValidUntil
            && a.PublicKey.Compressed.AsSpan().SequenceEqual(b.PublicKey.Compressed) && a.Algorithm == b.Algorithm);
        Assert.Contains("\"status\":\"retired\"", Encoding.UTF8.GetString(keySet.ToPayload()), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("null", "key set payload: version or keys missing")]
    [InlineData("{\"version\":1,\"issuedAt\":\"2026-11-21T00:00:00Z\"}", "key set payload: version or keys missing")]
    [InlineData("{\"version\":0,\"issuedAt\":\"2026-11-21T00:00:00Z\",\"keys\":[]}", "key set payload: version or keys missing")]
    [InlineData("{\"version\":1,\"issuedAt\":\"2026-11-21T00:00:00Z\",\"keys\":[{\"kid\":3,\"alg\":\"rsa\",\"publicKey\":\"\",\"status\":\"active\",\"validFrom\":\"2026-11-21T00:00:00Z\",\"validUntil\":null}]}", "key 3: unknown algorithm 'rsa'")]
    [InlineData("{\"version\":1,\"issuedAt\":\"2026-11-21T00:00:00Z\",\"keys\":[{\"kid\":3,\"alg\":\"p256\",\"publicKey\":\"VALID-KEY\",\"status\":\"lost\",\"validFrom\":\"2026-11-21T00:00:00Z\",\"validUntil\":null}]}", "key 3: unknown status 'lost'")]
    [InlineData("{\"version\":1,\"issuedAt\":\"2026-11-21T00:00:00Z\",\"keys\":[{\"kid\":3,\"alg\":\"p256\",\"publicKey\":\"VALID-KEY\",\"status\":\"7\",\"validFrom\":\"2026-11-21T00:00:00Z\",\"validUntil\":null}]}", "key 3: unknown status '7'")]
    [InlineData("{\"version\":1,\"issuedAt\":\"2026-11-21T00:00:00Z\",\"keys\":[{\"kid\":3,\"alg\":\"p256\",\"publicKey\":\"!!\",\"status\":\"active\",\"validFrom\":\"2026-11-21T00:00:00Z\",\"validUntil\":null}]}", "key 3: public key is not base64")]
    [InlineData("{\"version\":1,\"issuedAt\":\"2026-11-21T00:00:00Z\",\"keys\":[{\"kid\":3,\"alg\":\"p256\",\"publicKey\":\"AAAA\",\"status\":\"active\",\"validFrom\":\"2026-11-21T00:00:00Z\",\"validUntil\":null}]}", "key 3: not a compressed p256 public key")]
    [InlineData("{\"version\":1,\"issuedAt\":\"2026-11-21T00:00:00Z\",\"keys\":[{\"kid\":3,\"alg\":\"p256\",\"publicKey\":null,\"status\":\"active\",\"validFrom\":\"2026-11-21T00:00:00Z\",\"validUntil\":null}]}", "key 3: not a compressed p256 public key")]
    public void KeySetOpen_BadContent_MessageNamesTheKeyAndField(string payload, string message)
    {
        // A well-formed key where a case is about another field, so that field's check is the one that answers.
        payload = payload.Replace("VALID-KEY", Convert.ToBase64String(_issuer.Issuer.PublicKey.Compressed), StringComparison.Ordinal);
        var document = SignedDocument.Create(KeySet.DocumentType, Encoding.UTF8.GetBytes(payload), _issuer.Root);
        var ex = Assert.Throws<TrustDocumentException>(() => KeySet.Open(document, RootKey));
        Assert.Equal(message, ex.Message);
    }

    [Fact]
    public void KeySetOpen_StatusCaseInsensitive()
    {
        var payload = "{\"version\":1,\"issuedAt\":\"2026-11-21T00:00:00Z\",\"keys\":[{\"kid\":3,\"alg\":\"p256\",\"publicKey\":\""
            + Convert.ToBase64String(_issuer.Issuer.PublicKey.Compressed)
            + "\",\"status\":\"Revoked\",\"validFrom\":\"2026-11-21T00:00:00Z\",\"validUntil\":null}]}";
        var document = SignedDocument.Create(KeySet.DocumentType, Encoding.UTF8.GetBytes(payload), _issuer.Root);
        Assert.True(KeySet.Open(document, RootKey).TryGetKey(3, out var key));
        Assert.Equal(KeyStatus.Revoked, key.Status);
        Assert.Throws<ArgumentNullException>(() => KeySet.Open(null!, RootKey));
    }

    [Fact]
    public void DenyList_Membership_ByAccountOrCredential()
    {
        using var phone = _issuer.Phone("someone");
        var byAccount = new DenyList(1, Now, ["someone"], []);
        var byCredential = new DenyList(1, Now, [], [phone.Credential.CredentialId]);
        var other = new DenyList(1, Now, ["someone-else"], [phone.Credential.CredentialId + 1]);
        Assert.True(byAccount.IsDenied(phone.Credential));
        Assert.True(byCredential.IsDenied(phone.Credential));
        Assert.False(other.IsDenied(phone.Credential));
        Assert.False(DenyList.Empty.IsDenied(phone.Credential));
        Assert.Equal(2, other.Count);
        Assert.Equal(0, DenyList.Empty.Count);
        Assert.Equal(0, DenyList.Empty.Version);
        Assert.Throws<ArgumentNullException>(() => other.IsDenied(null!));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DenyList(-1, Now, [], []));
        Assert.Equal(0, new DenyList(0, Now, [], []).Version);
    }

    [Fact]
    public void DenyListApply_DeltaToTheHeldVersion_Older_DeltaSkipping_Missing()
    {
        var v1 = new DenyList(1, Now, ["a"], []);
        var v2 = new DenyList(2, Now, ["a", "b"], []);
        var v3 = new DenyList(3, Now, ["b"], []);
        var delta12 = v2.DeltaFrom(v1);
        var delta23 = v3.DeltaFrom(v2);

        // A delta that ends exactly at the held version is already applied: older, not missing.
        var same = Assert.Throws<TrustDocumentException>(() => v2.Apply(delta12));
        Assert.Equal("deny-list delta 1→2 is older than the held version 2", same.Message);
        var older = Assert.Throws<TrustDocumentException>(() => v3.Apply(delta12));
        Assert.Equal("deny-list delta 1→2 is older than the held version 3", older.Message);
        var skipping = Assert.Throws<TrustDocumentException>(() => v1.Apply(delta23));
        Assert.Equal("deny-list delta 2→3 does not follow the held version 1; versions 2..2 are missing", skipping.Message);
        var far = Assert.Throws<TrustDocumentException>(() => DenyList.Empty.Apply(delta23));
        Assert.Equal("deny-list delta 2→3 does not follow the held version 0; versions 1..2 are missing", far.Message);
        Assert.Throws<ArgumentNullException>(() => v1.Apply(null!));
    }

    [Fact]
    public void DenyListApply_RemovesThenAdds_TakesTheDeltasTime()
    {
        var held = new DenyList(4, Now, ["keep", "drop"], [1UL, 2UL]);
        var delta = new DenyListDelta(4, Now.AddHours(2), ["new", "keep"], ["drop", "absent"], [3UL], [2UL, 9UL]);
        var applied = held.Apply(delta);
        Assert.Equal(5, applied.Version);
        Assert.Equal(Now.AddHours(2), applied.IssuedAt);
        Assert.Equal(["keep", "new"], applied.Accounts.Order(StringComparer.Ordinal));
        Assert.Equal([1UL, 3UL], applied.Credentials.Order());

        // Removed and re-added in the same delta: the account is denied.
        var readded = held.Apply(new DenyListDelta(4, Now, ["drop"], ["drop"], [2UL], [2UL]));
        Assert.Contains("drop", readded.Accounts);
        Assert.Contains(2UL, readded.Credentials);
    }

    [Fact]
    public void DenyListDeltaFrom_ExactlyTheChanges_OnlyFromThePreviousVersion()
    {
        var v1 = new DenyList(1, Now, ["a", "b"], [1UL, 2UL]);
        var v2 = new DenyList(2, Now.AddMinutes(5), ["b", "c"], [2UL, 3UL]);
        var delta = v2.DeltaFrom(v1);
        Assert.Equal(1, delta.BaseVersion);
        Assert.Equal(2, delta.Version);
        Assert.Equal(Now.AddMinutes(5), delta.IssuedAt);
        Assert.Equal<string>(["c"], delta.AddAccounts);
        Assert.Equal<string>(["a"], delta.RemoveAccounts);
        Assert.Equal<ulong>([3UL], delta.AddCredentials);
        Assert.Equal<ulong>([1UL], delta.RemoveCredentials);

        var notNext = Assert.Throws<ArgumentException>(() => v2.DeltaFrom(v2));
        Assert.StartsWith("version 2 does not follow 2", notNext.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new DenyList(3, Now, [], []).DeltaFrom(v1));
        Assert.Throws<ArgumentNullException>(() => v2.DeltaFrom(null!));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DenyListDelta(-1, Now, [], [], [], []));
        Assert.Throws<OverflowException>(() => new DenyListDelta(long.MaxValue, Now, [], [], [], []).Version);
    }

    [Fact]
    public void DenyListDocuments_RoundTripThroughSignedJson()
    {
        var v1 = new DenyList(1, Now, ["a", "b"], [1UL, 0xfedcba9876543210UL]);
        var v2 = new DenyList(2, Now.AddMinutes(5), ["b", "c"], [0xfedcba9876543210UL, 3UL]);
        var snapshot = DenyList.Open(SignedDocument.Parse(v2.Sign(_issuer.Root).ToJson()), RootKey);
        Assert.Equal(v2.ToPayload(), snapshot.ToPayload());
        Assert.Equal(Now.AddMinutes(5), snapshot.IssuedAt);
        Assert.Contains("\"fedcba9876543210\"", Encoding.UTF8.GetString(v2.ToPayload()), StringComparison.Ordinal);

        var delta = DenyListDelta.Open(SignedDocument.Parse(v2.DeltaFrom(v1).Sign(_issuer.Root).ToJson()), RootKey);
        Assert.Equal(v2.DeltaFrom(v1).ToPayload(), delta.ToPayload());
        Assert.Equal(v2.ToPayload(), v1.Apply(delta).ToPayload());
        Assert.Throws<ArgumentNullException>(() => DenyList.Open(null!, RootKey));
        Assert.Throws<ArgumentNullException>(() => DenyListDelta.Open(null!, RootKey));
    }

    [Theory]
    [InlineData("null", "deny list payload is empty")]
    [InlineData("{\"version\":0,\"issuedAt\":\"2026-11-21T00:00:00Z\",\"accounts\":[],\"credentials\":[]}", "deny list payload: version must be at least 1")]
    [InlineData("{\"version\":1,\"issuedAt\":\"2026-11-21T00:00:00Z\",\"accounts\":[\"\"],\"credentials\":[]}", "deny list: empty account token")]
    [InlineData("{\"version\":1,\"issuedAt\":\"2026-11-21T00:00:00Z\",\"accounts\":[],\"credentials\":[\"0123456789abcde\"]}", "deny list: '0123456789abcde' is not a credential id (16 hex digits)")]
    public void DenyListOpen_BadContent_MessageNamesIt(string payload, string message)
    {
        var document = SignedDocument.Create(DenyList.SnapshotType, Encoding.UTF8.GetBytes(payload), _issuer.Root);
        var ex = Assert.Throws<TrustDocumentException>(() => DenyList.Open(document, RootKey));
        Assert.Equal(message, ex.Message);
    }

    [Fact]
    public void DenyListOpen_VersionOneAndMissingLists_Accepted()
    {
        var payload = "{\"version\":1,\"issuedAt\":\"2026-11-21T00:00:00Z\",\"accounts\":null,\"credentials\":null}"u8.ToArray();
        var opened = DenyList.Open(SignedDocument.Create(DenyList.SnapshotType, payload, _issuer.Root), RootKey);
        Assert.Equal(1, opened.Version);
        Assert.Equal(0, opened.Count);
    }

    [Theory]
    [InlineData("null", "deny-list delta payload is empty")]
    [InlineData("{\"baseVersion\":-1,\"version\":0,\"issuedAt\":\"2026-11-21T00:00:00Z\"}", "deny-list delta: version 0 must follow base version -1 by one")]
    [InlineData("{\"baseVersion\":2,\"version\":4,\"issuedAt\":\"2026-11-21T00:00:00Z\"}", "deny-list delta: version 4 must follow base version 2 by one")]
    [InlineData("{\"baseVersion\":2,\"version\":2,\"issuedAt\":\"2026-11-21T00:00:00Z\"}", "deny-list delta: version 2 must follow base version 2 by one")]
    [InlineData("{\"baseVersion\":2,\"version\":3,\"issuedAt\":\"2026-11-21T00:00:00Z\",\"removeAccounts\":[\"\"]}", "deny list: empty account token")]
    [InlineData("{\"baseVersion\":2,\"version\":3,\"issuedAt\":\"2026-11-21T00:00:00Z\",\"addCredentials\":[\"zz\"]}", "deny list: 'zz' is not a credential id (16 hex digits)")]
    public void DenyListDeltaOpen_BadContent_MessageNamesIt(string payload, string message)
    {
        var document = SignedDocument.Create(DenyList.DeltaType, Encoding.UTF8.GetBytes(payload), _issuer.Root);
        var ex = Assert.Throws<TrustDocumentException>(() => DenyListDelta.Open(document, RootKey));
        Assert.Equal(message, ex.Message);
    }

    [Fact]
    public void DenyListDeltaOpen_FromVersionZero_Accepted()
    {
        var payload = "{\"baseVersion\":0,\"version\":1,\"issuedAt\":\"2026-11-21T00:00:00Z\",\"addAccounts\":[\"x\"],\"addCredentials\":[\"00000000000000ff\"]}"u8.ToArray();
        var delta = DenyListDelta.Open(SignedDocument.Create(DenyList.DeltaType, payload, _issuer.Root), RootKey);
        var applied = DenyList.Empty.Apply(delta);
        Assert.Equal(1, applied.Version);
        Assert.Contains("x", applied.Accounts);
        Assert.Contains(0xffUL, applied.Credentials);
    }

    [Fact]
    public void TrustStoreUpdateDenyList_NewerInstalled_SameKept_OlderAndDifferentRefused()
    {
        var store = new TrustStore(RootKey, _issuer.KeySet, new DenyList(2, Now, ["a"], []));
        var older = Assert.Throws<TrustDocumentException>(() => store.UpdateDenyList(new DenyList(1, Now, [], []).Sign(_issuer.Root)));
        Assert.Equal("deny list version 1 is older than the held version 2", older.Message);

        Assert.False(store.UpdateDenyList(new DenyList(2, Now, ["a"], []).Sign(_issuer.Root)));
        var different = Assert.Throws<TrustDocumentException>(() => store.UpdateDenyList(new DenyList(2, Now, ["b"], []).Sign(_issuer.Root)));
        Assert.Equal("deny list version 2 differs from the held deny list of the same version", different.Message);
        Assert.Equal(["a"], store.DenyList.Accounts);

        Assert.True(store.UpdateDenyList(new DenyList(3, Now, ["c"], []).Sign(_issuer.Root)));
        Assert.Equal(3, store.DenyList.Version);
        Assert.Equal(["c"], store.DenyList.Accounts);
    }

    [Fact]
    public void TrustStoreUpdateKeySet_MessagesNameTheVersions()
    {
        var store = new TrustStore(RootKey, _issuer.KeySet.With(_issuer.KeySet.Keys, Now));
        var older = Assert.Throws<TrustDocumentException>(() => store.UpdateKeySet(_issuer.KeySet.Sign(_issuer.Root)));
        Assert.Equal("key set version 1 is older than the held version 2", older.Message);
        var different = Assert.Throws<TrustDocumentException>(() => store.UpdateKeySet(new KeySet(2, Now, []).Sign(_issuer.Root)));
        Assert.Equal("key set version 2 differs from the held key set of the same version", different.Message);
    }

    [Fact]
    public void TrustStoreApplyDenyListDelta_OutOfOrder_HeldListUnchanged()
    {
        var v1 = new DenyList(1, Now, ["a"], []);
        var v2 = new DenyList(2, Now, ["a", "b"], []);
        var v3 = new DenyList(3, Now, ["b"], []);
        var store = new TrustStore(RootKey, _issuer.KeySet, v1);
        var skipping = Assert.Throws<TrustDocumentException>(() => store.ApplyDenyListDelta(v3.DeltaFrom(v2).Sign(_issuer.Root)));
        Assert.Contains("missing", skipping.Message, StringComparison.Ordinal);
        Assert.Same(v1, store.DenyList);
        store.ApplyDenyListDelta(v2.DeltaFrom(v1).Sign(_issuer.Root));
        Assert.Throws<TrustDocumentException>(() => store.ApplyDenyListDelta(v2.DeltaFrom(v1).Sign(_issuer.Root)));
        Assert.Equal(v2.ToPayload(), store.DenyList.ToPayload());
    }

    [Fact]
    public void TrustStore_OpenAndConstruct()
    {
        var opened = TrustStore.Open(RootKey, _issuer.KeySet.Sign(_issuer.Root));
        Assert.Same(RootKey, opened.RootKey);
        Assert.Equal(_issuer.KeySet.ToPayload(), opened.KeySet.ToPayload());
        Assert.Same(DenyList.Empty, opened.DenyList);

        var withList = TrustStore.Open(RootKey, _issuer.KeySet.Sign(_issuer.Root), new DenyList(4, Now, ["z"], []).Sign(_issuer.Root));
        Assert.Equal(4, withList.DenyList.Version);
        Assert.Throws<ArgumentNullException>(() => new TrustStore(null!, _issuer.KeySet));
        Assert.Throws<ArgumentNullException>(() => new TrustStore(RootKey, null!));
        Assert.Throws<ArgumentNullException>(() => new RideCodeVerifier((TrustStore)null!));
    }
}
