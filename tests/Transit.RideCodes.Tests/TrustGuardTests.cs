using System.Text;
using System.Text.Json.Nodes;
using Transit.RideCodes;

namespace Transit.RideCodes.Tests;

/// <summary>
/// The last survivors of the whole-library mutation run in the verifier, key sets, deny lists and signed documents:
/// argument guards that name their argument, messages that name the online key and the document, and the order a
/// deny list's payload is written in.
/// </summary>
public sealed class TrustGuardTests : IDisposable
{
    private static readonly DateTimeOffset Now = TestIssuer.Now;
    private readonly TestIssuer _issuer = new();
    private readonly SigningKey _online = SigningKey.Generate(SignatureAlgorithm.P256);

    public void Dispose()
    {
        _issuer.Dispose();
        _online.Dispose();
    }

    [Fact]
    public void VerifierOptions_OutOfRange_MessageSaysWhatIsWrong()
    {
        static string Message(VerifierOptions options) =>
            Assert.Throws<ArgumentOutOfRangeException>(options.Validate).Message;

        Assert.StartsWith("the maximum code age must be positive", Message(new() { MaxAge = TimeSpan.Zero }), StringComparison.Ordinal);
        Assert.StartsWith("the clock-ahead tolerance cannot be negative", Message(new() { MaxClockAhead = TimeSpan.FromTicks(-1) }), StringComparison.Ordinal);
        Assert.StartsWith("the longest credential validity must be positive", Message(new() { MaxCredentialValidity = TimeSpan.Zero }), StringComparison.Ordinal);
    }

    [Fact]
    public void Guards_NullArgument_ThrowNamingIt()
    {
        var document = _issuer.KeySet.Sign(_issuer.Root);

        Assert.Equal("code", Assert.Throws<ArgumentNullException>(() => _issuer.Verifier().CheckSignaturesAndValidity(null!, Now)).ParamName);
        Assert.Equal("onlineKey", Assert.Throws<ArgumentNullException>(() => SignedDocument.CreateOnline("t", [], null!, 1)).ParamName);
        Assert.Equal("rootKey", Assert.Throws<ArgumentNullException>(() => document.OpenPayload(KeySet.DocumentType, null!)).ParamName);
        Assert.Equal("keys", Assert.Throws<ArgumentNullException>(() => new KeySet(1, Now, null!)).ParamName);
    }

    [Fact]
    public void DenyListPayload_AccountsAndCredentialsInAscendingOrder()
    {
        var list = new DenyList(1, Now, ["b", "c", "a", "B"], [3, 1, 2]);

        var json = JsonNode.Parse(list.ToPayload())!;

        Assert.Equal(["B", "a", "b", "c"], json["accounts"]!.AsArray().Select(a => (string)a!));
        Assert.Equal(["0000000000000001", "0000000000000002", "0000000000000003"], json["credentials"]!.AsArray().Select(c => (string)c!));
    }

    [Fact]
    public void DenyListOpen_PayloadNotJson_MessageNamesTheDocument()
    {
        var snapshot = SignedDocument.Create(DenyList.SnapshotType, "{"u8.ToArray(), _issuer.Root);
        var delta = SignedDocument.Create(DenyList.DeltaType, "{"u8.ToArray(), _issuer.Root);

        Assert.StartsWith("deny list payload: ", Assert.Throws<TrustDocumentException>(() => DenyList.Open(snapshot, _issuer.Root.PublicKey)).Message, StringComparison.Ordinal);
        Assert.StartsWith("deny-list delta payload: ", Assert.Throws<TrustDocumentException>(() => DenyListDelta.Open(delta, _issuer.Root.PublicKey)).Message, StringComparison.Ordinal);
    }

    private OnlineKey Online(ushort id, KeyStatus status, params string[] documents) => new(id, _online.PublicKey, status, documents);

    [Fact]
    public void KeySet_OnlineKeyTwiceOrCertifiedForWhatItMayNotSign_MessageNamesIt()
    {
        var twice = Assert.Throws<TrustDocumentException>(
            () => new KeySet(1, Now, [], [Online(4, KeyStatus.Active, DenyList.SnapshotType), Online(4, KeyStatus.Retired, DenyList.DeltaType)]));
        Assert.Equal("online key id 4 appears twice in the key set", twice.Message);

        var allowed = "transit-denylist, transit-denylist-delta, transit-device-config, transit-issuer-acceptance";
        Assert.Equal(
            $"online key 5: may sign only {allowed} (got none); key sets are signed by the root key only",
            Assert.Throws<TrustDocumentException>(() => new KeySet(1, Now, [], [Online(5, KeyStatus.Active)])).Message);
        Assert.Equal(
            $"online key 6: may sign only {allowed} (got transit-denylist, transit-keyset); key sets are signed by the root key only",
            Assert.Throws<TrustDocumentException>(
                () => new KeySet(1, Now, [], [Online(6, KeyStatus.Active, DenyList.SnapshotType, KeySet.DocumentType)])).Message);
    }

    [Fact]
    public void CertifiedOnlineKey_OtherType_MessageNamesWhatItIsCertifiedFor()
    {
        var keySet = new KeySet(1, Now, [], [Online(2, KeyStatus.Active, DenyList.SnapshotType, DenyList.DeltaType)]);

        var ex = Assert.Throws<TrustDocumentException>(() => keySet.CertifiedOnlineKey(2, OnlineKey.DeviceConfigType));

        Assert.Equal("online key 2 is certified for transit-denylist, transit-denylist-delta, not for transit-device-config documents", ex.Message);
    }

    [Fact]
    public void ActiveOnlineKey_MustBeActiveAndCertifiedForTheType()
    {
        var keySet = new KeySet(
            1,
            Now,
            [],
            [Online(1, KeyStatus.Active, DenyList.SnapshotType), Online(2, KeyStatus.Active, OnlineKey.DeviceConfigType), Online(3, KeyStatus.Retired, DenyList.SnapshotType)]);

        Assert.Equal(1, keySet.ActiveOnlineKey(DenyList.SnapshotType)!.KeyId);
        Assert.Equal(2, keySet.ActiveOnlineKey(OnlineKey.DeviceConfigType)!.KeyId);
        Assert.Null(keySet.ActiveOnlineKey(DenyList.DeltaType));
    }

    [Theory]
    [InlineData("""{"kid":3,"alg":"rsa","publicKey":"{point}","status":"active","documents":["transit-denylist"]}""", "online key 3: unknown algorithm 'rsa'")]
    [InlineData("""{"kid":3,"alg":"p256","publicKey":"{point}","status":"lost","documents":["transit-denylist"]}""", "online key 3: unknown status 'lost'")]
    [InlineData("""{"kid":3,"alg":"p256","publicKey":"{point}","status":"active"}""",
        "online key 3: may sign only transit-denylist, transit-denylist-delta, transit-device-config, transit-issuer-acceptance (got none); key sets are signed by the root key only")]
    public void KeySetOpen_BadOnlineKey_MessageNamesIt(string onlineKey, string message)
    {
        var payload = $$"""{"version":1,"issuedAt":"2026-11-21T00:00:00Z","keys":[],"onlineKeys":[{{onlineKey.Replace("{point}", Convert.ToBase64String(_online.PublicKey.Compressed), StringComparison.Ordinal)}}]}""";
        var document = SignedDocument.Create(KeySet.DocumentType, Encoding.UTF8.GetBytes(payload), _issuer.Root);

        var ex = Assert.Throws<TrustDocumentException>(() => KeySet.Open(document, _issuer.Root.PublicKey));

        Assert.Equal(message, ex.Message);
    }
}
