using System.Text.Json.Nodes;
using Transit.RideCodes;

namespace Transit.RideCodes.Tests;

/// <summary>
/// Key files and phone credential files are read from disks an operator or a rider hands over: every field that is
/// missing, of the wrong kind or the wrong length is refused with a message naming it.
/// </summary>
public sealed class KeyFileTests
{
    private static readonly DateTimeOffset Now = TestIssuer.Now;

    [Theory]
    [InlineData(SignatureAlgorithm.P256, "p256")]
    [InlineData(SignatureAlgorithm.Sm2, "sm2")]
    public void FormatPublicKey_WritesTypeAlgorithmAndBase64Point(SignatureAlgorithm algorithm, string name)
    {
        using var key = SigningKey.Generate(algorithm);

        var json = JsonNode.Parse(KeyFiles.FormatPublicKey(key.PublicKey))!.AsObject();

        Assert.Equal("transit-public-key", (string?)json["type"]);
        Assert.Equal(name, (string?)json["alg"]);
        Assert.Equal(Convert.ToBase64String(key.PublicKey.Compressed), (string?)json["publicKey"]);
        Assert.Equal(3, json.Count);
        var back = KeyFiles.ParsePublicKey(json.ToJsonString());
        Assert.Equal(algorithm, back.Algorithm);
        Assert.Equal(key.PublicKey.Compressed, back.Compressed);
    }

    [Theory]
    [InlineData(SignatureAlgorithm.P256, "p256")]
    [InlineData(SignatureAlgorithm.Sm2, "sm2")]
    public void FormatPrivateKey_WritesEveryFieldAndReadsBack(SignatureAlgorithm algorithm, string name)
    {
        using var key = SigningKey.Generate(algorithm);

        var json = JsonNode.Parse(KeyFiles.FormatPrivateKey(key, 7))!.AsObject();

        Assert.Equal("transit-private-key", (string?)json["type"]);
        Assert.Equal(name, (string?)json["alg"]);
        Assert.Equal(7, (int?)json["kid"]);
        Assert.Equal(Convert.ToBase64String(key.ExportPrivateScalar()), (string?)json["privateKey"]);
        Assert.Equal(Convert.ToBase64String(key.PublicKey.Compressed), (string?)json["publicKey"]);
        using var back = KeyFiles.ParsePrivateKey(json.ToJsonString(), out var keyId);
        Assert.Equal((ushort?)7, keyId);
        Assert.Equal(algorithm, back.Algorithm);
        Assert.Equal(key.PublicKey.Compressed, back.PublicKey.Compressed);
    }

    [Fact]
    public void FormatKeys_Null_ThrowsNamingTheKey()
    {
        Assert.Equal("key", Assert.Throws<ArgumentNullException>(() => KeyFiles.FormatPublicKey(null!)).ParamName);
        Assert.Equal("key", Assert.Throws<ArgumentNullException>(() => KeyFiles.FormatPrivateKey(null!)).ParamName);
    }

    [Fact]
    public void ParsePrivateKey_WithoutPublicHalfOrKid_ReadsTheScalar()
    {
        using var key = SigningKey.Generate(SignatureAlgorithm.P256);
        var json = $$"""{"type":"transit-private-key","alg":"p256","privateKey":"{{Convert.ToBase64String(key.ExportPrivateScalar())}}"}""";

        using var back = KeyFiles.ParsePrivateKey(json, out var keyId);

        Assert.Null(keyId);
        Assert.Equal(key.PublicKey.Compressed, back.PublicKey.Compressed);
    }

    public static TheoryData<string, string> BadPublicKeyFiles()
    {
        // Templates, not keys: xUnit names each case by its data, which must be the same at discovery and run.
        return new()
        {
            { "null", "public key file is empty" },
            { "[1]", "not a public key file: " },
            { "{", "not a public key file: " },
            { """{"type":"transit-private-key","alg":"p256","publicKey":"{point}"}""", "expected a transit-public-key file, got 'transit-private-key'" },
            { """{"alg":"p256","publicKey":"{point}"}""", "expected a transit-public-key file, got ''" },
            { """{"type":"transit-public-key","alg":"rsa","publicKey":"{point}"}""", "unknown algorithm 'rsa' (expected p256 or sm2)" },
            { """{"type":"transit-public-key","publicKey":"{point}"}""", "unknown algorithm '' (expected p256 or sm2)" },
            { """{"type":"transit-public-key","alg":"p256"}""", "publicKey is missing" },
            { """{"type":"transit-public-key","alg":"p256","publicKey":"not base64!"}""", "publicKey is not base64" },
            { """{"type":"transit-public-key","alg":"p256","publicKey":"{point-short}"}""", "publicKey is not a compressed p256 point" },
            { """{"type":"transit-public-key","alg":"p256","publicKey":"{offCurve}"}""", "publicKey is not a compressed p256 point" },
        };
    }

