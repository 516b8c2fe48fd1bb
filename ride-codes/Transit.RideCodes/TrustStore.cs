namespace Transit.RideCodes;

/// <summary>
/// What a verifier trusts right now: the root public key, the current key set and deny list. Key sets are checked
/// against the root key, deny lists against the root or an online key the held key set certifies for them; updates
/// older than what is held are refused, leaving the last good state in place.
/// Thread-safe: readers see a consistent snapshot without locking.
/// </summary>
public sealed class TrustStore
{
    private readonly Lock _updateLock = new();
    private volatile KeySet _keySet;
    private volatile DenyList _denyList;

    /// <summary>Creates a store from documents already opened with <paramref name="rootKey"/>.</summary>
    public TrustStore(PublicKey rootKey, KeySet keySet, DenyList? denyList = null)
    {
        ArgumentNullException.ThrowIfNull(rootKey);
        ArgumentNullException.ThrowIfNull(keySet);
        RootKey = rootKey;
        _keySet = keySet;
        _denyList = denyList ?? DenyList.Empty;
    }

    /// <summary>The operator's root public key.</summary>
    public PublicKey RootKey { get; }

    /// <summary>The issuer whose chain this is, as its key set declares (<see cref="IssuerIds.Home"/> when it names none).</summary>
    public string IssuerId => _keySet.IssuerId;

    /// <summary>The current key set.</summary>
    public KeySet KeySet => _keySet;

    /// <summary>The current deny list.</summary>
    public DenyList DenyList => _denyList;

    /// <summary>Opens <paramref name="keySet"/> with the root key, then <paramref name="denyList"/> (when given) with both.</summary>
    /// <exception cref="TrustDocumentException">A document does not verify.</exception>
    public static TrustStore Open(PublicKey rootKey, SignedDocument keySet, SignedDocument? denyList = null)
    {
        var openedKeySet = KeySet.Open(keySet, rootKey);
        return new(rootKey, openedKeySet, denyList is null ? null : DenyList.Open(denyList, rootKey, openedKeySet));
    }

    /// <summary>
    /// Installs a newer key set. Returns false when the version is the one held (nothing to do).
    /// </summary>
    /// <exception cref="TrustDocumentException">Bad signature, bad content, or older than the held version; the held key set stays.</exception>
    public bool UpdateKeySet(SignedDocument document)
    {
        var candidate = KeySet.Open(document, RootKey);
        lock (_updateLock)
        {
            var held = _keySet;
            if (!string.Equals(candidate.Issuer, held.Issuer, StringComparison.Ordinal))
            {
                // An issuer's root signs for that issuer alone: a key set naming another cannot take over its chain.
                throw new TrustDocumentException(
                    $"key set version {candidate.Version} is for issuer '{candidate.IssuerId}', but this chain is issuer '{held.IssuerId}'s");
            }

            if (candidate.Version < held.Version)
            {
                throw new TrustDocumentException($"key set version {candidate.Version} is older than the held version {held.Version}");
            }

            if (candidate.Version == held.Version)
            {
                return SameVersion(candidate.ToPayload(), held.ToPayload(), "key set", held.Version);
            }

            _keySet = candidate;
            return true;
        }
    }

    /// <summary>Installs a newer full deny list. Returns false when the version is the one held.</summary>
    /// <exception cref="TrustDocumentException">Bad signature, bad content, or older than the held version; the held list stays.</exception>
    public bool UpdateDenyList(SignedDocument snapshot)
    {
        var candidate = DenyList.Open(snapshot, RootKey, _keySet);
        lock (_updateLock)
        {
            var held = _denyList;
            if (candidate.Version < held.Version)
            {
                throw new TrustDocumentException($"deny list version {candidate.Version} is older than the held version {held.Version}");
            }

            if (candidate.Version == held.Version)
            {
                return SameVersion(candidate.ToPayload(), held.ToPayload(), "deny list", held.Version);
            }

            _denyList = candidate;
            return true;
        }
    }

    /// <summary>Applies one deny-list delta, which must start at the held version.</summary>
    /// <exception cref="TrustDocumentException">Bad signature, bad content, or out of order; the held list stays.</exception>
    public void ApplyDenyListDelta(SignedDocument delta)
    {
        var candidate = DenyListDelta.Open(delta, RootKey, _keySet);
        lock (_updateLock)
        {
            _denyList = _denyList.Apply(candidate);
        }
    }

    private static bool SameVersion(byte[] candidate, byte[] held, string what, long version) =>
        candidate.AsSpan().SequenceEqual(held)
            ? false
            : throw new TrustDocumentException($"{what} version {version} differs from the held {what} of the same version");
}
