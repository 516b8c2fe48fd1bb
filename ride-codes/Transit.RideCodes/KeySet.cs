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
/// A key of the clearing server, certified by the root in the key set to sign some document types (deny lists, their
/// deltas, device configurations, issuer acceptance lists) so that the root key can stay offline. Never certified for key sets.
/// </summary>
/// <param name="KeyId">The id a document signed by the key names (<c>onlineKey</c> of the envelope); its own id space.</param>
/// <param name="PublicKey">The public key.</param>
/// <param name="Status">Active (signs new documents), retired (what it signed still verifies) or revoked (refused).</param>
/// <param name="Documents">The document types it may sign.</param>
public sealed record OnlineKey(ushort KeyId, PublicKey PublicKey, KeyStatus Status, IReadOnlyList<string> Documents)
{
    /// <summary>The signed-document type of device configurations.</summary>
    public const string DeviceConfigType = "transit-device-config";

    /// <summary>The document types an online key may be certified for: what a server signs every day.</summary>
    public static readonly IReadOnlyList<string> DelegableDocuments = [DenyList.SnapshotType, DenyList.DeltaType, DeviceConfigType, IssuerAcceptance.DocumentType];

    /// <summary>The key's algorithm.</summary>
    public SignatureAlgorithm Algorithm => PublicKey.Algorithm;

    /// <summary>True when documents of <paramref name="documentType"/> that the key signed are accepted.</summary>
    public bool Signs(string documentType) => Status != KeyStatus.Revoked && Documents.Contains(documentType);
}

/// <summary>
/// The issuer public keys a gate trusts, and the online keys certified to sign everyday documents, versioned and
/// signed by the operator's root key. Immutable.
/// </summary>
public sealed class KeySet
{
    /// <summary>The signed-document type of key sets.</summary>
    public const string DocumentType = "transit-keyset";

    private readonly Dictionary<ushort, IssuerKey> _byId;

    /// <summary>Creates a key set; key ids must be unique, and online keys certified for delegable document types only.</summary>
    /// <param name="version">Monotonic version.</param>
    /// <param name="issuedAt">When the root signed it.</param>
    /// <param name="keys">The issuer keys.</param>
    /// <param name="onlineKeys">The online keys certified by the root.</param>
    /// <param name="issuer">The issuer id the key set belongs to; null for the operator's own issuer of before issuers existed.</param>
    public KeySet(long version, DateTimeOffset issuedAt, IEnumerable<IssuerKey> keys, IEnumerable<OnlineKey>? onlineKeys = null, string? issuer = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(version);
        ArgumentNullException.ThrowIfNull(keys);
        if (issuer is not null && !IssuerIds.IsValid(issuer))
        {
            throw new TrustDocumentException($"key set issuer '{issuer}' is not an issuer id ({IssuerIds.Rule})");
        }

        Issuer = issuer;
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

        OnlineKeys = [.. (onlineKeys ?? []).OrderBy(k => k.KeyId)];
        var onlineIds = new HashSet<ushort>();
        foreach (var key in OnlineKeys)
        {
            if (!onlineIds.Add(key.KeyId))
            {
                throw new TrustDocumentException($"online key id {key.KeyId} appears twice in the key set");
            }

            if (key.Documents.Count == 0 || key.Documents.Any(d => !OnlineKey.DelegableDocuments.Contains(d)))
            {
                throw new TrustDocumentException(
                    $"online key {key.KeyId}: may sign only {string.Join(", ", OnlineKey.DelegableDocuments)} (got {(key.Documents.Count == 0 ? "none" : string.Join(", ", key.Documents))}); key sets are signed by the root key only");
            }
        }
    }

    /// <summary>
    /// The issuer this key set's keys sign for, as its root declares it; null in key sets from before issuers, which
    /// belong to the operator's own issuer (<see cref="IssuerIds.Home"/>).
    /// </summary>
    public string? Issuer { get; }

    /// <summary>The issuer id codes under this key set verify as: <see cref="Issuer"/>, or <see cref="IssuerIds.Home"/>.</summary>
    public string IssuerId => Issuer ?? IssuerIds.Home;

    /// <summary>Monotonic version; a verifier never goes back to a lower one.</summary>
    public long Version { get; }

    /// <summary>When the root key signed this version.</summary>
    public DateTimeOffset IssuedAt { get; }

    /// <summary>The keys, ordered by id.</summary>
    public ImmutableArray<IssuerKey> Keys { get; }

    /// <summary>The online keys, ordered by id; empty in key sets from before online keys (the root signed everything).</summary>
    public ImmutableArray<OnlineKey> OnlineKeys { get; }

    /// <summary>Looks a key up by id.</summary>
    public bool TryGetKey(ushort keyId, out IssuerKey key) => _byId.TryGetValue(keyId, out key!);

    /// <summary>The online key <paramref name="keyId"/>, when this key set lets it sign documents of <paramref name="documentType"/>.</summary>
    /// <exception cref="TrustDocumentException">Not in the key set, revoked, or not certified for the type.</exception>
    public OnlineKey CertifiedOnlineKey(ushort keyId, string documentType)
    {
        var key = OnlineKeys.FirstOrDefault(k => k.KeyId == keyId)
            ?? throw new TrustDocumentException($"the {documentType} document is signed by online key {keyId}, which key set version {Version} does not certify");
        if (key.Status == KeyStatus.Revoked)
        {
            throw new TrustDocumentException($"the {documentType} document is signed by online key {keyId}, which key set version {Version} revokes");
        }

        return key.Signs(documentType)
            ? key
            : throw new TrustDocumentException($"online key {keyId} is certified for {string.Join(", ", key.Documents)}, not for {documentType} documents");
    }