    [Theory]
    [MemberData(nameof(BadPublicKeyFiles))]
    public void ParsePublicKey_Bad_RefusedNamingTheField(string template, string message)
    {
        using var key = SigningKey.Generate(SignatureAlgorithm.P256);
        var point = Convert.ToBase64String(key.PublicKey.Compressed);
        var json = Fill(template, ("point", point), ("point-short", point[..^4]), ("offCurve", Convert.ToBase64String([2, .. Enumerable.Repeat((byte)0xFF, 32)])));

        var ex = Assert.Throws<TrustDocumentException>(() => KeyFiles.ParsePublicKey(json));

        Assert.StartsWith(message, ex.Message, StringComparison.Ordinal);
        if (message.EndsWith(": ", StringComparison.Ordinal) || message.EndsWith("base64", StringComparison.Ordinal))
        {
            Assert.NotNull(ex.InnerException);
        }
        else
        {
            Assert.Equal(message, ex.Message);
        }
    }

    public static TheoryData<string, string> BadPrivateKeyFiles()
    {
        // Templates, not keys: xUnit names each case by its data, which must be the same at discovery and run.
        return new()
        {
            { "null", "private key file is empty" },
            { "\"text\"", "not a private key file: " },
            { """{"type":"transit-public-key","alg":"p256","privateKey":"{scalar}"}""", "expected a transit-private-key file, got 'transit-public-key'" },
            { """{"type":"transit-private-key","alg":"ed25519","privateKey":"{scalar}"}""", "unknown algorithm 'ed25519' (expected p256 or sm2)" },
            { """{"type":"transit-private-key","alg":"p256"}""", "privateKey is missing" },
            { """{"type":"transit-private-key","alg":"p256","privateKey":"%%%"}""", "privateKey is not base64" },
            { """{"type":"transit-private-key","alg":"p256","privateKey":"{zero31}"}""", "privateKey: a private key scalar is 32 bytes" },
            { """{"type":"transit-private-key","alg":"p256","privateKey":"{zero32}"}""", "privateKey: not a valid P-256 private key" },
            { """{"type":"transit-private-key","alg":"sm2","privateKey":"{zero32}"}""", "privateKey: not a valid SM2 private key" },
            { """{"type":"transit-private-key","alg":"p256","privateKey":"{scalar}","publicKey":"{otherPoint}"}""", "privateKey and publicKey do not belong together" },
            { """{"type":"transit-private-key","alg":"sm2","privateKey":"{scalar}","publicKey":"{point}"}""", "privateKey and publicKey do not belong together" },
        };
    }

    [Theory]
    [MemberData(nameof(BadPrivateKeyFiles))]
    public void ParsePrivateKey_Bad_RefusedNamingTheField(string template, string message)
    {
        using var key = SigningKey.Generate(SignatureAlgorithm.P256);
        using var other = SigningKey.Generate(SignatureAlgorithm.P256);
        var json = Fill(
            template,
            ("scalar", Convert.ToBase64String(key.ExportPrivateScalar())),
            ("point", Convert.ToBase64String(key.PublicKey.Compressed)),
            ("otherPoint", Convert.ToBase64String(other.PublicKey.Compressed)),
            ("zero31", Convert.ToBase64String(new byte[31])),
            ("zero32", Convert.ToBase64String(new byte[32])));

        var ex = Assert.Throws<TrustDocumentException>(() => KeyFiles.ParsePrivateKey(json, out _));

        Assert.StartsWith(message, ex.Message, StringComparison.Ordinal);
        if (!message.EndsWith(": ", StringComparison.Ordinal))
        {
            Assert.Equal(message, ex.Message);
        }

        if (message.StartsWith("privateKey:", StringComparison.Ordinal) || message.EndsWith("base64", StringComparison.Ordinal))
        {
            Assert.IsType<FormatException>(ex.InnerException);
        }
    }

