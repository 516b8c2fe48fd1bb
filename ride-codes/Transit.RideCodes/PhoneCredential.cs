using System.Text.Json;
using System.Text.Json.Serialization;

namespace Transit.RideCodes;

/// <summary>
/// What a rider's phone holds: its issuer-signed credential and the private key the credential names. The phone
/// signs a fresh code every few seconds with <see cref="Show"/>.
/// </summary>
public sealed class PhoneCredential : IDisposable
{
    /// <summary>The <c>type</c> of a phone credential file.</summary>
    public const string FileType = "transit-phone-credential";

    /// <summary>Pairs a credential with the phone key it names.</summary>
    /// <exception cref="ArgumentException">The key is not the credential's phone key.</exception>
    public PhoneCredential(Credential credential, SigningKey phoneKey)
    {
        ArgumentNullException.ThrowIfNull(credential);
        ArgumentNullException.ThrowIfNull(phoneKey);
        if (!phoneKey.PublicKey.Compressed.AsSpan().SequenceEqual(credential.PhonePublicKey))
        {
            throw new ArgumentException("the phone key is not the one the credential names", nameof(phoneKey));
        }

        Credential = credential;
        PhoneKey = phoneKey;
    }

    /// <summary>The issuer-signed credential.</summary>
    public Credential Credential { get; }

    /// <summary>The phone's private key.</summary>
    public SigningKey PhoneKey { get; }

    /// <summary>
    /// Issues a credential for a new phone key in one step, as the ride-code platform does when a phone
    /// registers or refreshes. With <paramref name="issuer"/> the credential names its issuer (<c>TR2</c> codes).
    /// </summary>
    public static PhoneCredential Issue(
        SigningKey issuerKey, ushort keyId, string account, string category, DateTimeOffset notBefore, TimeSpan validity, string? issuer = null)
    {
        ArgumentNullException.ThrowIfNull(issuerKey);
        var phoneKey = SigningKey.Generate(issuerKey.Algorithm);
        try
        {
            return new PhoneCredential(
                Credential.Issue(issuerKey, keyId, account, category, notBefore, validity, phoneKey.PublicKey, issuer: issuer), phoneKey);
        }
        catch
        {
            // Mutation testing: frees the native key now; without it the key waits for finalisation, which no test observes.
            phoneKey.Dispose();
            throw;
        }
    }

    /// <summary>Signs a code for display at <paramref name="at"/>.</summary>
    public RideCode Show(DateTimeOffset at, byte counter) => RideCode.Sign(Credential, PhoneKey, at, counter);

    /// <summary>The credential file as JSON (it holds a private key: keep it like one).</summary>
    public string ToJson()
    {
        var algorithm = PhoneKey.Algorithm;
        return JsonSerializer.Serialize(
            new CredentialFile(
                FileType,
                algorithm.ToName(),
                Convert.ToBase64String(Credential.ToBytes()),
                Convert.ToBase64String(PhoneKey.ExportPrivateScalar()),
                Credential.Issuer),
            PhoneJsonContext.Default.CredentialFile);
    }

    /// <summary>Reads a credential file.</summary>
    /// <exception cref="TrustDocumentException">Not a credential file, or its parts do not belong together.</exception>
    public static PhoneCredential Parse(string json)
    {
        CredentialFile? file;
        try
        {
            file = JsonSerializer.Deserialize(json, PhoneJsonContext.Default.CredentialFile);
        }
        catch (JsonException ex)
        {
            throw new TrustDocumentException($"not a credential file: {ex.Message}", ex);
        }

        if (file is null || file.Type != FileType || file.Credential is null || file.PhoneKey is null)
        {
            throw new TrustDocumentException($"not a credential file (expected type {FileType} with credential and phoneKey)");
        }

        if (!SignatureAlgorithmNames.TryParse(file.Alg, out var algorithm))
        {
            throw new TrustDocumentException($"credential file: unknown algorithm '{file.Alg}'");
        }

        try
        {
            // The file names the issuer of a version-2 credential; the bytes alone do not say which version they are.
            if (file.Issuer is not null && !IssuerIds.IsValid(file.Issuer))
            {
                throw new TrustDocumentException($"credential file: issuer '{file.Issuer}' is not an issuer id ({IssuerIds.Rule})");
            }

            if (!Credential.TryParse(Convert.FromBase64String(file.Credential), file.Issuer is null ? 1 : 2, out var credential)
                || !string.Equals(credential.Issuer, file.Issuer, StringComparison.Ordinal))
            {
                throw new TrustDocumentException("credential file: the credential bytes do not parse");
            }

            var key = SigningKey.FromPrivateScalar(algorithm, Convert.FromBase64String(file.PhoneKey));
            try
            {
                return new PhoneCredential(credential, key);
            }
            catch (ArgumentException ex)
            {
                // Mutation testing: frees the native key now; without it the key waits for finalisation, which no test observes.
                key.Dispose();
                throw new TrustDocumentException($"credential file: {ex.Message}", ex);
            }
        }
        catch (FormatException ex)
        {
            throw new TrustDocumentException($"credential file: {ex.Message}", ex);
        }
    }

    /// <inheritdoc />
    public void Dispose() => PhoneKey.Dispose();

    internal sealed record CredentialFile(
        [property: JsonPropertyName("type")] string? Type,
        [property: JsonPropertyName("alg")] string? Alg,
        [property: JsonPropertyName("credential")] string? Credential,
        [property: JsonPropertyName("phoneKey")] string? PhoneKey,
        [property: JsonPropertyName("issuer"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Issuer = null);
}

[JsonSerializable(typeof(PhoneCredential.CredentialFile))]
internal sealed partial class PhoneJsonContext : JsonSerializerContext;