    /// <summary>The newest active online key certified for <paramref name="documentType"/>; null when there is none.</summary>
    public OnlineKey? ActiveOnlineKey(string documentType) =>
        OnlineKeys.LastOrDefault(k => k.Status == KeyStatus.Active && k.Signs(documentType));

    /// <summary>The newest active key, which issues new credentials; null when none is active.</summary>
    public IssuerKey? CurrentIssuingKey(DateTimeOffset at) =>
        Keys.Where(k => k.IssuesAt(at)).MaxBy(k => k.ValidFrom);

    /// <summary>The next version, with different keys (and online keys, when given) and time.</summary>
    // checked() restates the project's CheckForOverflowUnderflow; its remove-checked mutant is equivalent.
    public KeySet With(IEnumerable<IssuerKey> keys, DateTimeOffset issuedAt, IEnumerable<OnlineKey>? onlineKeys = null) =>
        new(checked(Version + 1), issuedAt, keys, onlineKeys ?? OnlineKeys, Issuer);

    /// <summary>Signs the key set with the root key.</summary>
    public SignedDocument Sign(SigningKey rootKey) => SignedDocument.Create(DocumentType, ToPayload(), rootKey);

    /// <summary>Verifies the document against the root key and reads the key set.</summary>
    /// <exception cref="TrustDocumentException">The signature does not verify or the content is invalid.</exception>
    public static KeySet Open(SignedDocument document, PublicKey rootKey)
    {
        ArgumentNullException.ThrowIfNull(document);
        var dto = document.ReadPayload(DocumentType, rootKey, keySet: null, TrustJsonContext.Default.KeySetPayload, "key set payload");
        if (dto?.Keys is null || dto.Version <= 0)
        {
            throw new TrustDocumentException("key set payload: version or keys missing");
        }

        var keys = dto.Keys.Select(k => new IssuerKey(
            k.Kid, ReadPublicKey($"key {k.Kid}", k.Alg, k.PublicKey), ReadStatus($"key {k.Kid}", k.Status), k.ValidFrom, k.ValidUntil));
        var onlineKeys = (dto.OnlineKeys ?? []).Select(k => new OnlineKey(
            k.Kid, ReadPublicKey($"online key {k.Kid}", k.Alg, k.PublicKey), ReadStatus($"online key {k.Kid}", k.Status), k.Documents ?? []));
        return new KeySet(dto.Version, dto.IssuedAt, keys.ToList(), onlineKeys.ToList(), dto.Issuer);
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
                k.ValidUntil))],
            // Absent rather than empty, so that a key set without online keys reads as it did before they existed.
            OnlineKeys.IsEmpty ? null : [.. OnlineKeys.Select(k => new KeySetPayload.Online(
                k.KeyId,
                k.Algorithm.ToName(),
                Convert.ToBase64String(k.PublicKey.Compressed),
                k.Status.ToString().ToLowerInvariant(),
                [.. k.Documents]))],
            Issuer),
        TrustJsonContext.Default.KeySetPayload);

    private static PublicKey ReadPublicKey(string what, string? alg, string? base64)
    {
        if (!SignatureAlgorithmNames.TryParse(alg, out var algorithm))
        {
            throw new TrustDocumentException($"{what}: unknown algorithm '{alg}'");
        }

        byte[] keyBytes;
        try
        {
            keyBytes = Convert.FromBase64String(base64 ?? "");
        }
        catch (FormatException ex)
        {
            throw new TrustDocumentException($"{what}: public key is not base64", ex);
        }

        return PublicKey.TryImport(algorithm, keyBytes, out var publicKey)
            ? publicKey
            : throw new TrustDocumentException($"{what}: not a compressed {algorithm.ToName()} public key");
    }

    private static KeyStatus ReadStatus(string what, string? status) =>
        Enum.TryParse<KeyStatus>(status, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed)
            ? parsed
            : throw new TrustDocumentException($"{what}: unknown status '{status}'");

    internal sealed record KeySetPayload(
        [property: JsonPropertyName("version")] long Version,
        [property: JsonPropertyName("issuedAt")] DateTimeOffset IssuedAt,
        [property: JsonPropertyName("keys")] List<KeySetPayload.Key>? Keys,
        [property: JsonPropertyName("onlineKeys"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] List<KeySetPayload.Online>? OnlineKeys = null,
        [property: JsonPropertyName("issuer"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Issuer = null)
    {
        internal sealed record Online(
            [property: JsonPropertyName("kid")] ushort Kid,
            [property: JsonPropertyName("alg")] string? Alg,
            [property: JsonPropertyName("publicKey")] string? PublicKey,
            [property: JsonPropertyName("status")] string? Status,
            [property: JsonPropertyName("documents")] List<string>? Documents);

        internal sealed record Key(
            [property: JsonPropertyName("kid")] ushort Kid,
            [property: JsonPropertyName("alg")] string? Alg,
            [property: JsonPropertyName("publicKey")] string? PublicKey,
            [property: JsonPropertyName("status")] string? Status,
            [property: JsonPropertyName("validFrom")] DateTimeOffset ValidFrom,
            [property: JsonPropertyName("validUntil")] DateTimeOffset? ValidUntil);
    }
}
