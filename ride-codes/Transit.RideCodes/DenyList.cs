using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Transit.RideCodes;

/// <summary>
/// Blocked account tokens and credential ids, versioned and signed by the root key or an online key certified for
/// it. Travels as a full snapshot or as deltas, each delta moving exactly one version forward. Immutable.
/// </summary>
public sealed class DenyList
{
    /// <summary>The signed-document type of full deny lists.</summary>
    public const string SnapshotType = "transit-denylist";

    /// <summary>The signed-document type of deny-list deltas.</summary>
    public const string DeltaType = "transit-denylist-delta";

    /// <summary>An empty deny list at version 0, the state before any is installed.</summary>
    public static readonly DenyList Empty = new(0, DateTimeOffset.UnixEpoch, [], []);

    /// <summary>Creates a deny list.</summary>
    public DenyList(long version, DateTimeOffset issuedAt, IEnumerable<string> accounts, IEnumerable<ulong> credentials)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(version);
        Version = version;
        IssuedAt = issuedAt;
        Accounts = [.. accounts];
        Credentials = [.. credentials];
    }

    /// <summary>Monotonic version.</summary>
    public long Version { get; }

    /// <summary>When the root key signed this version.</summary>
    public DateTimeOffset IssuedAt { get; }

    /// <summary>Denied account tokens.</summary>
    public ImmutableHashSet<string> Accounts { get; }

    /// <summary>Denied credential ids.</summary>
    public ImmutableHashSet<ulong> Credentials { get; }

    /// <summary>Number of entries.</summary>
    public int Count => Accounts.Count + Credentials.Count;

    /// <summary>True when the credential's account or the credential itself is denied.</summary>
    public bool IsDenied(Credential credential)
    {
        ArgumentNullException.ThrowIfNull(credential);
        return Accounts.Contains(credential.Account) || Credentials.Contains(credential.CredentialId);
    }

    /// <summary>Applies a delta, which must start at this version.</summary>
    /// <exception cref="TrustDocumentException">The delta is out of order.</exception>
    public DenyList Apply(DenyListDelta delta)
    {
        ArgumentNullException.ThrowIfNull(delta);
        if (delta.BaseVersion != Version)
        {
            throw new TrustDocumentException(
                delta.Version <= Version
                    ? $"deny-list delta {delta.BaseVersion}→{delta.Version} is older than the held version {Version}"
                    : $"deny-list delta {delta.BaseVersion}→{delta.Version} does not follow the held version {Version}; versions {Version + 1}..{delta.BaseVersion} are missing");
        }

        return new DenyList(
            delta.Version,
            delta.IssuedAt,
            Accounts.Except(delta.RemoveAccounts).Union(delta.AddAccounts),
            Credentials.Except(delta.RemoveCredentials).Union(delta.AddCredentials));
    }

    /// <summary>
    /// The delta that turns <paramref name="previous"/> into this list, which must be exactly one version later.
    /// </summary>
    public DenyListDelta DeltaFrom(DenyList previous)
    {
        ArgumentNullException.ThrowIfNull(previous);
        if (Version != previous.Version + 1)
        {
            throw new ArgumentException($"version {Version} does not follow {previous.Version}", nameof(previous));
        }

        return new DenyListDelta(
            previous.Version,
            IssuedAt,
            Accounts.Except(previous.Accounts),
            previous.Accounts.Except(Accounts),
            Credentials.Except(previous.Credentials),
            previous.Credentials.Except(Credentials));
    }

    /// <summary>Signs the full list with the root key.</summary>
    public SignedDocument Sign(SigningKey rootKey) => SignedDocument.Create(SnapshotType, ToPayload(), rootKey);

    /// <summary>The payload JSON that is signed.</summary>
    public byte[] ToPayload() => JsonSerializer.SerializeToUtf8Bytes(
        new SnapshotPayload(
            Version,
            IssuedAt,
            [.. Accounts.Order(StringComparer.Ordinal)],
            [.. Credentials.Order().Select(Credential.FormatCredentialId)]),
        TrustJsonContext.Default.SnapshotPayload);

    /// <summary>
    /// Verifies a full deny list against the root key, or an online key of <paramref name="keySet"/> certified for deny
    /// lists, and reads it.
    /// </summary>
    /// <exception cref="TrustDocumentException">The signature does not verify or the content is invalid.</exception>
    public static DenyList Open(SignedDocument document, PublicKey rootKey, KeySet? keySet = null)
    {
        ArgumentNullException.ThrowIfNull(document);
        var dto = document.ReadPayload(SnapshotType, rootKey, keySet, TrustJsonContext.Default.SnapshotPayload, "deny list payload")
            ?? throw new TrustDocumentException("deny list payload is empty");
        if (dto.Version < 1)
        {
            throw new TrustDocumentException("deny list payload: version must be at least 1");
        }

        return new DenyList(dto.Version, dto.IssuedAt, CheckAccounts(dto.Accounts), ParseCredentialIds(dto.Credentials));
    }

    internal static IEnumerable<string> CheckAccounts(List<string>? accounts)
    {
        foreach (var account in accounts ?? [])
        {
            if (string.IsNullOrEmpty(account))
            {
                throw new TrustDocumentException("deny list: empty account token");
            }

            yield return account;
        }
    }

    internal static IEnumerable<ulong> ParseCredentialIds(List<string>? ids)
    {
        foreach (var text in ids ?? [])
        {
            yield return Credential.TryParseCredentialId(text, out var id)
                ? id
                : throw new TrustDocumentException($"deny list: '{text}' is not a credential id (16 hex digits)");
        }
    }

    internal sealed record SnapshotPayload(
        [property: JsonPropertyName("version")] long Version,
        [property: JsonPropertyName("issuedAt")] DateTimeOffset IssuedAt,
        [property: JsonPropertyName("accounts")] List<string>? Accounts,
        [property: JsonPropertyName("credentials")] List<string>? Credentials);
}