    [Theory]
    [InlineData("p256", SignatureAlgorithm.P256)]
    [InlineData("P256", SignatureAlgorithm.P256)]
    [InlineData(" p-256 ", SignatureAlgorithm.P256)]
    [InlineData("ES256", SignatureAlgorithm.P256)]
    [InlineData("sm2", SignatureAlgorithm.Sm2)]
    [InlineData(" SM2\n", SignatureAlgorithm.Sm2)]
    public void SignatureAlgorithmTryParse_KnownNames(string name, SignatureAlgorithm expected)
    {
        Assert.True(SignatureAlgorithmNames.TryParse(name, out var algorithm));
        Assert.Equal(expected, algorithm);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("p384")]
    [InlineData("sm3")]
    [InlineData("p 256")]
    public void SignatureAlgorithmTryParse_UnknownNames_FalseAndDefault(string? name)
    {
        Assert.False(SignatureAlgorithmNames.TryParse(name, out var algorithm));
        Assert.Equal(default, algorithm);
    }

    [Fact]
    public void SignatureAlgorithmNames_RoundTripAndUnknownValueThrows()
    {
        Assert.Equal("p256", SignatureAlgorithm.P256.ToName());
        Assert.Equal("sm2", SignatureAlgorithm.Sm2.ToName());
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => ((SignatureAlgorithm)3).ToName());
        Assert.Equal("algorithm", ex.ParamName);
        Assert.StartsWith("unknown signature algorithm", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void VerifierLibrary_NamesTheLibraryOfEachAlgorithm()
    {
        Assert.Equal(".NET ECDsa (OpenSSL)", SignatureAlgorithm.P256.VerifierLibrary());
        var sm2 = OpenSslSm2.IsAvailable ? $"{OpenSslSm2.Description} EVP" : $"BouncyCastle.Cryptography ({OpenSslSm2.Description})";
        Assert.Equal(sm2, SignatureAlgorithm.Sm2.VerifierLibrary());
        Assert.Equal("algorithm", Assert.Throws<ArgumentOutOfRangeException>(() => ((SignatureAlgorithm)0).VerifierLibrary()).ParamName);
    }

    [Theory]
    [InlineData(SignatureAlgorithm.P256, "p256")]
    [InlineData(SignatureAlgorithm.Sm2, "sm2")]
    public void PhoneCredentialToJson_WritesEveryFieldAndParsesBack(SignatureAlgorithm algorithm, string name)
    {
        using var issuer = new TestIssuer(algorithm);
        using var phone = issuer.Phone();

        var json = JsonNode.Parse(phone.ToJson())!.AsObject();

        Assert.Equal("transit-phone-credential", (string?)json["type"]);
        Assert.Equal(name, (string?)json["alg"]);
        Assert.Equal(Convert.ToBase64String(phone.Credential.ToBytes()), (string?)json["credential"]);
        Assert.Equal(Convert.ToBase64String(phone.PhoneKey.ExportPrivateScalar()), (string?)json["phoneKey"]);
        using var back = PhoneCredential.Parse(json.ToJsonString());
        Assert.Equal(phone.Credential.ToBytes(), back.Credential.ToBytes());
        Assert.Equal(VerificationReason.Ok, issuer.Verifier().Verify(back.Show(Now, 0).ToText()).Reason);
    }

    public static TheoryData<string, string> BadCredentialFiles()
    {
        // Templates, not keys: xUnit names each case by its data, which must be the same at discovery and run.
        var shape = "not a credential file (expected type transit-phone-credential with credential and phoneKey)";
        return new()
        {
            { "null", shape },
            { "{]", "not a credential file: " },
            { """{"type":"transit-phone","alg":"p256","credential":"{credential}","phoneKey":"{phoneKey}"}""", shape },
            { """{"type":"transit-phone-credential","alg":"p256","phoneKey":"{phoneKey}"}""", shape },
            { """{"type":"transit-phone-credential","alg":"p256","credential":"{credential}"}""", shape },
            { """{"type":"transit-phone-credential","alg":"rsa","credential":"{credential}","phoneKey":"{phoneKey}"}""", "credential file: unknown algorithm 'rsa'" },
            { """{"type":"transit-phone-credential","alg":"p256","credential":"{credential-short}","phoneKey":"{phoneKey}"}""", "credential file: the credential bytes do not parse" },
            { """{"type":"transit-phone-credential","alg":"p256","credential":"!!","phoneKey":"{phoneKey}"}""", "credential file: The input is not a valid Base-64 string" },
            { """{"type":"transit-phone-credential","alg":"p256","credential":"{credential}","phoneKey":"{phoneKey-short}"}""", "credential file: a private key scalar is 32 bytes" },
            { """{"type":"transit-phone-credential","alg":"p256","credential":"{credential}","phoneKey":"{otherKey}"}""", "credential file: the phone key is not the one the credential names (Parameter 'phoneKey')" },
            { """{"type":"transit-phone-credential","alg":"sm2","credential":"{credential}","phoneKey":"{phoneKey}"}""", "credential file: the phone key is not the one the credential names (Parameter 'phoneKey')" },
        };
    }

    [Theory]
    [MemberData(nameof(BadCredentialFiles))]
    public void PhoneCredentialParse_Bad_RefusedSayingWhat(string template, string message)
    {
        using var issuer = new TestIssuer();
        using var phone = issuer.Phone();
        using var otherPhone = issuer.Phone();
        var credential = Convert.ToBase64String(phone.Credential.ToBytes());
        var phoneKey = Convert.ToBase64String(phone.PhoneKey.ExportPrivateScalar());
        var json = Fill(
            template,
            ("credential", credential),
            ("credential-short", credential[..^8]),
            ("phoneKey", phoneKey),
            ("phoneKey-short", phoneKey[..8]),
            ("otherKey", Convert.ToBase64String(otherPhone.PhoneKey.ExportPrivateScalar())));

        var ex = Assert.Throws<TrustDocumentException>(() => PhoneCredential.Parse(json));

        Assert.StartsWith(message, ex.Message, StringComparison.Ordinal);
        if (message.StartsWith("credential file: ", StringComparison.Ordinal) && !message.Contains("algorithm", StringComparison.Ordinal)
            && !message.Contains("do not parse", StringComparison.Ordinal))
        {
            Assert.NotNull(ex.InnerException);
        }
    }

    [Fact]
    public void PhoneCredential_KeyNotTheCredentials_ThrowsNamingThePhoneKey()
    {
        using var issuer = new TestIssuer();
        using var phone = issuer.Phone();
        using var other = SigningKey.Generate(SignatureAlgorithm.P256);

        var ex = Assert.Throws<ArgumentException>(() => new PhoneCredential(phone.Credential, other));

        Assert.Equal("phoneKey", ex.ParamName);
        Assert.StartsWith("the phone key is not the one the credential names", ex.Message, StringComparison.Ordinal);
        Assert.Equal("credential", Assert.Throws<ArgumentNullException>(() => new PhoneCredential(null!, other)).ParamName);
        Assert.Equal("phoneKey", Assert.Throws<ArgumentNullException>(() => new PhoneCredential(phone.Credential, null!)).ParamName);
    }

    [Fact]
    public void PhoneCredentialIssue_BuildsAVerifiableCredentialWithTheGivenFields()
    {
        using var issuer = new TestIssuer(SignatureAlgorithm.Sm2, keyId: 9);

        using var phone = PhoneCredential.Issue(issuer.Issuer, 9, "acct", "ch", Now.AddHours(-1), TimeSpan.FromHours(2));

        Assert.Equal(SignatureAlgorithm.Sm2, phone.PhoneKey.Algorithm);
        Assert.Equal(phone.PhoneKey.PublicKey.Compressed, phone.Credential.PhonePublicKey);
        Assert.Equal((9, "acct", "ch", Now.AddHours(-1), Now.AddHours(1)),
            (phone.Credential.KeyId, phone.Credential.Account, phone.Credential.Category, phone.Credential.NotBefore, phone.Credential.NotAfter));
        var code = phone.Show(Now, 5);
        Assert.Equal(5, code.Counter);
        Assert.Equal(Now, code.Timestamp);
        Assert.Equal(VerificationReason.Ok, issuer.Verifier().Verify(code.ToText()).Reason);
        Assert.Equal("issuerKey", Assert.Throws<ArgumentNullException>(
            () => PhoneCredential.Issue(null!, 1, "a", "", Now, TimeSpan.FromHours(1))).ParamName);
        Assert.Equal("account", Assert.Throws<ArgumentException>(
            () => PhoneCredential.Issue(issuer.Issuer, 1, "", "", Now, TimeSpan.FromHours(1))).ParamName);
    }

    [Fact]
    public void PhoneCredentialDispose_DisposesThePhoneKey()
    {
        using var issuer = new TestIssuer();
        var phone = issuer.Phone();

        phone.Dispose();

        Assert.Throws<ObjectDisposedException>(() => phone.PhoneKey.Sign([1, 2, 3]));
    }

    private static string Fill(string template, params (string Name, string Value)[] values) =>
        values.Aggregate(template, (json, v) => json.Replace("{" + v.Name + "}", v.Value, StringComparison.Ordinal));
}
