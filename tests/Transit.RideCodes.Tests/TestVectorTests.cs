using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Transit.RideCodes;

namespace Transit.RideCodes.Tests;

/// <summary>The vectors of docs/ride-code.md, from fixed keys, checked byte for byte.</summary>
public class TestVectorTests
{
    private static readonly JsonElement Vectors =
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "data", "ride-codes", "vectors.json"))).RootElement;

    public static TheoryData<string> Algorithms => new() { "p256", "sm2" };

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void FixedKeys_DeriveThePublishedPublicKeys(string algorithm)
    {
        var v = Vectors.GetProperty(algorithm);
        using var issuer = SigningKey.FromPrivateScalar(Algorithm(algorithm), Scalar(algorithm, "issuer"));
        using var phone = SigningKey.FromPrivateScalar(Algorithm(algorithm), Scalar(algorithm, "phone"));
        Assert.Equal(Hex(v, "issuerScalar"), Scalar(algorithm, "issuer"));
        Assert.Equal(Hex(v, "issuerPublicKey"), issuer.PublicKey.Compressed);
        Assert.Equal(Hex(v, "phonePublicKey"), phone.PublicKey.Compressed);
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void Issue_FixedInputs_BodyMatchesVectorByteForByte(string algorithm)
    {
        var v = Vectors.GetProperty(algorithm);
        using var issuer = SigningKey.FromPrivateScalar(Algorithm(algorithm), Scalar(algorithm, "issuer"));
        using var phone = SigningKey.FromPrivateScalar(Algorithm(algorithm), Scalar(algorithm, "phone"));
        var credential = Credential.Issue(
            issuer,
            (ushort)Vectors.GetProperty("keyId").GetInt32(),
            Vectors.GetProperty("account").GetString()!,
            Vectors.GetProperty("category").GetString()!,
            DateTimeOffset.Parse(Vectors.GetProperty("notBefore").GetString()!, System.Globalization.CultureInfo.InvariantCulture),
            TimeSpan.FromMinutes(Vectors.GetProperty("validityMinutes").GetInt32()),
            phone.PublicKey,
            Convert.ToUInt64(Vectors.GetProperty("credentialId").GetString(), 16));

        Assert.Equal(Hex(v, "body"), credential.Body);
        Assert.Equal([.. "TR1C"u8, .. Hex(v, "body")], credential.IssuerSignedMessage);
        Assert.True(issuer.PublicKey.Verify(credential.IssuerSignedMessage, credential.IssuerSignature));
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void Parse_VectorText_GivesVectorBytesAndFields(string algorithm)
    {
        var v = Vectors.GetProperty(algorithm);
        var text = v.GetProperty("text").GetString()!;
        Assert.Equal(v.GetProperty("length").GetInt32(), text.Length);
        Assert.Equal(ParseStatus.Ok, RideCodeFormat.TryParse(text, out var code));

        Assert.Equal(Hex(v, "codeBytes"), code.ToBytes());
        Assert.Equal(text, code.ToText());
        Assert.Equal(Hex(v, "body"), code.Credential.Body);
        Assert.Equal(Hex(v, "issuerSignature"), code.Credential.IssuerSignature);
        Assert.Equal(Hex(v, "phoneSignature"), code.Signature);
        Assert.Equal(7, code.Credential.KeyId);
        Assert.Equal(0x0123456789ABCDEFUL, code.Credential.CredentialId);
        Assert.Equal("rider-0042", code.Credential.Account);
        Assert.Equal("1", code.Credential.Category);
        Assert.Equal(new DateTimeOffset(2026, 11, 21, 6, 0, 0, TimeSpan.Zero), code.Credential.NotBefore);
        Assert.Equal(new DateTimeOffset(2026, 11, 22, 6, 0, 0, TimeSpan.Zero), code.Credential.NotAfter);
        Assert.Equal(new DateTimeOffset(2026, 11, 21, 8, 30, 0, TimeSpan.Zero), code.Timestamp);
        Assert.Equal(3, code.Counter);

        // Phone-signed message: "TR1D", body, issuer signature, 3-byte offset (9000 = 0x002328), counter.
        var expectedMessage = Encoding.ASCII.GetBytes("TR1D").Concat(Hex(v, "body")).Concat(Hex(v, "issuerSignature")).Concat(new byte[] { 0x00, 0x23, 0x28, 0x03 });
        Assert.Equal(expectedMessage, code.PhoneSignedMessage);
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void Verify_VectorAtItsTime_AcceptedWithFixedKeys(string algorithm)
    {
        var v = Vectors.GetProperty(algorithm);
        using var root = SigningKey.Generate(Algorithm(algorithm));
        var issuerKey = PublicKey.Import(Algorithm(algorithm), Hex(v, "issuerPublicKey"));
        var at = new DateTimeOffset(2026, 11, 21, 8, 30, 10, TimeSpan.Zero);
        var keySet = new KeySet(1, at, [new IssuerKey(7, issuerKey, KeyStatus.Active, at.AddDays(-1), null)]);
        var verifier = new RideCodeVerifier(new TrustStore(root.PublicKey, keySet), time: new FixedClock(at));

        Assert.Equal(VerificationReason.Ok, verifier.Verify(v.GetProperty("text").GetString()).Reason);
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void Version2Vector_BodyIsIssuerIdThenVersion1Body_AndVerifiesAsItsIssuer(string algorithm)
    {
        var tr2 = Vectors.GetProperty("tr2");
        var v = tr2.GetProperty(algorithm);
        var issuerId = tr2.GetProperty("issuer").GetString()!;
        using var issuer = SigningKey.FromPrivateScalar(Algorithm(algorithm), Scalar(algorithm, "issuer"));
        using var phone = SigningKey.FromPrivateScalar(Algorithm(algorithm), Scalar(algorithm, "phone"));
        var credential = Credential.Issue(
            issuer, 7, "rider-0042", "1", new DateTimeOffset(2026, 11, 21, 6, 0, 0, TimeSpan.Zero), TimeSpan.FromMinutes(1440),
            phone.PublicKey, 0x0123456789ABCDEFUL, issuerId);

        // Length byte, the id in ASCII, then exactly the version-1 body; signed under "TR2C".
        Assert.Equal([(byte)issuerId.Length, .. Encoding.ASCII.GetBytes(issuerId), .. Hex(Vectors.GetProperty(algorithm), "body")], credential.Body);
        Assert.Equal(Hex(v, "body"), credential.Body);
        Assert.Equal([.. "TR2C"u8, .. Hex(v, "body")], credential.IssuerSignedMessage);

        var text = v.GetProperty("text").GetString()!;
        Assert.Equal(v.GetProperty("length").GetInt32(), text.Length);
        Assert.StartsWith("TR2:", text, StringComparison.Ordinal);
        Assert.Equal(ParseStatus.Ok, RideCodeFormat.TryParse(text, out var code));
        Assert.Equal(Hex(v, "codeBytes"), code.ToBytes());
        Assert.Equal(issuerId, code.Credential.Issuer);
        Assert.Equal("rider-0042", code.Credential.Account);
        Assert.Equal(7, code.Credential.KeyId);
        Assert.Equal([.. "TR2D"u8, .. Hex(v, "body"), .. Hex(v, "issuerSignature"), 0x00, 0x23, 0x28, 0x03], code.PhoneSignedMessage);

        using var root = SigningKey.Generate(Algorithm(algorithm));
        var at = new DateTimeOffset(2026, 11, 21, 8, 30, 10, TimeSpan.Zero);
        var keySet = new KeySet(1, at, [new IssuerKey(7, issuer.PublicKey, KeyStatus.Active, at.AddDays(-1), null)], issuer: issuerId);
        var result = new RideCodeVerifier(new TrustStore(root.PublicKey, keySet), time: new FixedClock(at)).Verify(text);
        Assert.Equal((VerificationReason.Ok, issuerId), (result.Reason, result.Issuer));

        // The version-1 vector, same keys, verifies under the same trust only as its home issuer would: it names no
        // issuer, and this verifier's only chain is "nw", which is therefore also its home.
        var v1 = new RideCodeVerifier(new TrustStore(root.PublicKey, keySet), time: new FixedClock(at)).Verify(Vectors.GetProperty(algorithm).GetProperty("text").GetString());
        Assert.Equal((VerificationReason.Ok, issuerId), (v1.Reason, v1.Issuer));
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void Version1Vector_UnderSeveralIssuers_VerifiesAsHomeIssuer(string algorithm)
    {
        var v = Vectors.GetProperty(algorithm);
        using var root = SigningKey.Generate(Algorithm(algorithm));
        using var otherRoot = SigningKey.Generate(Algorithm(algorithm));
        var issuerKey = PublicKey.Import(Algorithm(algorithm), Hex(v, "issuerPublicKey"));
        var at = new DateTimeOffset(2026, 11, 21, 8, 30, 10, TimeSpan.Zero);
        var home = new TrustStore(root.PublicKey, new KeySet(1, at, [new IssuerKey(7, issuerKey, KeyStatus.Active, at.AddDays(-1), null)]));
        var external = new TrustStore(otherRoot.PublicKey, new KeySet(1, at, [new IssuerKey(7, issuerKey, KeyStatus.Active, at.AddDays(-1), null)], issuer: "nw"));
        var verifier = new RideCodeVerifier(new IssuerTrust([external, home]), time: new FixedClock(at));

        var result = verifier.Verify(v.GetProperty("text").GetString());

        Assert.Equal((VerificationReason.Ok, IssuerIds.Home), (result.Reason, result.Issuer));
    }

    private static SignatureAlgorithm Algorithm(string name) => SignatureAlgorithmNames.TryParse(name, out var a) ? a : throw new ArgumentException(name);

    private static byte[] Scalar(string algorithm, string role) => SHA256.HashData(Encoding.ASCII.GetBytes($"transit test vector {algorithm} {role}"));

    private static byte[] Hex(JsonElement v, string name) => Convert.FromHexString(v.GetProperty(name).GetString()!);
}
