using System.Text.Json;
using System.Text.Json.Serialization;

namespace Transit.RideCodes;

/// <summary>
/// The JSON forms of keys on disk: the root public key installed on every gate, and private keys held by the
/// operator and issuer.
/// </summary>
public static class KeyFiles
{
    /// <summary>The <c>type</c> of a public key file.</summary>
    public const string PublicKeyType = "transit-public-key";

    /// <summary>The <c>type</c> of a private key file.</summary>
    public const string PrivateKeyType = "transit-private-key";

    /// <summary>Writes a public key as JSON.</summary>
    public static string FormatPublicKey(PublicKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return JsonSerializer.Serialize(
            new RootPublicKeyFile(PublicKeyType, key.Algorithm.ToName(), Convert.ToBase64String(key.Compressed)),
            TrustJsonContext.Default.RootPublicKeyFile);
    }

    /// <summary>Reads a public key file.</summary>
    /// <exception cref="TrustDocumentException">The text is not a public key file; the message says why.</exception>
    public static PublicKey ParsePublicKey(string json)
    {
        var file = Read(json, TrustJsonContext.Default.RootPublicKeyFile, "public key file");
        if (file.Type != PublicKeyType)
        {
            throw new TrustDocumentException($"expected a {PublicKeyType} file, got '{file.Type}'");
        }

        var algorithm = ParseAlgorithm(file.Alg);
        return PublicKey.TryImport(algorithm, FromBase64(file.PublicKey, "publicKey"), out var key)
            ? key
            : throw new TrustDocumentException($"publicKey is not a compressed {algorithm.ToName()} point");
    }

    /// <summary>Writes a private key as JSON, with its key id when it is an issuer key.</summary>
    public static string FormatPrivateKey(SigningKey key, ushort? keyId = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        return JsonSerializer.Serialize(
            new PrivateKeyFile(
                PrivateKeyType,
                key.Algorithm.ToName(),
                keyId,
                Convert.ToBase64String(key.ExportPrivateScalar()),
                Convert.ToBase64String(key.PublicKey.Compressed)),
            TrustJsonContext.Default.PrivateKeyFile);
    }

    /// <summary>Reads a private key file.</summary>
    /// <exception cref="TrustDocumentException">The text is not a private key file, or its halves do not match.</exception>
    public static SigningKey ParsePrivateKey(string json, out ushort? keyId)
    {
        var file = Read(json, TrustJsonContext.Default.PrivateKeyFile, "private key file");
        if (file.Type != PrivateKeyType)
        {
            throw new TrustDocumentException($"expected a {PrivateKeyType} file, got '{file.Type}'");
        }

        SigningKey key;
        try
        {
            key = SigningKey.FromPrivateScalar(ParseAlgorithm(file.Alg), FromBase64(file.PrivateKey, "privateKey"));
        }
        catch (FormatException ex)
        {
            throw new TrustDocumentException($"privateKey: {ex.Message}", ex);
        }

        if (file.PublicKey is not null && file.PublicKey != Convert.ToBase64String(key.PublicKey.Compressed))
        {
            // Mutation testing: frees the native key now; without it the key waits for finalisation, which no test observes.
            key.Dispose();
            throw new TrustDocumentException("privateKey and publicKey do not belong together");
        }

        keyId = file.Kid;
        return key;
    }

    private static SignatureAlgorithm ParseAlgorithm(string? name) =>
        SignatureAlgorithmNames.TryParse(name, out var algorithm)
            ? algorithm
            : throw new TrustDocumentException($"unknown algorithm '{name}' (expected p256 or sm2)");

    private static byte[] FromBase64(string? text, string field)
    {
        try
        {
            return Convert.FromBase64String(text ?? throw new TrustDocumentException($"{field} is missing"));
        }
        catch (FormatException ex)
        {
            throw new TrustDocumentException($"{field} is not base64", ex);
        }
    }

    private static T Read<T>(string json, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, string what)
    {
        try
        {
            return JsonSerializer.Deserialize(json, type) ?? throw new TrustDocumentException($"{what} is empty");
        }
        catch (JsonException ex)
        {
            throw new TrustDocumentException($"not a {what}: {ex.Message}", ex);
        }
    }
}

internal sealed record RootPublicKeyFile(
    [property: JsonPropertyName("type")] string? Type,
    [property: JsonPropertyName("alg")] string? Alg,
    [property: JsonPropertyName("publicKey")] string? PublicKey);

internal sealed record PrivateKeyFile(
    [property: JsonPropertyName("type")] string? Type,
    [property: JsonPropertyName("alg")] string? Alg,
    [property: JsonPropertyName("kid")] ushort? Kid,
    [property: JsonPropertyName("privateKey")] string? PrivateKey,
    [property: JsonPropertyName("publicKey")] string? PublicKey);
