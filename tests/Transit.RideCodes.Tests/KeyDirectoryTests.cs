using Transit.RideCodes;
using Transit.RideCodes.KeyStore;

namespace Transit.RideCodes.Tests;

public sealed class KeyDirectoryTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "transit-keys-" + Guid.NewGuid().ToString("N"));

    [Theory]
    [InlineData(SignatureAlgorithm.P256)]
    [InlineData(SignatureAlgorithm.Sm2)]
    public void Init_NewDirectory_WritesVerifiableKeySetDenyListAndCa(SignatureAlgorithm algorithm)
    {
        var created = OperatorKeyDirectory.Init(_dir, algorithm);
        var opened = OperatorKeyDirectory.Open(_dir);

        Assert.Equal(1, opened.KeySet.Version);
        Assert.Equal(algorithm, opened.KeySet.Keys.Single().Algorithm);
        Assert.Equal(1, opened.DenyList.Version);
        Assert.Equal(created.RootPublicKey.Compressed, opened.RootPublicKey.Compressed);
        using var ca = opened.OpenDeviceAuthority();
        using var device = ca.IssueDeviceCertificate("gate-7", "metro", DateTimeOffset.UtcNow);
        Assert.True(ca.Issued(device, DateTimeOffset.UtcNow));
        Assert.Contains("CN=gate-7", device.Subject, StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(opened.RootKeyPath));
        }
    }

    [Fact]
    public void Init_ExistingDirectory_RefusesToOverwriteRootKey()
    {
        OperatorKeyDirectory.Init(_dir, SignatureAlgorithm.P256);
        var before = File.ReadAllText(Path.Combine(_dir, "root.key.json"));
        var ex = Assert.Throws<KeyDirectoryException>(() => OperatorKeyDirectory.Init(_dir, SignatureAlgorithm.P256));
        Assert.Contains("already holds", ex.Message, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllText(Path.Combine(_dir, "root.key.json")));
    }

    [Fact]
    public void Rotate_OldCredentialsKeepVerifying_NewOnesUseNewKey_RevokeStopsOld()
    {
        var keys = OperatorKeyDirectory.Init(_dir, SignatureAlgorithm.P256);
        var now = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        using var oldPhone = Issue(keys, "old", now);

        var added = keys.Rotate(SignatureAlgorithm.Sm2);
        Assert.Equal(2, added.KeyId);
        using var newPhone = Issue(keys, "new", now);
        Assert.Equal(2, newPhone.Credential.KeyId);
        Assert.Equal(SignatureAlgorithm.Sm2, newPhone.PhoneKey.Algorithm);

        var trust = TrustStore.Open(keys.RootPublicKey, keys.ReadSignedKeySet());
        var verifier = new RideCodeVerifier(trust, time: new FixedClock(now));
        Assert.True(verifier.Verify(oldPhone.Show(now, 0).ToText()).Accepted);
        Assert.True(verifier.Verify(newPhone.Show(now, 0).ToText()).Accepted);
        Assert.Equal(KeyStatus.Retired, trust.KeySet.Keys[0].Status);

        keys.Revoke(1);
        Assert.True(trust.UpdateKeySet(keys.ReadSignedKeySet()));
        Assert.Equal(VerificationReason.RevokedKey, verifier.Verify(oldPhone.Show(now, 1).ToText()).Reason);
        Assert.True(verifier.Verify(newPhone.Show(now, 1).ToText()).Accepted);
        Assert.Throws<KeyDirectoryException>(() => keys.Revoke(99));
    }

    [Fact]
    public void UpdateDenyList_EachChangeWritesSnapshotAndDeltaThatChainFromVersionOne()
    {
        var keys = OperatorKeyDirectory.Init(_dir, SignatureAlgorithm.P256);
        Assert.NotNull(keys.UpdateDenyList(addAccounts: ["a", "b"]));
        Assert.NotNull(keys.UpdateDenyList(removeAccounts: ["a"], addCredentials: [77UL]));
        Assert.Null(keys.UpdateDenyList(addAccounts: ["b"]));

        var atOne = new TrustStore(keys.RootPublicKey, keys.KeySet, new DenyList(1, keys.DenyList.IssuedAt, [], []));
        foreach (var delta in OperatorKeyDirectory.Open(_dir).ReadDenyListDeltasAfter(1))
        {
            atOne.ApplyDenyListDelta(delta);
        }

        Assert.Equal(3, atOne.DenyList.Version);
        Assert.Equal(["b"], atOne.DenyList.Accounts);
        Assert.Equal([77UL], atOne.DenyList.Credentials);
        var exported = Path.Combine(_dir, "export.json");
        keys.ExportDenyList(exported);
        Assert.Equal(atOne.DenyList.ToPayload(), DenyList.Open(SignedDocument.Parse(File.ReadAllText(exported)), keys.RootPublicKey, keys.KeySet).ToPayload());
    }

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private static PhoneCredential Issue(OperatorKeyDirectory keys, string account, DateTimeOffset now)
    {
        var (key, privateKey) = keys.OpenIssuingKey();
        using (privateKey)
        {
            return PhoneCredential.Issue(privateKey, key.KeyId, account, "0", now.AddMinutes(-1), TimeSpan.FromHours(2));
        }
    }
}
