using System.Collections.Frozen;

namespace Transit.RideCodes;

/// <summary>Limits applied by <see cref="RideCodeVerifier"/>.</summary>
public sealed record VerifierOptions
{
    /// <summary>A code older than this is <c>stale</c>. Default 60 s.</summary>
    public TimeSpan MaxAge { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>A code further ahead of the verifier's clock than this is <c>future</c>. Default 30 s.</summary>
    public TimeSpan MaxClockAhead { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Longest credential validity (not-after − not-before) accepted; a longer one is <c>credential-validity-too-long</c>.
    /// A phone key that leaks keeps signing codes until its credential ends, so this bounds how long a leaked key
    /// rides, whatever an issuer signed. Default 7 days.
    /// </summary>
    public TimeSpan MaxCredentialValidity { get; init; } = DefaultMaxCredentialValidity;

    /// <summary>The default of <see cref="MaxCredentialValidity"/>: 7 days.</summary>
    public static readonly TimeSpan DefaultMaxCredentialValidity = TimeSpan.FromDays(7);

    /// <summary>Credentials whose issuer signature is remembered as verified. Default 100,000.</summary>
    public int CredentialCacheSize { get; init; } = 100_000;

    /// <summary>Check the deny list (clearing turns this off to judge taps against the list of their time).</summary>
    public bool CheckDenyList { get; init; } = true;

    /// <summary>Throws when a limit is out of range.</summary>
    public void Validate()
    {
        if (MaxAge <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxAge), MaxAge, "the maximum code age must be positive");
        }

        if (MaxClockAhead < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxClockAhead), MaxClockAhead, "the clock-ahead tolerance cannot be negative");
        }

        if (MaxCredentialValidity <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxCredentialValidity), MaxCredentialValidity, "the longest credential validity must be positive");
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(CredentialCacheSize);
    }
}

/// <summary>The outcome of verifying one code.</summary>
/// <param name="Reason">Why it was accepted or refused.</param>
/// <param name="Code">The parsed code, when it parsed.</param>
/// <param name="Issuer">
/// The issuer id the code is of: the one it names, or for a version-1 code the home issuer's; null when it did not
/// parse (or, for a version-1 code, when the verifier has no home issuer).
/// </param>
public sealed record VerificationResult(VerificationReason Reason, RideCode? Code, string? Issuer = null)
{
    /// <summary>True only for <see cref="VerificationReason.Ok"/>.</summary>
    public bool Accepted => Reason == VerificationReason.Ok;

    /// <summary>The wire name of <see cref="Reason"/>.</summary>
    public string ReasonCode => Reason.ToCode();

    /// <summary>The account token, when the code parsed.</summary>
    public string? Account => Code?.Credential.Account;

    /// <summary>The rider category, when the code parsed.</summary>
    public string? Category => Code?.Credential.Category;
}

/// <summary>
/// Verifies ride codes fully offline, in the documented order, and never throws on any input. Thread-safe.
/// </summary>
public sealed class RideCodeVerifier
{
    private readonly IssuerTrust _trust;
    private readonly VerifierOptions _options;
    private readonly TimeProvider _time;
    private readonly ReplayCache? _replays;
    private readonly FrozenDictionary<string, Chain> _chains;
    private readonly Chain? _home;
    private long _unexpectedErrors;

    /// <summary>Creates a verifier of one issuer's codes (the home issuer's, and its own named ones).</summary>
    /// <param name="trust">Root key, key set and deny list.</param>
    /// <param name="options">Limits; defaults when null.</param>
    /// <param name="time">The clock; the system clock when null.</param>
    /// <param name="replays">Where accepted codes are remembered; no replay check when null.</param>
    public RideCodeVerifier(TrustStore trust, VerifierOptions? options = null, TimeProvider? time = null, ReplayCache? replays = null)
        : this(new IssuerTrust([trust ?? throw new ArgumentNullException(nameof(trust))], trust.IssuerId), options, time, replays)
    {
    }

