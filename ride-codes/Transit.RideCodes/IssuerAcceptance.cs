using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Transit.RideCodes;

/// <summary>
/// One issuer an operator's gates accept: its id, the root key its key sets must verify under, and the window of
/// tap times in which its codes pass.
/// </summary>
/// <param name="IssuerId">The id its key set declares and its codes name.</param>
/// <param name="RootKey">The issuer's root public key (its algorithm is the issuer's).</param>
/// <param name="ValidFrom">First instant a tap of its codes is accepted.</param>
/// <param name="ValidTo">Instant from which its codes are refused again (exclusive); null: open-ended.</param>
public sealed record AcceptedIssuer(string IssuerId, PublicKey RootKey, DateTimeOffset ValidFrom, DateTimeOffset? ValidTo)
{
    /// <summary>The issuer's algorithm.</summary>
    public SignatureAlgorithm Algorithm => RootKey.Algorithm;

    /// <summary>
    /// Opens the issuer's key set under the root this acceptance names (never under a root the key set or the
    /// transport brings), requires it to declare this issuer, then its deny list under that key set.
    /// </summary>
    /// <exception cref="TrustDocumentException">Another root signed it, it declares another issuer, or a document does not verify.</exception>
    public TrustStore OpenChain(SignedDocument keySet, SignedDocument? denyList)
    {
        ArgumentNullException.ThrowIfNull(keySet);
        KeySet opened;
        try
        {
            opened = KeySet.Open(keySet, RootKey);
        }
        catch (TrustDocumentException ex)
        {
            throw new TrustDocumentException($"issuer '{IssuerId}': its key set does not verify under the root key the acceptance names: {ex.Message}", ex);
        }

        if (!string.Equals(opened.Issuer, IssuerId, StringComparison.Ordinal))
        {
            throw new TrustDocumentException($"issuer '{IssuerId}': the key set is issuer '{opened.IssuerId}'s");
        }

        try
        {
            return new TrustStore(RootKey, opened, denyList is null ? null : DenyList.Open(denyList, RootKey, opened));
        }
        catch (TrustDocumentException ex)
        {
            throw new TrustDocumentException($"issuer '{IssuerId}': deny list: {ex.Message}", ex);
        }
    }
}

/// <summary>
/// An operator's acceptance list as its gates receive it: which other issuers' codes they honour and when, versioned
/// and signed by clearing's online key, which the operator's key set certifies for this type. Immutable.
/// </summary>
public sealed class IssuerAcceptance
{
    /// <summary>The signed-document type of acceptance lists.</summary>
    public const string DocumentType = "transit-issuer-acceptance";