/// <summary>The change from one deny-list version to the next. Immutable.</summary>
public sealed class DenyListDelta
{
    /// <summary>Creates a delta from <paramref name="baseVersion"/> to the version after it.</summary>
    public DenyListDelta(
        long baseVersion,
        DateTimeOffset issuedAt,
        IEnumerable<string> addAccounts,
        IEnumerable<string> removeAccounts,
        IEnumerable<ulong> addCredentials,
        IEnumerable<ulong> removeCredentials)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(baseVersion);
        BaseVersion = baseVersion;
        IssuedAt = issuedAt;
        AddAccounts = [.. addAccounts];
        RemoveAccounts = [.. removeAccounts];
        AddCredentials = [.. addCredentials];
        RemoveCredentials = [.. removeCredentials];
    }

    /// <summary>The version this delta applies to.</summary>
    public long BaseVersion { get; }

    /// <summary>The version it produces.</summary>
    // checked() restates the project's CheckForOverflowUnderflow; its remove-checked mutant is equivalent.
    public long Version => checked(BaseVersion + 1);

    /// <summary>When the root key signed it.</summary>
    public DateTimeOffset IssuedAt { get; }

    /// <summary>Accounts newly denied.</summary>
    public ImmutableArray<string> AddAccounts { get; }

    /// <summary>Accounts no longer denied.</summary>
    public ImmutableArray<string> RemoveAccounts { get; }

    /// <summary>Credentials newly denied.</summary>
    public ImmutableArray<ulong> AddCredentials { get; }

    /// <summary>Credentials no longer denied.</summary>
    public ImmutableArray<ulong> RemoveCredentials { get; }

    /// <summary>Signs the delta with the root key.</summary>
    public SignedDocument Sign(SigningKey rootKey) => SignedDocument.Create(DenyList.DeltaType, ToPayload(), rootKey);

    /// <summary>The payload JSON that is signed.</summary>
    public byte[] ToPayload() => JsonSerializer.SerializeToUtf8Bytes(
        new DeltaPayload(
            BaseVersion,
            Version,
            IssuedAt,
            [.. AddAccounts],
            [.. RemoveAccounts],
            [.. AddCredentials.Select(Credential.FormatCredentialId)],
            [.. RemoveCredentials.Select(Credential.FormatCredentialId)]),
        TrustJsonContext.Default.DeltaPayload);

    /// <summary>
    /// Verifies a delta against the root key, or an online key of <paramref name="keySet"/> certified for deltas, and
    /// reads it.
    /// </summary>
    /// <exception cref="TrustDocumentException">The signature does not verify or the content is invalid.</exception>
    public static DenyListDelta Open(SignedDocument document, PublicKey rootKey, KeySet? keySet = null)
    {
        ArgumentNullException.ThrowIfNull(document);
        var dto = document.ReadPayload(DenyList.DeltaType, rootKey, keySet, TrustJsonContext.Default.DeltaPayload, "deny-list delta payload")
            ?? throw new TrustDocumentException("deny-list delta payload is empty");
        if (dto.BaseVersion < 0 || dto.Version != dto.BaseVersion + 1)
        {
            throw new TrustDocumentException($"deny-list delta: version {dto.Version} must follow base version {dto.BaseVersion} by one");
        }

        return new DenyListDelta(
            dto.BaseVersion,
            dto.IssuedAt,
            DenyList.CheckAccounts(dto.AddAccounts),
            DenyList.CheckAccounts(dto.RemoveAccounts),
            DenyList.ParseCredentialIds(dto.AddCredentials),
            DenyList.ParseCredentialIds(dto.RemoveCredentials));
    }

    internal sealed record DeltaPayload(
        [property: JsonPropertyName("baseVersion")] long BaseVersion,
        [property: JsonPropertyName("version")] long Version,
        [property: JsonPropertyName("issuedAt")] DateTimeOffset IssuedAt,
        [property: JsonPropertyName("addAccounts")] List<string>? AddAccounts,
        [property: JsonPropertyName("removeAccounts")] List<string>? RemoveAccounts,
        [property: JsonPropertyName("addCredentials")] List<string>? AddCredentials,
        [property: JsonPropertyName("removeCredentials")] List<string>? RemoveCredentials);
}

[JsonSourceGenerationOptions(WriteIndented = false, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(SignedDocument.Envelope))]
[JsonSerializable(typeof(KeySet.KeySetPayload))]
[JsonSerializable(typeof(DenyList.SnapshotPayload))]
[JsonSerializable(typeof(DenyListDelta.DeltaPayload))]
[JsonSerializable(typeof(IssuerAcceptance.AcceptancePayload))]
[JsonSerializable(typeof(RootPublicKeyFile))]
[JsonSerializable(typeof(PrivateKeyFile))]
internal sealed partial class TrustJsonContext : JsonSerializerContext;
