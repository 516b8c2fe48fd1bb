using System.Text;
using Transit.RideCodes;
using Transit.RideCodes.KeyStore;

namespace Transit.RideCodes.Tests;

/// <summary>The online key: certified by the root for deny lists and device configurations, never for key sets.</summary>
public sealed class OnlineKeyTests : IDisposable
{
    private static readonly DateTimeOffset Now = TestIssuer.Now;
    private static readonly byte[] ConfigPayload = Encoding.UTF8.GetBytes("""{"version":1,"deviceId":"gate-1"}""");
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "transit-online-" + Guid.NewGuid().ToString("N"));
    private readonly SigningKey _root = SigningKey.Generate(SignatureAlgorithm.P256);
    private readonly SigningKey _issuer = SigningKey.Generate(SignatureAlgorithm.P256);
    private readonly SigningKey _online = SigningKey.Generate(SignatureAlgorithm.P256);

    [Fact]
    public void KeySet_SignedByTheOnlineKey_RefusedByTrustStoreWhichKeepsTheHeldOne()
    {
        var trust = new TrustStore(_root.PublicKey, KeySetV1());
        var forged = new KeySet(2, Now, [IssuerKey(1), new IssuerKey(2, _online.PublicKey, KeyStatus.Active, Now, null)], [Certified(1)]);

        // Naming the online key (which the held key set certifies) or posing as the root: both refused.
        var named = SignedDocument.CreateOnline(KeySet.DocumentType, forged.ToPayload(), _online, 1);
        var ex = Assert.Throws<TrustDocumentException>(() => trust.UpdateKeySet(SignedDocument.Parse(named.ToJson())));
        Assert.Contains("signed by the root key only", ex.Message, StringComparison.Ordinal);
        var posing = new SignedDocument(named.Type, named.Algorithm, named.Payload, named.Signature);
        Assert.Contains("root signature does not verify", Assert.Throws<TrustDocumentException>(() => trust.UpdateKeySet(posing)).Message, StringComparison.Ordinal);

        Assert.Equal(1, trust.KeySet.Version);
        Assert.False(trust.KeySet.TryGetKey(2, out _));
    }

    [Fact]
    public void DenyListDeltaSnapshotAndDeviceConfig_SignedByTheCertifiedOnlineKey_Accepted()
    {
        var keySet = KeySetV1();
        var trust = new TrustStore(_root.PublicKey, keySet, new DenyList(1, Now, [], []));
        var next = new DenyList(2, Now, ["mallory"], []);

        trust.ApplyDenyListDelta(SignedDocument.Parse(SignedDocument.CreateOnline(DenyList.DeltaType, next.DeltaFrom(trust.DenyList).ToPayload(), _online, 1).ToJson()));
        Assert.Equal(2, trust.DenyList.Version);
        Assert.Contains("mallory", trust.DenyList.Accounts);
        Assert.True(trust.UpdateDenyList(SignedDocument.CreateOnline(DenyList.SnapshotType, new DenyList(3, Now, ["eve"], []).ToPayload(), _online, 1)));
        Assert.Equal(["eve"], trust.DenyList.Accounts);
        var config = SignedDocument.Parse(SignedDocument.CreateOnline(OnlineKey.DeviceConfigType, ConfigPayload, _online, 1).ToJson());
        Assert.Equal(ConfigPayload, config.OpenPayload(OnlineKey.DeviceConfigType, _root.PublicKey, keySet));

        // Documents the root signed stay good beside the online key (key sets and deny lists from before it).
        Assert.Equal(ConfigPayload, SignedDocument.Create(OnlineKey.DeviceConfigType, ConfigPayload, _root).OpenPayload(OnlineKey.DeviceConfigType, _root.PublicKey, keySet));
    }

    [Fact]
    public void Documents_SignedByAnOnlineKeyTheKeySetDoesNotCertify_Refused()
    {
        var keySet = KeySetV1();
        using var stranger = SigningKey.Generate(SignatureAlgorithm.P256);

        var unknownId = SignedDocument.CreateOnline(OnlineKey.DeviceConfigType, ConfigPayload, stranger, 7);
        Assert.Contains("online key 7, which key set version 1 does not certify", Open(unknownId, keySet), StringComparison.Ordinal);
        var wrongKey = SignedDocument.CreateOnline(OnlineKey.DeviceConfigType, ConfigPayload, stranger, 1);
        Assert.Contains("signature by online key 1 does not verify", Open(wrongKey, keySet), StringComparison.Ordinal);
        var genuine = SignedDocument.CreateOnline(OnlineKey.DeviceConfigType, ConfigPayload, _online, 1);
        Assert.Contains("no key set is at hand", Open(genuine, keySet: null), StringComparison.Ordinal);

        var revoked = new KeySet(2, Now, [IssuerKey(1)], [Certified(1) with { Status = KeyStatus.Revoked }]);
        Assert.Contains("which key set version 2 revokes", Open(genuine, revoked), StringComparison.Ordinal);
        var deltasOnly = new KeySet(2, Now, [IssuerKey(1)], [Certified(1) with { Documents = [DenyList.DeltaType] }]);
        Assert.Contains("not for transit-device-config documents", Open(genuine, deltasOnly), StringComparison.Ordinal);
        var retired = new KeySet(2, Now, [IssuerKey(1)], [Certified(1) with { Status = KeyStatus.Retired }]);
        Assert.Equal(ConfigPayload, genuine.OpenPayload(OnlineKey.DeviceConfigType, _root.PublicKey, retired));

        // A delta by an uncertified key leaves the held list alone.
        var trust = new TrustStore(_root.PublicKey, keySet, new DenyList(1, Now, [], []));
        var delta = new DenyList(2, Now, ["bob"], []).DeltaFrom(trust.DenyList);
        Assert.Throws<TrustDocumentException>(() => trust.ApplyDenyListDelta(SignedDocument.CreateOnline(DenyList.DeltaType, delta.ToPayload(), stranger, 1)));
        Assert.Equal(1, trust.DenyList.Version);
    }

    [Fact]
    public void KeySet_CertifyingAnOnlineKeyForKeySets_Refused()
    {
        var ex = Assert.Throws<TrustDocumentException>(() => new KeySet(1, Now, [IssuerKey(1)], [Certified(1) with { Documents = [KeySet.DocumentType] }]));
        Assert.Contains("key sets are signed by the root key only", ex.Message, StringComparison.Ordinal);

        // Even signed by the root: the payload is refused when read.
        var payload = Encoding.UTF8.GetString(KeySetV1().ToPayload()).Replace(DenyList.DeltaType, KeySet.DocumentType, StringComparison.Ordinal);
        var document = SignedDocument.Create(KeySet.DocumentType, Encoding.UTF8.GetBytes(payload), _root);
        Assert.Throws<TrustDocumentException>(() => KeySet.Open(document, _root.PublicKey));
    }

    [Fact]
    public void KeySet_WithoutOnlineKeys_ReadsAndWritesAsBefore()
    {
        var old = new KeySet(1, Now, [IssuerKey(1)]);
        Assert.DoesNotContain("onlineKeys", Encoding.UTF8.GetString(old.ToPayload()), StringComparison.Ordinal);
        var opened = KeySet.Open(SignedDocument.Parse(old.Sign(_root).ToJson()), _root.PublicKey);
        Assert.Empty(opened.OnlineKeys);
        Assert.DoesNotContain("onlineKey", old.Sign(_root).ToJson(), StringComparison.Ordinal);

        var withOnline = KeySet.Open(SignedDocument.Parse(KeySetV1().Sign(_root).ToJson()), _root.PublicKey);
        Assert.Equal(_online.PublicKey.Compressed, withOnline.OnlineKeys.Single().PublicKey.Compressed);
        Assert.Equal(OnlineKey.DelegableDocuments, withOnline.OnlineKeys.Single().Documents);
    }

    [Fact]
    public void ServerDirectory_HasNoRootKey_SignsDenyListsGatesAccept_CannotChangeTheKeySet()
    {
        var offline = OperatorKeyDirectory.Init(Path.Combine(_dir, "offline"), SignatureAlgorithm.P256);
        var serverPath = Path.Combine(_dir, "server");
        offline.ExportServer(serverPath);

        var server = OperatorKeyDirectory.Open(serverPath);
        Assert.False(server.HasRootKey);
        Assert.False(File.Exists(Path.Combine(serverPath, "root.key.json")));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(server.OnlineKeyPath));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(server.CaKeyPath));
        }

        var gate = TrustStore.Open(offline.RootPublicKey, offline.ReadSignedKeySet(), offline.ReadSignedDenyList());
        server.UpdateDenyList(addAccounts: ["mallory"]);
        var delta = server.ReadDenyListDeltasAfter(1).Single();
        Assert.Equal((ushort)1, delta.OnlineKeyId);
        gate.ApplyDenyListDelta(delta);
        Assert.Contains("mallory", gate.DenyList.Accounts);
        var config = server.Sign(OnlineKey.DeviceConfigType, ConfigPayload);
        Assert.Equal(ConfigPayload, config.OpenPayload(OnlineKey.DeviceConfigType, gate.RootKey, gate.KeySet));

        Assert.Contains("no root private key", Assert.Throws<KeyDirectoryException>(() => server.Rotate(SignatureAlgorithm.P256)).Message, StringComparison.Ordinal);
        Assert.Throws<KeyDirectoryException>(() => server.Revoke(1));
        Assert.Throws<KeyDirectoryException>(() => server.RotateOnlineKey(SignatureAlgorithm.P256));

        // A second export brings a key set change over and keeps the server's live deny list.
        offline.Rotate(SignatureAlgorithm.P256);
        offline.ExportServer(serverPath);
        var updated = OperatorKeyDirectory.Open(serverPath);
        Assert.Equal(2, updated.KeySet.Version);
        Assert.Equal(2, updated.DenyList.Version);
        Assert.False(updated.HasRootKey);
    }

    [Fact]
    public void RotateOnlineKey_OldKeyRetiredKeepsVerifying_RevokedIsRefused_ServerWithTheOldKeyStopsSigning()
    {
        var offline = OperatorKeyDirectory.Init(Path.Combine(_dir, "offline"), SignatureAlgorithm.P256);
        var serverPath = Path.Combine(_dir, "server");
        offline.ExportServer(serverPath);
        var byOld = OperatorKeyDirectory.Open(serverPath).Sign(OnlineKey.DeviceConfigType, ConfigPayload);

        Assert.Equal(2, offline.RotateOnlineKey(SignatureAlgorithm.Sm2).KeyId);
        Assert.Equal(ConfigPayload, byOld.OpenPayload(OnlineKey.DeviceConfigType, offline.RootPublicKey, offline.KeySet));
        var bySecond = offline.Sign(OnlineKey.DeviceConfigType, ConfigPayload);
        Assert.Equal((ushort)2, bySecond.OnlineKeyId);

        offline.RotateOnlineKey(SignatureAlgorithm.P256, revokePrevious: true);
        Assert.Equal([KeyStatus.Retired, KeyStatus.Revoked, KeyStatus.Active], offline.KeySet.OnlineKeys.Select(k => k.Status));
        Assert.Throws<TrustDocumentException>(() => bySecond.OpenPayload(OnlineKey.DeviceConfigType, offline.RootPublicKey, offline.KeySet));
        Assert.Equal(ConfigPayload, byOld.OpenPayload(OnlineKey.DeviceConfigType, offline.RootPublicKey, offline.KeySet));

        // The server still holds online key 1 with the key set that certified it; given the new key set only, it refuses to sign.
        File.Copy(offline.KeySetPath, Path.Combine(serverPath, "keyset.json"), overwrite: true);
        var ex = Assert.Throws<KeyDirectoryException>(() => OperatorKeyDirectory.Open(serverPath).Sign(OnlineKey.DeviceConfigType, ConfigPayload));
        Assert.Contains("is not the active online key", ex.Message, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _root.Dispose();
        _issuer.Dispose();
        _online.Dispose();
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private KeySet KeySetV1() => new(1, Now, [IssuerKey(1)], [Certified(1)]);

    private IssuerKey IssuerKey(ushort keyId) => new(keyId, _issuer.PublicKey, KeyStatus.Active, Now.AddDays(-1), null);

    private OnlineKey Certified(ushort keyId) => new(keyId, _online.PublicKey, KeyStatus.Active, OnlineKey.DelegableDocuments);

    private string Open(SignedDocument document, KeySet? keySet) =>
        Assert.Throws<TrustDocumentException>(() => document.OpenPayload(OnlineKey.DeviceConfigType, _root.PublicKey, keySet)).Message;
}
