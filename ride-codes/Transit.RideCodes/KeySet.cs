using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Transit.RideCodes;

/// <summary>Lifecycle state of an issuer key.</summary>
public enum KeyStatus
{
    /// <summary>Issues new credentials and verifies.</summary>
    Active,

    /// <summary>Issues nothing new; credentials it signed keep verifying until the key's <c>validUntil</c>.</summary>
    Retired,

    /// <summary>Compromised or withdrawn: every code under it is refused as <c>revoked-key</c>.</summary>
    Revoked,
}

/// <summary>An issuer public key as published in a key set.</summary>
/// <param name="KeyId">The key id carried by credentials.</param>
/// <param name="PublicKey">The public key (its algorithm is the key's).</param>
/// <param name="Status">Active, retired or revoked.</param>
/// <param name="ValidFrom">When the key began (or begins) issuing credentials; keys may be published ahead of use.</param>
/// <param name="ValidUntil">Codes under the key verify until this instant (exclusive); null for open-ended.</param>
public sealed record IssuerKey(ushort KeyId, PublicKey PublicKey, KeyStatus Status, DateTimeOffset ValidFrom, DateTimeOffset? ValidUntil)
{
    /// <summary>The key's algorithm.</summary>
    public SignatureAlgorithm Algorithm => PublicKey.Algorithm;

    /// <summary>True when codes under the key still verify at <paramref name="at"/> (before <see cref="ValidUntil"/>).</summary>
    public bool VerifiesAt(DateTimeOffset at) => ValidUntil is null || at < ValidUntil;

    /// <summary>True when the key may issue credentials at <paramref name="at"/>.</summary>
    public bool IssuesAt(DateTimeOffset at) => Status == KeyStatus.Active && at >= ValidFrom && VerifiesAt(at);
}

/// <summary>
/// The issuer public keys a gate trusts, versioned and signed by the operator's root key. Immutable.
/// </summary>
public sealed class KeySet
{
    /// <summary>The signed-document type of key sets.</summary>
    public const string DocumentType = "transit-keyset";

    private readonly Dictionary<ushort, IssuerKey> _byId;

    /// <summary>Creates a key set; key ids must be unique.</summary>
    public KeySet(long version, DateTimeOffset issuedAt, IEnumerable<IssuerKey> keys)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(version);
        ArgumentNullException.ThrowIfNull(keys);
        Version = version;
        IssuedAt = issuedAt;
        Keys = [.. keys.OrderBy(k => k.KeyId)];
        _byId = new Dictionary<ushort, IssuerKey>(Keys.Length);
        foreach (var key in Keys)
        {
            if (!_byId.TryAdd(key.KeyId, key))
            {
                throw new TrustDocumentException($"key id {key.KeyId} appears twice in the key set");
            }
        }
    }

    /// <summary>Monotonic version; a verifier never goes back to a lower one.</summary>
    public long Version { get; }

    /// <summary>When the root key signed this version.</summary>
    public DateTimeOffset IssuedAt { get; }

    /// <summary>The keys, ordered by id.</summary>
    public ImmutableArray<IssuerKey> Keys { get; }

    /// <summary>Looks a key up by id.</summary>
    public bool TryGetKey(ushort keyId, out IssuerKey key) => _byId.TryGetValue(keyId, out key!);

    /// <summary>The newest active key, which issues new credentials; null when none is active.</summary>
    public IssuerKey? CurrentIssuingKey(DateTimeOffset at) =>
        Keys.Where(k => k.IssuesAt(at)).MaxBy(k => k.ValidFrom);

    /// <summary>A copy with a different version, time and keys.</summary>
    public KeySet With(IEnumerable<IssuerKey> keys, DateTimeOffset issuedAt) => new(checked(Version + 1), issuedAt, keys);

    /// <summary>Signs the key set with the root key.</summary>
    public SignedDocument Sign(SigningKey rootKey) => SignedDocument.Create(DocumentType, ToPayload(), rootKey);

    /// <summary>Verifies the document against the root key and reads the key set.</summary>
    /// <exception cref="TrustDocumentException">The signature does not verify or the content is invalid.</exception>
    public static KeySet Open(SignedDocument document, PublicKey rootKey)
    {
        ArgumentNullException.ThrowIfNull(document);
        var dto = document.ReadPayload(DocumentType, rootKey, TrustJsonContext.Default.KeySetPayload, "key set payload");
        if (dto?.Keys is null || dto.Version <= 0)
        {
            throw new TrustDocumentException("key set payload: version or keys missing");
        }

        var keys = new List<IssuerKey>();
        foreach (var k in dto.Keys)
        {
            if (!SignatureAlgorithmNames.TryParse(k.Alg, out var algorithm))
            {
                throw new TrustDocumentException($"key {k.Kid}: unknown algorithm '{k.Alg}'");
            }

            if (!Enum.TryParse<KeyStatus>(k.Status, ignoreCase: true, out var status) || !Enum.IsDefined(status))
            {
                throw new TrustDocumentException($"key {k.Kid}: unknown status '{k.Status}'");
            }

            byte[] keyBytes;
            try
            {
                keyBytes = Convert.FromBase64String(k.PublicKey ?? "");
            }
            catch (FormatException ex)
            {
                throw new TrustDocumentException($"key {k.Kid}: public key is not base64", ex);
            }

            if (!PublicKey.TryImport(algorithm, keyBytes, out var publicKey))
            {
                throw new TrustDocumentException($"key {k.Kid}: not a compressed {algorithm.ToName()} public key");
            }

            keys.Add(new IssuerKey(k.Kid, publicKey, status, k.ValidFrom, k.ValidUntil));
        }

        return new KeySet(dto.Version, dto.IssuedAt, keys);
    }

    /// <summary>The payload JSON that the root key signs.</summary>
    public byte[] ToPayload() => JsonSerializer.SerializeToUtf8Bytes(
        new KeySetPayload(
            Version,
            IssuedAt,
            [.. Keys.Select(k => new KeySetPayload.Key(
                k.KeyId,
                k.Algorithm.ToName(),
                Convert.ToBase64String(k.PublicKey.Compressed),
                k.Status.ToString().ToLowerInvariant(),
                k.ValidFrom,
                k.ValidUntil))]),
        TrustJsonContext.Default.KeySetPayload);

    internal sealed record KeySetPayload(
        [property: JsonPropertyName("version")] long Version,
        [property: JsonPropertyName("issuedAt")] DateTimeOffset IssuedAt,
        [property: JsonPropertyName("keys")] List<KeySetPayload.Key>? Keys)
    {
        internal sealed record Key(
            [property: JsonPropertyName("kid")] ushort Kid,
            [property: JsonPropertyName("alg")] string? Alg,
            [property: JsonPropertyName("publicKey")] string? PublicKey,
            [property: JsonPropertyName("status")] string? Status,
            [property: JsonPropertyName("validFrom")] DateTimeOffset ValidFrom,
            [property: JsonPropertyName("validUntil")] DateTimeOffset? ValidUntil);
    }
}
