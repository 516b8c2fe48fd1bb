using Transit.RideCodes;

namespace Transit.RideCodes.Tests;

public class RideCodeVerifierTests
{
    private static readonly DateTimeOffset Now = TestIssuer.Now;

    [Theory]
    [InlineData(SignatureAlgorithm.P256)]
    [InlineData(SignatureAlgorithm.Sm2)]
    public void Verify_FreshCode_AcceptedWithCredentialFields(SignatureAlgorithm algorithm)
    {
        using var issuer = new TestIssuer(algorithm);
        using var phone = issuer.Phone("alice-77", "2");
        var text = phone.Show(Now.AddSeconds(-3), 9).ToText();

        var result = issuer.Verifier().Verify(text);

        Assert.Equal(VerificationReason.Ok, result.Reason);
        Assert.True(result.Accepted);
        Assert.Equal("ok", result.ReasonCode);
        Assert.Equal("alice-77", result.Account);
        Assert.Equal("2", result.Category);
        Assert.Equal(phone.Credential.CredentialId, result.Code!.Credential.CredentialId);
        Assert.Equal(Now.AddSeconds(-3), result.Code.Timestamp);
        Assert.Equal(9, result.Code.Counter);
        Assert.StartsWith("TR1:", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(SignatureAlgorithm.P256)]
    [InlineData(SignatureAlgorithm.Sm2)]
    public void Show_LongestAllowedAccountAndCategory_FitsIn300Characters(SignatureAlgorithm algorithm)
    {
        using var issuer = new TestIssuer(algorithm);
        using var phone = issuer.Phone(new string('a', 12), "abc");
        Assert.True(phone.Show(Now, 0).ToText().Length <= 300);
        using var longAccount = issuer.Phone(new string('b', 15), "");
        Assert.True(longAccount.Show(Now, 0).ToText().Length <= 300);
    }

    [Fact]
    public void Issue_AccountAndCategoryTooLong_ThrowsNamingTheLimit()
    {
        using var issuer = new TestIssuer();
        var ex = Assert.Throws<ArgumentException>(() => issuer.Phone(new string('a', 13), "abc"));
        Assert.Contains("300-character", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => issuer.Phone("has space", "0"));
        Assert.Throws<ArgumentException>(() => issuer.Phone("", "0"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("hello")]
    [InlineData("TR1:")]
    [InlineData("TR1:BB8")]
    [InlineData("TR:ABC")]
    [InlineData("TRX:ABC")]
    [InlineData("tr1:ABC")]
    [InlineData(null)]
    public void Verify_NotARideCode_Malformed(string? text)
    {
        using var issuer = new TestIssuer();
        Assert.Equal(VerificationReason.Malformed, issuer.Verifier().Verify(text).Reason);
    }

    [Theory]
    [InlineData("TR3:ABC")]
    [InlineData("TR10:BB8")]
    [InlineData("TR0:")]
    public void Verify_OtherVersion_UnsupportedVersion(string text)
    {
        using var issuer = new TestIssuer();
        Assert.Equal(VerificationReason.UnsupportedVersion, issuer.Verifier().Verify(text).Reason);
    }

    [Fact]
    public void Verify_TrailingByte_Malformed()
    {
        using var issuer = new TestIssuer();
        using var phone = issuer.Phone();
        var bytes = phone.Show(Now, 0).ToBytes();
        Assert.Equal(VerificationReason.Malformed, issuer.Verifier().Verify(RideCodeFormat.Prefix + Base45.Encode([.. bytes, 0])).Reason);
    }

    [Fact]
    public void Verify_KeyIdNotInKeySet_UnknownKey()
    {
        using var issuer = new TestIssuer(keyId: 1);
        using var other = new TestIssuer(keyId: 2);
        using var phone = other.Phone();
        Assert.Equal(VerificationReason.UnknownKey, issuer.Verifier().Verify(phone.Show(Now, 0).ToText()).Reason);
    }

    [Fact]
    public void Verify_KeyOutsideValidity_UnknownKey()
    {
        using var issuer = new TestIssuer();
        var expiredKeySet = new KeySet(2, Now, [new IssuerKey(1, issuer.Issuer.PublicKey, KeyStatus.Retired, Now.AddDays(-30), Now.AddMinutes(-1))]);
        var verifier = new RideCodeVerifier(new TrustStore(issuer.Root.PublicKey, expiredKeySet), time: new FixedClock(Now));
        using var phone = issuer.Phone();
        Assert.Equal(VerificationReason.UnknownKey, verifier.Verify(phone.Show(Now, 0).ToText()).Reason);
    }

    [Fact]
    public void Verify_RetiredKeyWithinValidity_Accepted()
    {
        using var issuer = new TestIssuer();
        var retired = new KeySet(2, Now, [new IssuerKey(1, issuer.Issuer.PublicKey, KeyStatus.Retired, Now.AddDays(-30), Now.AddDays(1))]);
        var verifier = new RideCodeVerifier(new TrustStore(issuer.Root.PublicKey, retired), time: new FixedClock(Now));
        using var phone = issuer.Phone();
        Assert.True(verifier.Verify(phone.Show(Now, 0).ToText()).Accepted);
    }

    [Fact]
    public void Verify_RevokedKey_RevokedKey()
    {
        using var issuer = new TestIssuer();
        var revoked = new KeySet(2, Now, [new IssuerKey(1, issuer.Issuer.PublicKey, KeyStatus.Revoked, Now.AddDays(-30), null)]);
        var verifier = new RideCodeVerifier(new TrustStore(issuer.Root.PublicKey, revoked), time: new FixedClock(Now));
        using var phone = issuer.Phone();
        Assert.Equal(VerificationReason.RevokedKey, verifier.Verify(phone.Show(Now, 0).ToText()).Reason);
    }

    [Theory]
    [InlineData(SignatureAlgorithm.P256)]
    [InlineData(SignatureAlgorithm.Sm2)]
    public void Verify_CredentialSignedByAnotherKeyWithSameId_BadIssuerSignature(SignatureAlgorithm algorithm)
    {
        using var issuer = new TestIssuer(algorithm);
        using var forger = new TestIssuer(algorithm);
        using var phone = forger.Phone();
        Assert.Equal(VerificationReason.BadIssuerSignature, issuer.Verifier().Verify(phone.Show(Now, 0).ToText()).Reason);
    }

    [Fact]
    public void Verify_CredentialFieldChangedAfterSigning_BadIssuerSignature()
    {
        using var issuer = new TestIssuer();
        using var phone = issuer.Phone("rider-1", "0");
        var code = phone.Show(Now, 0);
        var bytes = code.ToBytes();
        bytes[17 + "rider-".Length] = (byte)'2';  // rider-1 → rider-2, as a forger would try
        var forged = RideCodeFormat.Prefix + Base45.Encode(bytes);
        Assert.Equal(VerificationReason.BadIssuerSignature, issuer.Verifier().Verify(forged).Reason);
    }

    [Fact]
    public void Verify_AfterNotAfter_CredentialExpired()
    {
        using var issuer = new TestIssuer();
        using var phone = issuer.Phone(notBefore: Now.AddHours(-2), hours: 1);
        Assert.Equal(VerificationReason.CredentialExpired, issuer.Verifier().Verify(phone.Show(Now.AddSeconds(-5), 0).ToText()).Reason);
    }

    [Fact]
    public void Verify_BeforeNotBefore_CredentialNotYetValid()
    {
        using var issuer = new TestIssuer();
        using var phone = issuer.Phone(notBefore: Now.AddMinutes(10));
        Assert.Equal(VerificationReason.CredentialNotYetValid, issuer.Verifier().Verify(phone.Show(Now.AddMinutes(10), 0).ToText()).Reason);
    }

    [Theory]
    [InlineData(SignatureAlgorithm.P256)]
    [InlineData(SignatureAlgorithm.Sm2)]
    public void Verify_CodeSignedByAnotherPhone_BadSignature(SignatureAlgorithm algorithm)
    {
        using var issuer = new TestIssuer(algorithm);
        using var phone = issuer.Phone();
        using var thief = SigningKey.Generate(algorithm);
        var credential = phone.Credential;
        // A thief with a copy of the credential but not the phone's key signs a code with its own key.
        var stolen = new RideCode(credential, 5400, 1, thief.Sign(RideCode.BuildPhoneSignedMessage(credential, 5400, 1)));
        Assert.Equal(VerificationReason.BadSignature, issuer.Verifier().Verify(stolen.ToText()).Reason);
    }

    [Fact]
    public void Verify_TimestampChangedAfterSigning_BadSignature()
    {
        using var issuer = new TestIssuer();
        using var phone = issuer.Phone();
        var code = phone.Show(Now.AddMinutes(-10), 0);
        // Move an old screenshot's timestamp forward without re-signing.
        var moved = new RideCode(code.Credential, code.TimestampOffset + 600, code.Counter, code.Signature);
        Assert.Equal(VerificationReason.BadSignature, issuer.Verifier().Verify(moved.ToText()).Reason);
    }

    [Fact]
    public void Verify_OlderThanMaxAge_Stale()
    {
        using var issuer = new TestIssuer();
        using var phone = issuer.Phone();
        var verifier = issuer.Verifier();
        Assert.Equal(VerificationReason.Stale, verifier.Verify(phone.Show(Now.AddSeconds(-61), 0).ToText()).Reason);
        Assert.Equal(VerificationReason.Ok, verifier.Verify(phone.Show(Now.AddSeconds(-60), 0).ToText()).Reason);
    }

    [Fact]
    public void Verify_AheadOfClock_Future()
    {
        using var issuer = new TestIssuer();
        using var phone = issuer.Phone();
        var verifier = issuer.Verifier();
        Assert.Equal(VerificationReason.Future, verifier.Verify(phone.Show(Now.AddSeconds(31), 0).ToText()).Reason);
        Assert.Equal(VerificationReason.Ok, verifier.Verify(phone.Show(Now.AddSeconds(30), 0).ToText()).Reason);
    }

    [Fact]
    public void Verify_ConfiguredFreshness_Applied()
    {
        using var issuer = new TestIssuer();
        using var phone = issuer.Phone();
        var verifier = issuer.Verifier(options: new VerifierOptions { MaxAge = TimeSpan.FromSeconds(10), MaxClockAhead = TimeSpan.FromSeconds(2) });
        Assert.Equal(VerificationReason.Stale, verifier.Verify(phone.Show(Now.AddSeconds(-11), 0).ToText()).Reason);
        Assert.Equal(VerificationReason.Future, verifier.Verify(phone.Show(Now.AddSeconds(3), 0).ToText()).Reason);
        Assert.Equal(VerificationReason.Ok, verifier.Verify(phone.Show(Now.AddSeconds(-10), 0).ToText()).Reason);
    }

    [Fact]
    public void Verify_DeniedAccountOrCredential_Denied()
    {
        using var issuer = new TestIssuer();
        using var blocked = issuer.Phone("blocked");
        using var lost = issuer.Phone("lost-phone");
        using var fine = issuer.Phone("fine");
        var deny = new DenyList(2, Now, ["blocked"], [lost.Credential.CredentialId]);
        var verifier = new RideCodeVerifier(new TrustStore(issuer.Root.PublicKey, issuer.KeySet, deny), time: new FixedClock(Now));

        Assert.Equal(VerificationReason.Denied, verifier.Verify(blocked.Show(Now, 0).ToText()).Reason);
        Assert.Equal(VerificationReason.Denied, verifier.Verify(lost.Show(Now, 0).ToText()).Reason);
        Assert.Equal(VerificationReason.Ok, verifier.Verify(fine.Show(Now, 0).ToText()).Reason);
    }

    [Fact]
    public void Verify_SameCodeTwice_Replayed()
    {
        using var issuer = new TestIssuer();
        using var phone = issuer.Phone();
        var verifier = issuer.Verifier();
        var code = phone.Show(Now, 4);
        Assert.Equal(VerificationReason.Ok, verifier.Verify(code.ToText()).Reason);
        Assert.Equal(VerificationReason.Replayed, verifier.Verify(code.ToText()).Reason);

        // The same content signed again (ECDSA signatures differ each time) is still the same code.
        var resigned = phone.Show(Now, 4);
        Assert.NotEqual(code.ToText(), resigned.ToText());
        Assert.Equal(VerificationReason.Replayed, verifier.Verify(resigned.ToText()).Reason);

        // The next counter value is a new code.
        Assert.Equal(VerificationReason.Ok, verifier.Verify(phone.Show(Now, 5).ToText()).Reason);
    }

    [Fact]
    public void Verify_RefusedCodeShownAgain_NotReplayedButSameReason()
    {
        using var issuer = new TestIssuer();
        using var phone = issuer.Phone();
        var verifier = issuer.Verifier();
        var stale = phone.Show(Now.AddMinutes(-5), 0).ToText();
        Assert.Equal(VerificationReason.Stale, verifier.Verify(stale).Reason);
        Assert.Equal(VerificationReason.Stale, verifier.Verify(stale).Reason);
    }

    [Fact]
    public void Verify_EveryReasonProducedByARealCase()
    {
        // The reasons asserted individually above, gathered so that a new reason without a real case fails here.
        var produced = new HashSet<string>(StringComparer.Ordinal);
        using var issuer = new TestIssuer();
        using var otherKey = new TestIssuer(keyId: 9);
        using var forger = new TestIssuer();
        var verifier = issuer.Verifier();
        using var phone = issuer.Phone("reasons");
        void Add(string? text, RideCodeVerifier? v = null) => produced.Add((v ?? verifier).Verify(text).ReasonCode);

        var ok = phone.Show(Now, 0).ToText();
        Add(ok);
        Add(ok);
        Add("nonsense");
        Add("TR7:ABC");
        using (var p = otherKey.Phone())
        {
            Add(p.Show(Now, 0).ToText());
        }

        var revoked = new RideCodeVerifier(
            new TrustStore(issuer.Root.PublicKey, new KeySet(2, Now, [new IssuerKey(1, issuer.Issuer.PublicKey, KeyStatus.Revoked, Now.AddDays(-1), null)])),
            time: new FixedClock(Now));
        Add(ok, revoked);
        using (var p = forger.Phone())
        {
            Add(p.Show(Now, 0).ToText());
        }

        using (var p = issuer.Phone(notBefore: Now.AddHours(-1), hours: 24 * 8))
        {
            Add(p.Show(Now, 0).ToText());
        }

        using (var p = issuer.Phone(notBefore: Now.AddHours(-3), hours: 1))
        {
            Add(p.Show(Now.AddHours(-2).AddMinutes(-1), 0).ToText());
        }

        using (var p = issuer.Phone(notBefore: Now.AddHours(1)))
        {
            Add(p.Show(Now.AddHours(1), 0).ToText());
        }

        using (var thief = SigningKey.Generate(SignatureAlgorithm.P256))
        {
            Add(new RideCode(phone.Credential, 3600, 1, thief.Sign(RideCode.BuildPhoneSignedMessage(phone.Credential, 3600, 1))).ToText());
        }

        Add(phone.Show(Now.AddMinutes(-2), 1).ToText());
        Add(phone.Show(Now.AddMinutes(2), 1).ToText());
        var denying = new RideCodeVerifier(
            new TrustStore(issuer.Root.PublicKey, issuer.KeySet, new DenyList(2, Now, ["reasons"], [])), time: new FixedClock(Now));
        Add(phone.Show(Now, 2).ToText(), denying);
        using (var stranger = new TestIssuer(issuerId: "zz"))
        using (var p = stranger.Phone())
        {
            Add(p.Show(Now, 0).ToText());
        }

        Assert.Equal(VerificationReasons.All.OrderBy(r => r, StringComparer.Ordinal), produced.OrderBy(r => r, StringComparer.Ordinal));
    }

    [Fact]
    public void Verify_ManyThreadsAtOnce_SameResultsAsOneThread()
    {
        using var issuer = new TestIssuer();
        var phones = Enumerable.Range(0, 40).Select(i => issuer.Phone($"t{i}")).ToList();
        var codes = phones.SelectMany((p, i) => new[] { p.Show(Now, 0).ToText(), p.Show(Now.AddMinutes(-3), 1).ToText() }).ToArray();
        var expected = codes.Select(c => issuer.Verifier().Verify(c).Reason).ToArray();
        var shared = new RideCodeVerifier(issuer.Trust, time: new FixedClock(Now));

        var actual = new VerificationReason[codes.Length];
        Parallel.For(0, codes.Length * 10, i => actual[i % codes.Length] = shared.Verify(codes[i % codes.Length]).Reason);

        Assert.Equal(expected, actual);
        Assert.Equal(0, shared.UnexpectedErrors);
        phones.ForEach(p => p.Dispose());
    }

    [Fact]
    public void Sm2PublicKey_VerifyAlternatingValidAndInvalid_NoStateCarriesOver()
    {
        using var key = SigningKey.Generate(SignatureAlgorithm.Sm2);
        var messages = Enumerable.Range(0, 20).Select(i => BitConverter.GetBytes(i * 7919)).ToArray();
        var signatures = messages.Select(m => key.Sign(m)).ToArray();
        for (var round = 0; round < 3; round++)
        {
            for (var i = 0; i < messages.Length; i++)
            {
                Assert.True(key.PublicKey.Verify(messages[i], signatures[i]));
                Assert.False(key.PublicKey.Verify(messages[i], signatures[(i + 1) % messages.Length]));
            }
        }
    }

    [Fact]
    public void P256PublicKey_ManagedAndOpenSslImport_AgreeOnEveryPoint()
    {
        var random = new Random(2026);
        for (var i = 0; i < 200; i++)
        {
            var point = new byte[33];
            random.NextBytes(point);
            point[0] = (byte)(2 + (i & 1));
            var managed = P256PublicKey.TryCreateManaged(point, out var managedKey);
            var native = PublicKey.TryImport(SignatureAlgorithm.P256, point, out var nativeKey);
            Assert.Equal(managed, native);
            if (managed)
            {
                Assert.Equal(managedKey.Compressed, nativeKey.Compressed);
            }
        }

        using var real = SigningKey.Generate(SignatureAlgorithm.P256);
        var signature = real.Sign("m"u8);
        Assert.True(P256PublicKey.TryCreateManaged(real.PublicKey.Compressed, out var viaManaged));
        Assert.True(viaManaged.Verify("m"u8, signature));
        Assert.True(real.PublicKey.Verify("m"u8, signature));
    }
}
