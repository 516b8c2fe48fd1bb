using System.Buffers.Binary;
using System.Security.Cryptography;
using FsCheck;
using FsCheck.Fluent;
using Transit.RideCodes;

namespace Transit.RideCodes.Tests;

/// <summary>
/// The verifier remembers credentials whose issuer signature verified. Whether a code passes must never depend on
/// what that cache holds: these tests warm it with a genuine credential and then show it altered ones.
/// </summary>
public sealed class CredentialCacheTests
{
    private static readonly DateTimeOffset Now = TestIssuer.Now;

    [Theory]
    [InlineData(SignatureAlgorithm.P256)]
    [InlineData(SignatureAlgorithm.Sm2)]
    public void Verify_CachedCredentialBodyWithAnotherIssuerSignature_BadIssuerSignatureAtGateAndClearing(SignatureAlgorithm algorithm)
    {
        using var issuer = new TestIssuer(algorithm);
        using var phone = issuer.Phone();
        var verifier = issuer.Verifier();
        Assert.Equal(VerificationReason.Ok, verifier.Verify(phone.Show(Now, 1).ToText()).Reason);

        // The rider keeps the body the issuer signed, puts garbage where the issuer signature goes and signs the code
        // with the phone key, which the body names.
        var bytes = phone.Credential.ToBytes();
        RandomNumberGenerator.Fill(bytes.AsSpan(phone.Credential.Body.Length));
        var forged = SignWithPhone(phone, bytes, Now, 2);

        Assert.Equal(VerificationReason.BadIssuerSignature, verifier.Verify(forged).Reason);
        Assert.True(RideCodeFormat.TryParse(forged, out var parsed) == ParseStatus.Ok);
        Assert.Equal(VerificationReason.BadIssuerSignature, verifier.CheckSignaturesAndValidity(parsed, Now));
        Assert.Equal(VerificationReason.Ok, verifier.Verify(phone.Show(Now, 3).ToText()).Reason);
    }

