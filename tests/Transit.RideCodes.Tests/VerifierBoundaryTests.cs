using Transit.RideCodes;

namespace Transit.RideCodes.Tests;

/// <summary>
/// Every time comparison of the verifier at its exact edge and one tick past it, and the credential validity cap.
/// </summary>
public sealed class VerifierBoundaryTests
{
    private static readonly DateTimeOffset Now = TestIssuer.Now;
    private static readonly TimeSpan Tick = TimeSpan.FromTicks(1);

    [Fact]
    public void Verify_ValidityExactlyTheDefaultCap_Accepted()
    {
        using var issuer = new TestIssuer();
        using var phone = issuer.Phone(hours: 24 * 7);
        Assert.Equal(TimeSpan.FromDays(7), VerifierOptions.DefaultMaxCredentialValidity);
        Assert.Equal(VerificationReason.Ok, issuer.Verifier().Verify(phone.Show(Now, 0).ToText()).Reason);
    }

    [Fact]
    public void Verify_ValidityOneMinuteOverTheDefaultCap_CredentialValidityTooLongAtGateAndClearing()
    {
        using var issuer = new TestIssuer();
        using var phone = PhoneCredential.Issue(issuer.Issuer, issuer.KeyId, "long-lived", "0", Now.AddHours(-1), TimeSpan.FromDays(7) + TimeSpan.FromMinutes(1));
        var verifier = issuer.Verifier();
        var code = phone.Show(Now, 0);

        var result = verifier.Verify(code.ToText());

        Assert.Equal(VerificationReason.CredentialValidityTooLong, result.Reason);
        Assert.Equal("credential-validity-too-long", result.ReasonCode);
        Assert.Equal(VerificationReason.CredentialValidityTooLong, verifier.CheckSignaturesAndValidity(code, Now));
    }

    [Fact]
    public void Verify_ConfiguredCap_AppliedToTheMinute()
    {
        using var issuer = new TestIssuer();
        using var atCap = issuer.Phone("at-cap", hours: 2);
        using var overCap = PhoneCredential.Issue(issuer.Issuer, issuer.KeyId, "over-cap", "0", Now.AddHours(-1), TimeSpan.FromMinutes(121));
        var verifier = issuer.Verifier(options: new VerifierOptions { MaxCredentialValidity = TimeSpan.FromHours(2) });
        Assert.Equal(VerificationReason.Ok, verifier.Verify(atCap.Show(Now, 0).ToText()).Reason);
        Assert.Equal(VerificationReason.CredentialValidityTooLong, verifier.Verify(overCap.Show(Now, 0).ToText()).Reason);
    }

    [Fact]
    public void Verify_TooLongAndForged_BadIssuerSignatureComesFirst_TooLongAndExpired_TooLong()
    {
        using var issuer = new TestIssuer();
        using var forger = new TestIssuer();
        using var forged = forger.Phone(hours: 24 * 8);
        using var expired = issuer.Phone(notBefore: Now.AddDays(-9), hours: 24 * 8);
        var verifier = issuer.Verifier();
        Assert.Equal(VerificationReason.BadIssuerSignature, verifier.Verify(forged.Show(Now, 0).ToText()).Reason);
        Assert.Equal(VerificationReason.CredentialValidityTooLong, verifier.CheckSignaturesAndValidity(expired.Show(Now, 0), Now));
    }