    /// <summary>Creates an acceptance list.</summary>
    /// <exception cref="TrustDocumentException">A bad operator or issuer id, an issuer given twice, or an empty window.</exception>
    public IssuerAcceptance(long version, string operatorId, DateTimeOffset issuedAt, IEnumerable<AcceptedIssuer> issuers)
    {
        if (version < 1)
        {
            throw new TrustDocumentException($"issuer acceptance: version {version} must be at least 1");
        }

        if (string.IsNullOrWhiteSpace(operatorId))
        {
            throw new TrustDocumentException("issuer acceptance: operator id missing");
        }

        ArgumentNullException.ThrowIfNull(issuers);
        Version = version;
        OperatorId = operatorId;
        IssuedAt = issuedAt;
        Issuers = [.. issuers.OrderBy(i => i.IssuerId, StringComparer.Ordinal)];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var issuer in Issuers)
        {
            if (!IssuerIds.IsValid(issuer.IssuerId) || issuer.IssuerId == IssuerIds.Home)
            {
                throw new TrustDocumentException($"issuer acceptance: '{issuer.IssuerId}' is not another issuer's id ({IssuerIds.Rule}, not '{IssuerIds.Home}')");
            }

            if (!seen.Add(issuer.IssuerId))
            {
                throw new TrustDocumentException($"issuer acceptance: issuer '{issuer.IssuerId}' is given twice");
            }

            if (issuer.ValidTo <= issuer.ValidFrom)
            {
                throw new TrustDocumentException($"issuer acceptance: issuer '{issuer.IssuerId}' ends ({issuer.ValidTo:O}) no later than it starts ({issuer.ValidFrom:O})");
            }
        }
    }

    /// <summary>Monotonic per operator; a gate never goes back to a lower one.</summary>
    public long Version { get; }

    /// <summary>The operator whose gates this list is for.</summary>
    public string OperatorId { get; }

    /// <summary>When clearing signed it.</summary>
    public DateTimeOffset IssuedAt { get; }

    /// <summary>The accepted issuers, ordered by id.</summary>
    public ImmutableArray<AcceptedIssuer> Issuers { get; }

    /// <summary>The payload JSON that is signed.</summary>
    public byte[] ToPayload() => JsonSerializer.SerializeToUtf8Bytes(
        new AcceptancePayload(
            Version,
            OperatorId,
            IssuedAt,
            [.. Issuers.Select(i => new AcceptancePayload.Entry(
                i.IssuerId, i.Algorithm.ToName(), Convert.ToBase64String(i.RootKey.Compressed), i.ValidFrom, i.ValidTo))]),
        TrustJsonContext.Default.AcceptancePayload);

    /// <summary>
    /// Verifies the document under the operator's trust (its root, or an online key <paramref name="keySet"/>
    /// certifies for acceptance lists), checks it is for <paramref name="operatorId"/>, and reads it.
    /// </summary>
    /// <exception cref="TrustDocumentException">Wrong signer or type, another operator's, or bad content.</exception>
    public static IssuerAcceptance Open(SignedDocument document, PublicKey rootKey, KeySet keySet, string operatorId)
    {
        ArgumentNullException.ThrowIfNull(document);
        var dto = document.ReadPayload(DocumentType, rootKey, keySet, TrustJsonContext.Default.AcceptancePayload, "issuer acceptance payload")
            ?? throw new TrustDocumentException("issuer acceptance payload is empty");
        if (dto.Operator != operatorId)
        {
            throw new TrustDocumentException($"issuer acceptance is for operator '{dto.Operator}', not '{operatorId}'");
        }

        var issuers = (dto.Issuers ?? []).Select(e =>
        {
            if (!SignatureAlgorithmNames.TryParse(e.Alg, out var algorithm))
            {
                throw new TrustDocumentException($"issuer acceptance: issuer '{e.Id}': unknown algorithm '{e.Alg}'");
            }

            byte[] key;
            try
            {
                key = Convert.FromBase64String(e.RootPublicKey ?? "");
            }
            catch (FormatException ex)
            {
                throw new TrustDocumentException($"issuer acceptance: issuer '{e.Id}': root public key is not base64", ex);
            }

            return PublicKey.TryImport(algorithm, key, out var root)
                ? new AcceptedIssuer(e.Id ?? "", root, e.ValidFrom, e.ValidTo)
                : throw new TrustDocumentException($"issuer acceptance: issuer '{e.Id}': not a compressed {algorithm.ToName()} public key");
        });
        return new IssuerAcceptance(dto.Version, dto.Operator ?? "", dto.IssuedAt, issuers.ToList());
    }

    /// <summary>
    /// False when this is the held version (nothing to do); true when it is newer.
    /// </summary>
    /// <exception cref="TrustDocumentException">Older than the held version, or the same version with other content.</exception>
    public bool SupersedesHeld(IssuerAcceptance? held)
    {
        if (held is null || Version > held.Version)
        {
            return true;
        }

        if (Version < held.Version)
        {
            throw new TrustDocumentException($"issuer acceptance version {Version} is older than the held version {held.Version}");
        }

        return ToPayload().AsSpan().SequenceEqual(held.ToPayload())
            ? false
            : throw new TrustDocumentException($"issuer acceptance version {Version} differs from the held one of the same version");
    }

    internal sealed record AcceptancePayload(
        [property: JsonPropertyName("version")] long Version,
        [property: JsonPropertyName("operator")] string? Operator,
        [property: JsonPropertyName("issuedAt")] DateTimeOffset IssuedAt,
        [property: JsonPropertyName("issuers")] List<AcceptancePayload.Entry>? Issuers)
    {
        internal sealed record Entry(
            [property: JsonPropertyName("id")] string? Id,
            [property: JsonPropertyName("alg")] string? Alg,
            [property: JsonPropertyName("rootPublicKey")] string? RootPublicKey,
            [property: JsonPropertyName("validFrom")] DateTimeOffset ValidFrom,
            [property: JsonPropertyName("validTo")] DateTimeOffset? ValidTo);
    }
}