    /// <summary>Creates a verifier of several issuers' codes, each checked under its own issuer's chain only.</summary>
    /// <param name="trust">Every accepted issuer's root key, key set and deny list.</param>
    /// <param name="options">Limits; defaults when null.</param>
    /// <param name="time">The clock; the system clock when null.</param>
    /// <param name="replays">Where accepted codes are remembered; no replay check when null.</param>
    public RideCodeVerifier(IssuerTrust trust, VerifierOptions? options = null, TimeProvider? time = null, ReplayCache? replays = null)
    {
        ArgumentNullException.ThrowIfNull(trust);
        _options = options ?? new VerifierOptions();
        _options.Validate();
        _trust = trust;
        _time = time ?? TimeProvider.System;
        _replays = replays;
        _chains = trust.Issuers.ToFrozenDictionary(store => store.IssuerId, store => new Chain(store, trust.AcceptedDuring(store.IssuerId)), StringComparer.Ordinal);
        _home = trust.Home is null ? null : _chains[trust.Home.IssuerId];
    }

    /// <summary>The limits in force.</summary>
    public VerifierOptions Options => _options;

    /// <summary>
    /// Exceptions caught inside verification, each turned into <c>malformed</c>. A correct verifier keeps this at
    /// zero; tests assert it, and a gate exports it as a metric.
    /// </summary>
    public long UnexpectedErrors => Interlocked.Read(ref _unexpectedErrors);

    /// <summary>Verifies <paramref name="text"/> at the current time.</summary>
    public VerificationResult Verify(string? text) => Verify(text, _time.GetUtcNow());

    /// <summary>Verifies <paramref name="text"/> as if the verifier's clock read <paramref name="now"/>.</summary>
    public VerificationResult Verify(string? text, DateTimeOffset now)
    {
        try
        {
            return VerifyCore(text, now);
        }
        catch (Exception)
        {
            // A gate must answer every scan; an unforeseen fault refuses the code instead of stopping the gate.
            Interlocked.Increment(ref _unexpectedErrors);
            return new VerificationResult(VerificationReason.Malformed, null);
        }
    }

    /// <summary>
    /// Checks an already parsed code; the replay cache is not consulted. Clearing uses this to re-verify taps.
    /// </summary>
    public VerificationReason CheckSignaturesAndValidity(RideCode code, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(code);
        return Check(code, now);
    }

    private VerificationResult VerifyCore(string? text, DateTimeOffset now)
    {
        var status = RideCodeFormat.TryParse(text, out var code);
        if (status != ParseStatus.Ok)
        {
            return new VerificationResult(
                status == ParseStatus.UnsupportedVersion ? VerificationReason.UnsupportedVersion : VerificationReason.Malformed, null);
        }

        var reason = Check(code, now);
        if (reason == VerificationReason.Ok && _replays is not null
            && !_replays.TryAdd(code.ReplayKey, ReplayCache.HoldUntil(code, _options.MaxAge), now))
        {
            reason = VerificationReason.Replayed;
        }

        return new VerificationResult(reason, code, IssuerOf(code));
    }

    /// <summary>The issuer id <paramref name="code"/> is of: the one it names, or the home issuer's for a version-1 code.</summary>
    public string? IssuerOf(RideCode code)
    {
        ArgumentNullException.ThrowIfNull(code);
        return code.Credential.Issuer ?? _trust.Home?.IssuerId;
    }

    private VerificationReason Check(RideCode code, DateTimeOffset now)
    {
        var credential = code.Credential;
        // An issuer outside its acceptance window (not yet or no longer accepted) is one the gate does not accept.
        if (!TryGetChain(credential.Issuer, out var chain) || now < chain.AcceptedFrom || now >= chain.AcceptedUntil)
        {
            return VerificationReason.UnknownIssuer;
        }

        var trust = chain.Trust;
        var keySet = trust.KeySet;
        if (!keySet.TryGetKey(credential.KeyId, out var issuerKey))
        {
            return VerificationReason.UnknownKey;
        }

        if (issuerKey.Status == KeyStatus.Revoked)
        {
            return VerificationReason.RevokedKey;
        }

        if (!issuerKey.VerifiesAt(now))
        {
            return VerificationReason.UnknownKey;
        }

        if (!TryGetPhoneKey(chain, keySet, issuerKey, credential, out var phoneKey))
        {
            return VerificationReason.BadIssuerSignature;
        }

        if (credential.NotAfter - credential.NotBefore > _options.MaxCredentialValidity)
        {
            return VerificationReason.CredentialValidityTooLong;
        }

        if (now >= credential.NotAfter)
        {
            return VerificationReason.CredentialExpired;
        }

        if (now < credential.NotBefore)
        {
            return VerificationReason.CredentialNotYetValid;
        }

        if (!phoneKey.Verify(code.PhoneSignedMessage, code.Signature))
        {
            return VerificationReason.BadSignature;
        }

        var age = now - code.Timestamp;
        if (age > _options.MaxAge)
        {
            return VerificationReason.Stale;
        }

        if (-age > _options.MaxClockAhead)
        {
            return VerificationReason.Future;
        }

        // Only the code's own issuer's list is consulted: one issuer's list cannot deny another issuer's riders.
        if (_options.CheckDenyList && trust.DenyList.IsDenied(credential))
        {
            return VerificationReason.Denied;
        }

        return VerificationReason.Ok;
    }

