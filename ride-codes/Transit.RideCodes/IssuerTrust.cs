using System.Collections.Frozen;

namespace Transit.RideCodes;

/// <summary>
/// The trust of every issuer a verifier accepts: one <see cref="TrustStore"/> (root key, key set, deny list) per
/// issuer id, each an independent chain. A code is checked only under the chain of the issuer it names; a version-1
/// code, which names none, under the home issuer's. Immutable set of stores; each store updates on its own.
/// </summary>
public sealed class IssuerTrust
{
    private readonly FrozenDictionary<string, TrustStore> _byId;
    private readonly FrozenDictionary<string, (DateTimeOffset From, DateTimeOffset Until)> _windows;

    /// <summary>
    /// Creates the set. Each store serves the issuer its key set declares (<see cref="KeySet.IssuerId"/>), which must
    /// be unique. Version-1 codes go to <paramref name="home"/>, or when it is null to the store whose key set names
    /// no issuer (there may be one at most); with neither, they are <c>unknown-issuer</c>.
    /// </summary>
    /// <param name="issuers">Every issuer's chain.</param>
    /// <param name="home">The issuer of version-1 codes.</param>
    /// <param name="windows">
    /// Per issuer id, the tap times its codes pass in (from inclusive, until exclusive; an operator's acceptance list);
    /// an issuer without one passes at any time.
    /// </param>
    /// <exception cref="ArgumentException">Two stores serve one issuer, or <paramref name="home"/> is not among them.</exception>
    public IssuerTrust(IEnumerable<TrustStore> issuers, string? home = null, IReadOnlyDictionary<string, (DateTimeOffset From, DateTimeOffset Until)>? windows = null)
    {
        ArgumentNullException.ThrowIfNull(issuers);
        var byId = new Dictionary<string, TrustStore>(StringComparer.Ordinal);
        TrustStore? unnamed = null;
        foreach (var store in issuers)
        {
            if (!byId.TryAdd(store.IssuerId, store))
            {
                throw new ArgumentException($"issuer '{store.IssuerId}' is given twice", nameof(issuers));
            }

            if (store.KeySet.Issuer is null)
            {
                unnamed = store;
            }
        }

        _byId = byId.ToFrozenDictionary(StringComparer.Ordinal);
        _windows = (windows ?? new Dictionary<string, (DateTimeOffset, DateTimeOffset)>()).ToFrozenDictionary(StringComparer.Ordinal);
        if (home is not null)
        {
            Home = _byId.TryGetValue(home, out var homeStore)
                ? homeStore
                : throw new ArgumentException($"the home issuer '{home}' is not among the issuers ({string.Join(", ", _byId.Keys.Order(StringComparer.Ordinal))})", nameof(home));
        }
        else
        {
            Home = unnamed;
        }
    }

    /// <summary>The store that version-1 codes are checked under; null when none is.</summary>
    public TrustStore? Home { get; }

    /// <summary>Every issuer's store.</summary>
    public IEnumerable<TrustStore> Issuers => _byId.Values;

    /// <summary>Issuer ids, in ordinal order.</summary>
    public IReadOnlyList<string> IssuerIds => [.. _byId.Keys.Order(StringComparer.Ordinal)];

    /// <summary>The tap times <paramref name="issuerId"/>'s codes pass in: its acceptance window, or all time.</summary>
    public (DateTimeOffset From, DateTimeOffset Until) AcceptedDuring(string issuerId) =>
        _windows.TryGetValue(issuerId, out var window) ? window : (DateTimeOffset.MinValue, DateTimeOffset.MaxValue);

    /// <summary>
    /// The chain for a credential naming <paramref name="issuer"/> (null: a version-1 credential, the home issuer's).
    /// One hash lookup, whatever the number of issuers.
    /// </summary>
    public bool TryGet(string? issuer, out TrustStore store)
    {
        if (issuer is null)
        {
            store = Home!;
            return Home is not null;
        }

        return _byId.TryGetValue(issuer, out store!);
    }
}