    [Fact]
    public void Verify_AnyByteOfACachedCredentialFlipped_NeverAcceptedAndSameVerdictAsAColdVerifier()
    {
        using var issuer = new TestIssuer();
        using var phone = issuer.Phone("cached-1", "2");
        var warm = new RideCodeVerifier(issuer.Trust, time: new FixedClock(Now));
        Assert.Equal(VerificationReason.Ok, warm.Verify(phone.Show(Now, 0).ToText()).Reason);
        Assert.Equal(1, warm.CachedCredentialCount);
        var genuine = phone.Credential.ToBytes();

        var flips =
            from position in Gen.Choose(0, genuine.Length - 1)
            from mask in Gen.Choose(1, 255)
            from counter in Gen.Choose(1, 255)
            select (Position: position, Mask: (byte)mask, Counter: (byte)counter);
        Prop.ForAll(flips.ToArbitrary(), flip =>
        {
            var bytes = (byte[])genuine.Clone();
            bytes[flip.Position] ^= flip.Mask;
            var code = SignWithPhone(phone, bytes, Now, flip.Counter);
            var cold = new RideCodeVerifier(issuer.Trust, time: new FixedClock(Now));
            var reason = warm.Verify(code).Reason;
            return reason != VerificationReason.Ok && reason == cold.Verify(code).Reason;
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(TestSize.Pick(ci: 600, full: 20_000)).WithQuietOnSuccess(true));

        // The genuine credential stays cached and accepted throughout.
        Assert.Equal(1, warm.CachedCredentialCount);
        Assert.Equal(VerificationReason.Ok, warm.Verify(phone.Show(Now, 0).ToText()).Reason);
        Assert.Equal(0, warm.UnexpectedErrors);
    }

    [Fact]
    public void Verify_EverySingleByteFlipOfTheIssuerSignatureOfACachedCredential_BadIssuerSignature()
    {
        using var issuer = new TestIssuer();
        using var phone = issuer.Phone();
        var verifier = issuer.Verifier();
        Assert.True(verifier.Verify(phone.Show(Now, 0).ToText()).Accepted);
        var genuine = phone.Credential.ToBytes();
        for (var i = phone.Credential.Body.Length; i < genuine.Length; i++)
        {
            var bytes = (byte[])genuine.Clone();
            bytes[i] ^= 0x01;
            Assert.Equal(VerificationReason.BadIssuerSignature, verifier.Verify(SignWithPhone(phone, bytes, Now, 1)).Reason);
        }
    }

    [Fact]
    public void Verify_SecondCodeOfACredential_ServedFromOneCacheEntry()
    {
        using var issuer = new TestIssuer();
        using var first = issuer.Phone("first");
        using var second = issuer.Phone("second");
        var verifier = issuer.Verifier();
        Assert.Equal(0, verifier.CachedCredentialCount);

        Assert.True(verifier.Verify(first.Show(Now, 0).ToText()).Accepted);
        Assert.True(verifier.Verify(first.Show(Now, 1).ToText()).Accepted);
        Assert.Equal(1, verifier.CachedCredentialCount);
        Assert.True(verifier.Verify(second.Show(Now, 0).ToText()).Accepted);
        Assert.Equal(2, verifier.CachedCredentialCount);
    }

    [Fact]
    public void Verify_RefusedIssuerSignature_NotCached()
    {
        using var issuer = new TestIssuer();
        using var forger = new TestIssuer();
        using var forged = forger.Phone();
        var verifier = issuer.Verifier();
        Assert.Equal(VerificationReason.BadIssuerSignature, verifier.Verify(forged.Show(Now, 0).ToText()).Reason);
        Assert.Equal(0, verifier.CachedCredentialCount);
    }

    [Fact]
    public void Verify_CacheFull_StartsOverAndStaysWithinItsSize()
    {
        using var issuer = new TestIssuer();
        var phones = Enumerable.Range(0, 3).Select(i => issuer.Phone($"full-{i}")).ToList();
        var verifier = issuer.Verifier(options: new VerifierOptions { CredentialCacheSize = 2 });

        Assert.True(verifier.Verify(phones[0].Show(Now, 0).ToText()).Accepted);
        Assert.True(verifier.Verify(phones[1].Show(Now, 0).ToText()).Accepted);
        Assert.Equal(2, verifier.CachedCredentialCount);
        Assert.True(verifier.Verify(phones[2].Show(Now, 0).ToText()).Accepted);
        Assert.Equal(1, verifier.CachedCredentialCount);
        Assert.True(verifier.Verify(phones[0].Show(Now, 1).ToText()).Accepted);
        Assert.Equal(2, verifier.CachedCredentialCount);
        phones.ForEach(p => p.Dispose());
    }

    [Fact]
    public void Verify_KeyIdReKeyedInANewKeySet_WarmCacheDoesNotCarryOver()
    {
        using var issuer = new TestIssuer();
        using var phone = issuer.Phone();
        using var newIssuerKey = SigningKey.Generate(issuer.Algorithm);
        var verifier = issuer.Verifier();
        Assert.Equal(VerificationReason.Ok, verifier.Verify(phone.Show(Now, 0).ToText()).Reason);
        Assert.Equal(1, verifier.CachedCredentialCount);

        // The issuer's key 1 leaked: the root publishes a key set where id 1 is a new key. Credentials the old key
        // signed, cached or not, must fail.
        var reKeyed = new KeySet(2, Now, [new IssuerKey(issuer.KeyId, newIssuerKey.PublicKey, KeyStatus.Active, Now.AddDays(-1), null)]);
        Assert.True(issuer.Trust.UpdateKeySet(reKeyed.Sign(issuer.Root)));

        Assert.Equal(VerificationReason.BadIssuerSignature, verifier.Verify(phone.Show(Now, 1).ToText()).Reason);
        Assert.Equal(0, verifier.CachedCredentialCount);
        using var reissued = PhoneCredential.Issue(newIssuerKey, issuer.KeyId, "rider-1", "0", Now.AddHours(-1), TimeSpan.FromHours(24));
        Assert.Equal(VerificationReason.Ok, verifier.Verify(reissued.Show(Now, 0).ToText()).Reason);
        Assert.Equal(1, verifier.CachedCredentialCount);
    }

    [Fact]
    public void Verify_IssuerKeyRevokedWithWarmCache_RevokedKey()
    {
        using var issuer = new TestIssuer();
        using var phone = issuer.Phone();
        var verifier = issuer.Verifier();
        Assert.Equal(VerificationReason.Ok, verifier.Verify(phone.Show(Now, 0).ToText()).Reason);

        var revoked = new KeySet(2, Now, [new IssuerKey(issuer.KeyId, issuer.Issuer.PublicKey, KeyStatus.Revoked, Now.AddDays(-30), null)]);
        Assert.True(issuer.Trust.UpdateKeySet(revoked.Sign(issuer.Root)));

        Assert.Equal(VerificationReason.RevokedKey, verifier.Verify(phone.Show(Now, 1).ToText()).Reason);
        Assert.Equal(VerificationReason.RevokedKey, verifier.CheckSignaturesAndValidity(phone.Show(Now, 2), Now));
    }

    [Fact]
    public void Verify_IssuerSignedPhoneKeyThatIsNoCurvePoint_BadIssuerSignatureNotCached()
    {
        using var issuer = new TestIssuer();
        using var phone = issuer.Phone();
        var body = (byte[])phone.Credential.Body.Clone();
        body.AsSpan(body.Length - PublicKey.CompressedLength + 1).Fill(0xFF);  // x ≥ p: no point on the curve
        var signature = issuer.Issuer.Sign([.. "TR1C"u8, .. body]);
        var dynamicPart = new byte[4 + PublicKey.SignatureLength];
        dynamicPart[1] = 1;
        var code = RideCodeFormat.Prefix + Base45.Encode([.. body, .. signature, .. dynamicPart]);
        var verifier = issuer.Verifier();

        Assert.Equal(VerificationReason.BadIssuerSignature, verifier.Verify(code).Reason);
        Assert.Equal(0, verifier.CachedCredentialCount);
        Assert.Equal(0, verifier.UnexpectedErrors);
    }

    [Fact]
    public void ByteArrayComparer_ComparesContentNotReferences()
    {
        var comparer = RideCodeVerifier.ByteArrayComparer.Instance;
        byte[] a = [1, 2, 3];
        byte[] same = [1, 2, 3];
        byte[] other = [1, 2, 4];
        Assert.True(comparer.Equals(a, same));
        Assert.False(comparer.Equals(a, other));
        Assert.False(comparer.Equals(a, [1, 2]));
        Assert.True(comparer.Equals(a.AsSpan(), same));
        Assert.False(comparer.Equals(a.AsSpan(), other));
        Assert.Equal(comparer.GetHashCode(a), comparer.GetHashCode(same));
        Assert.Equal(comparer.GetHashCode(a), comparer.GetHashCode(a.AsSpan()));
        Assert.NotEqual(comparer.GetHashCode(a), comparer.GetHashCode(other));
        var created = comparer.Create(a.AsSpan());
        Assert.NotSame(a, created);
        Assert.Equal(a, created);
    }

    /// <summary>
    /// A code over arbitrary credential bytes, signed by the phone: what a rider holding the phone key can build.
    /// </summary>
    private static string SignWithPhone(PhoneCredential phone, byte[] credentialBytes, DateTimeOffset at, byte counter)
    {
        var offset = (uint)(at - phone.Credential.NotBefore).TotalSeconds;
        var dynamicPart = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(dynamicPart, (offset << 8) | counter);
        var signature = phone.PhoneKey.Sign([.. "TR1D"u8, .. credentialBytes, .. dynamicPart]);
        return RideCodeFormat.Prefix + Base45.Encode([.. credentialBytes, .. dynamicPart, .. signature]);
    }
}