    /// <summary>
    /// The phone key of a credential whose issuer signature verifies. Verified credentials are remembered by their
    /// exact bytes, issuer signature included, so a rider's second tap costs one signature check, not two, and a
    /// credential body seen before with any other signature is verified afresh.
    /// </summary>
    private bool TryGetPhoneKey(Chain chain, KeySet keySet, IssuerKey issuerKey, Credential credential, out PublicKey phoneKey)
    {
        // The format version leads the key: the same bytes signed under the other version's domain tag are another credential.
        Span<byte> bytes = stackalloc byte[1 + credential.EncodedLength];
        bytes[0] = (byte)credential.FormatVersion;
        credential.WriteTo(bytes[1..]);
        CredentialCache cache;
        lock (chain.Lock)
        {
            cache = chain.Cache;
            if (!ReferenceEquals(cache.KeySet, keySet))
            {
                // A new key set may have revoked or re-keyed an issuer: nothing verified under the old one carries over.
                cache = chain.Cache = new CredentialCache(keySet);
            }
            else if (cache.Lookup.TryGetValue(bytes, out phoneKey!))
            {
                return true;
            }
        }

        if (!issuerKey.PublicKey.Verify(credential.IssuerSignedMessage, credential.IssuerSignature)
            || !PublicKey.TryImport(issuerKey.Algorithm, credential.PhonePublicKey, out phoneKey))
        {
            phoneKey = null!;
            return false;
        }

        lock (chain.Lock)
        {
            // When the key set changed meanwhile, this lands in a cache no longer in use, where no lookup finds it.
            if (cache.Lookup.Dictionary.Count >= _options.CredentialCacheSize)
            {
                cache.Lookup.Dictionary.Clear();
            }

            cache.Lookup[bytes] = phoneKey;
        }

        return true;
    }

    private bool TryGetChain(string? issuer, out Chain chain)
    {
        if (issuer is null)
        {
            chain = _home!;
            return _home is not null;
        }

        return _chains.TryGetValue(issuer, out chain!);
    }

    /// <summary>Test hook: how many credentials the caches hold now.</summary>
    internal int CachedCredentialCount
    {
        get
        {
            var count = 0;
            foreach (var chain in _chains.Values)
            {
                lock (chain.Lock)
                {
                    count += chain.Cache.Lookup.Dictionary.Count;
                }
            }

            return count;
        }
    }

    /// <summary>One issuer's trust and the credentials verified under it, each issuer's cache apart from the others'.</summary>
    private sealed class Chain(TrustStore trust, (DateTimeOffset From, DateTimeOffset Until) accepted)
    {
        public TrustStore Trust { get; } = trust;

        public DateTimeOffset AcceptedFrom { get; } = accepted.From;

        public DateTimeOffset AcceptedUntil { get; } = accepted.Until;

        public Lock Lock { get; } = new();

        public CredentialCache Cache { get; set; } = new(trust.KeySet);
    }

    /// <summary>Credentials verified under one key set, keyed by their exact bytes (body and issuer signature).</summary>
    private sealed class CredentialCache(KeySet keySet)
    {
        public KeySet KeySet { get; } = keySet;

        public readonly Dictionary<byte[], PublicKey>.AlternateLookup<ReadOnlySpan<byte>> Lookup =
            new Dictionary<byte[], PublicKey>(ByteArrayComparer.Instance).GetAlternateLookup<ReadOnlySpan<byte>>();
    }

    /// <summary>Compares byte arrays by content; looks them up by span without allocating.</summary>
    internal sealed class ByteArrayComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
    {
        public static readonly ByteArrayComparer Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] obj) => GetHashCode(obj.AsSpan());

        public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);

        // HashCode is seeded per process, so riders cannot craft credentials that collide in every gate's table.
        public int GetHashCode(ReadOnlySpan<byte> alternate)
        {
            var hash = new HashCode();
            hash.AddBytes(alternate);
            return hash.ToHashCode();
        }

        public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();
    }
}
