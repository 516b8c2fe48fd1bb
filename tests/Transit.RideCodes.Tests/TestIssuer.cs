using Transit.RideCodes;

namespace Transit.RideCodes.Tests;

/// <summary>A root key, an issuer key and a trust store at a fixed time, for building real codes in tests.</summary>
internal sealed class TestIssuer : IDisposable
{
    public static readonly DateTimeOffset Now = new(2026, 11, 21, 8, 30, 0, TimeSpan.Zero);

    public TestIssuer(SignatureAlgorithm algorithm = SignatureAlgorithm.P256, ushort keyId = 1, string? issuerId = null)
    {
        Algorithm = algorithm;
        KeyId = keyId;
        IssuerId = issuerId;
        Root = SigningKey.Generate(algorithm);
        Issuer = SigningKey.Generate(algorithm);
        KeySet = new KeySet(1, Now.AddDays(-1), [new IssuerKey(keyId, Issuer.PublicKey, KeyStatus.Active, Now.AddDays(-30), null)], issuer: issuerId);
        Trust = new TrustStore(Root.PublicKey, KeySet, new DenyList(1, Now.AddDays(-1), [], []));
    }

    public SignatureAlgorithm Algorithm { get; }

    public ushort KeyId { get; }

    /// <summary>The issuer id its key set declares and its credentials name; null for the home issuer of TR1 codes.</summary>
    public string? IssuerId { get; }

    public SigningKey Root { get; }

    public SigningKey Issuer { get; }

    public KeySet KeySet { get; }

    public TrustStore Trust { get; }

    public PhoneCredential Phone(string account = "rider-1", string category = "0", DateTimeOffset? notBefore = null, double hours = 24) =>
        PhoneCredential.Issue(Issuer, KeyId, account, category, notBefore ?? Now.AddHours(-1), TimeSpan.FromHours(hours), IssuerId);

    public RideCodeVerifier Verifier(ReplayCache? replays = null, VerifierOptions? options = null) =>
        new(Trust, options, new FixedClock(Now), replays ?? new ReplayCache());

    public void Dispose()
    {
        Root.Dispose();
        Issuer.Dispose();
    }
}

internal sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}

internal static class TestSize
{
    /// <summary>True when TRANSIT_TEST_SIZE=full: soak and fuzz tests run at their documented full size.</summary>
    public static bool Full => Transit.Testing.TestSize.Full;

    public static int Pick(int ci, int full) => Full ? full : ci;
}