    [Fact]
    public void VerifierOptions_OutOfRange_ThrowNamingTheSetting()
    {
        Assert.Equal("MaxCredentialValidity", Assert.Throws<ArgumentOutOfRangeException>(() => new VerifierOptions { MaxCredentialValidity = TimeSpan.Zero }.Validate()).ParamName);
        Assert.Equal("MaxCredentialValidity", Assert.Throws<ArgumentOutOfRangeException>(() => new VerifierOptions { MaxCredentialValidity = -Tick }.Validate()).ParamName);
        Assert.Equal("MaxAge", Assert.Throws<ArgumentOutOfRangeException>(() => new VerifierOptions { MaxAge = TimeSpan.Zero }.Validate()).ParamName);
        Assert.Equal("MaxClockAhead", Assert.Throws<ArgumentOutOfRangeException>(() => new VerifierOptions { MaxClockAhead = -Tick }.Validate()).ParamName);
        Assert.Equal("CredentialCacheSize", Assert.Throws<ArgumentOutOfRangeException>(() => new VerifierOptions { CredentialCacheSize = 0 }.Validate()).ParamName);
        using var issuer = new TestIssuer();
        Assert.Throws<ArgumentOutOfRangeException>(() => new RideCodeVerifier(issuer.Trust, new VerifierOptions { MaxAge = TimeSpan.Zero }));

        // The smallest values in range are accepted.
        new VerifierOptions { MaxCredentialValidity = Tick, MaxAge = Tick, MaxClockAhead = TimeSpan.Zero, CredentialCacheSize = 1 }.Validate();
    }

    [Fact]
    public void Verify_AtNotAfter_Expired_OneTickBefore_Accepted()
    {
        using var issuer = new TestIssuer();
        using var phone = issuer.Phone();
        var notAfter = phone.Credential.NotAfter;
        var code = phone.Show(notAfter.AddSeconds(-10), 0);
        var verifier = issuer.Verifier();
        Assert.Equal(VerificationReason.Ok, verifier.CheckSignaturesAndValidity(code, notAfter - Tick));
        Assert.Equal(VerificationReason.CredentialExpired, verifier.CheckSignaturesAndValidity(code, notAfter));
        Assert.Equal(VerificationReason.CredentialExpired, verifier.Verify(code.ToText(), notAfter).Reason);
    }

    [Fact]
    public void Verify_AtNotBefore_Accepted_OneTickBefore_NotYetValid()
    {
        using var issuer = new TestIssuer();
        using var phone = issuer.Phone(notBefore: Now);
        var code = phone.Show(Now, 0);
        var verifier = issuer.Verifier();
        Assert.Equal(VerificationReason.CredentialNotYetValid, verifier.CheckSignaturesAndValidity(code, Now - Tick));
        Assert.Equal(VerificationReason.Ok, verifier.CheckSignaturesAndValidity(code, Now));
        Assert.Equal(VerificationReason.Ok, verifier.Verify(code.ToText(), Now).Reason);
    }

    [Fact]
    public void Verify_ExactlyMaxAgeOld_Accepted_OneTickOlder_Stale()
    {
        using var issuer = new TestIssuer();
        using var phone = issuer.Phone();
        var code = phone.Show(Now, 0);
        var verifier = issuer.Verifier();
        Assert.Equal(VerificationReason.Ok, verifier.CheckSignaturesAndValidity(code, Now.AddSeconds(60)));
        Assert.Equal(VerificationReason.Stale, verifier.CheckSignaturesAndValidity(code, Now.AddSeconds(60) + Tick));
    }

    [Fact]
    public void Verify_ExactlyMaxClockAhead_Accepted_OneTickFurther_Future()
    {
        using var issuer = new TestIssuer();
        using var phone = issuer.Phone();
        var code = phone.Show(Now, 0);
        var verifier = issuer.Verifier();
        Assert.Equal(VerificationReason.Ok, verifier.CheckSignaturesAndValidity(code, Now.AddSeconds(-30)));
        Assert.Equal(VerificationReason.Future, verifier.CheckSignaturesAndValidity(code, Now.AddSeconds(-30) - Tick));
    }

    [Fact]
    public void Verify_AcceptedCode_ReplayedUntilItWouldBeStale()
    {
        using var issuer = new TestIssuer();
        using var phone = issuer.Phone();
        var replays = new ReplayCache();
        var verifier = issuer.Verifier(replays);
        var code = phone.Show(Now, 0);
        Assert.Equal(VerificationReason.Ok, verifier.Verify(code.ToText(), Now).Reason);
        Assert.Equal(VerificationReason.Replayed, verifier.Verify(code.ToText(), Now.AddSeconds(60)).Reason);

        // The cache holds the code exactly as long as it could pass freshness, and no longer.
        Assert.True(replays.Contains(code.ReplayKey, Now.AddSeconds(60)));
        Assert.False(replays.Contains(code.ReplayKey, Now.AddSeconds(60) + Tick));
        Assert.Equal(Now.AddSeconds(60) + Tick, ReplayCache.HoldUntil(code, TimeSpan.FromSeconds(60)));
    }

    [Fact]
    public void Verify_WithoutReplayCache_SameCodeAcceptedTwice()
    {
        using var issuer = new TestIssuer();
        using var phone = issuer.Phone();
        var verifier = new RideCodeVerifier(issuer.Trust, time: new FixedClock(Now));
        var code = phone.Show(Now, 0).ToText();
        Assert.True(verifier.Verify(code).Accepted);
        Assert.True(verifier.Verify(code).Accepted);
    }

    [Fact]
    public void Verify_UsesTheInjectedClock()
    {
        using var issuer = new TestIssuer();
        using var phone = issuer.Phone();
        var clock = new FixedClock(Now);
        var verifier = new RideCodeVerifier(issuer.Trust, time: clock);
        var code = phone.Show(Now, 0).ToText();
        Assert.Equal(VerificationReason.Ok, verifier.Verify(code).Reason);
        clock.Now = Now.AddMinutes(5);
        Assert.Equal(VerificationReason.Stale, verifier.Verify(code).Reason);
    }

    [Fact]
    public void Verify_DenyListCheckOff_DeniedAccountAccepted()
    {
        using var issuer = new TestIssuer();
        using var phone = issuer.Phone("blocked");
        var store = new TrustStore(issuer.Root.PublicKey, issuer.KeySet, new DenyList(2, Now, ["blocked"], []));
        var clearing = new RideCodeVerifier(store, new VerifierOptions { CheckDenyList = false }, new FixedClock(Now));
        var gate = new RideCodeVerifier(store, time: new FixedClock(Now));
        var code = phone.Show(Now, 0).ToText();
        Assert.Equal(VerificationReason.Ok, clearing.Verify(code).Reason);
        Assert.Equal(VerificationReason.Denied, gate.Verify(code).Reason);
    }

    [Fact]
    public void Verify_FaultInsideVerification_RefusedAsMalformedAndCounted()
    {
        using var issuer = new TestIssuer();
        using var phone = issuer.Phone();

        // An absurd maximum age overflows the replay expiry: the one fault a test can provoke from outside.
        var verifier = issuer.Verifier(options: new VerifierOptions { MaxAge = TimeSpan.MaxValue });
        var result = verifier.Verify(phone.Show(Now, 0).ToText());

        Assert.Equal(VerificationReason.Malformed, result.Reason);
        Assert.Null(result.Code);
        Assert.Equal(1, verifier.UnexpectedErrors);
    }

    [Fact]
    public void Verify_IssuerKeyAtValidUntil_UnknownKey_OneTickBefore_Accepted()
    {
        using var issuer = new TestIssuer();
        using var phone = issuer.Phone();
        var code = phone.Show(Now, 0);
        var keySet = new KeySet(2, Now, [new IssuerKey(issuer.KeyId, issuer.Issuer.PublicKey, KeyStatus.Retired, Now.AddDays(-30), Now.AddSeconds(10))]);
        var verifier = new RideCodeVerifier(new TrustStore(issuer.Root.PublicKey, keySet), time: new FixedClock(Now));
        Assert.Equal(VerificationReason.Ok, verifier.CheckSignaturesAndValidity(code, Now.AddSeconds(10) - Tick));
        Assert.Equal(VerificationReason.UnknownKey, verifier.CheckSignaturesAndValidity(code, Now.AddSeconds(10)));
    }
}
