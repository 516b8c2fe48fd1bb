using Microsoft.Extensions.Logging;
using Transit.DeviceApi;
using Transit.GateAgent.Configuration;
using Transit.RideCodes;

namespace Transit.GateAgent.Trust;

/// <summary>Freshness and pass-back limits in force.</summary>
public sealed record GateLimits(TimeSpan MaxAge, TimeSpan MaxAhead, TimeSpan Passback)
{
    /// <summary>The limits configured in <paramref name="settings"/>.</summary>
    public static GateLimits From(VerificationSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return new(TimeSpan.FromSeconds(settings.MaxAgeSeconds), TimeSpan.FromSeconds(settings.MaxAheadSeconds), TimeSpan.FromSeconds(settings.PassbackSeconds));
    }
}

/// <summary>
/// What the gate decides with right now: trust (key set, deny list), limits, verifier and device context. Sync and
/// the driver console replace parts of it; the pipeline reads whole snapshots, so a change applies to the next tap.
/// Every installed document is also stored in the journal database, so a restart keeps the newest trust.
/// </summary>
public sealed class GateState
{
    private readonly TrustDocumentStore _documents;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private volatile DeviceContext _context;
    private volatile GateLimits _limits;
    private volatile RideCodeVerifier _verifier;
    private volatile IssuerTrust _issuers;
    private volatile IssuerAcceptance? _acceptance;
    private long _configVersion;

    /// <summary>Creates the state from already opened trust: the operator's own issuer's, and other accepted issuers'.</summary>
    /// <exception cref="TrustDocumentException">Two chains serve one issuer.</exception>
    public GateState(
        TrustStore trust, DeviceContext context, GateLimits limits, TrustDocumentStore documents, TimeProvider time, ILogger logger, IReadOnlyList<TrustStore>? issuers = null)
    {
        Trust = trust;
        _issuers = Combine("Trust:Issuers", trust, issuers ?? [], null);

        _context = context;
        _limits = limits;
        _documents = documents;
        _time = time;
        _logger = logger;
        _verifier = CreateVerifier(limits);
    }

    /// <summary>The operator's own issuer's root key, key set and deny list (synced from clearing).</summary>
    public TrustStore Trust { get; }

    /// <summary>
    /// Every accepted issuer's chain, the operator's own included; codes are checked under their issuer's only. From
    /// the configured <c>Trust:Issuers</c> files until clearing's acceptance list is installed, then from that alone.
    /// </summary>
    public IssuerTrust Issuers => _issuers;

    /// <summary>The acceptance list from clearing in force; null while the configured <c>Trust:Issuers</c> apply.</summary>
    public IssuerAcceptance? Acceptance => _acceptance;

    /// <summary>Where and as what the device decides.</summary>
    public DeviceContext Context => _context;

    /// <summary>Freshness and pass-back limits.</summary>
    public GateLimits Limits => _limits;

    /// <summary>The verifier for the current limits (it does no replay check: the gate rules do).</summary>
    public RideCodeVerifier Verifier => _verifier;

    /// <summary>Version of the device configuration installed from clearing; 0 when only local settings apply.</summary>
    public long ConfigVersion => Interlocked.Read(ref _configVersion);

    /// <summary>
    /// Loads trust at start: the configured files, replaced by newer documents that sync stored in the journal.
    /// </summary>
    /// <exception cref="TrustDocumentException">The configured root key or key set does not verify.</exception>
    public static GateState Load(GateSettings settings, TrustDocumentStore documents, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(documents);
        var trust = OpenChain("Trust", settings.Trust.RootPublicKey!, settings.Trust.KeySet!, settings.Trust.DenyList);
        var issuers = settings.Trust.Issuers.Select((issuer, i) => LoadIssuer(issuer, $"Trust:Issuers:{i}")).ToList();
        var state = new GateState(trust, DeviceContext.From(settings.Device), GateLimits.From(settings.Verification), documents, time, logger, issuers);
        state.RestoreStored();
        return state;
    }

    /// <summary>
    /// Opens one accepted issuer's chain from its files. Its key set must be signed by the issuer's own root and declare
    /// the id the configuration gives it, so that no issuer's documents stand in for another's.
    /// </summary>
    private static TrustStore LoadIssuer(IssuerTrustSettings issuer, string setting) =>
        OpenChain(setting, issuer.RootPublicKey!, issuer.KeySet!, issuer.DenyList, keySet =>
        {
            if (!string.Equals(keySet.Issuer, issuer.Id, StringComparison.Ordinal))
            {
                throw new TrustDocumentException(
                    $"{setting}:KeySet ({issuer.KeySet}) is issuer '{keySet.IssuerId}'s key set, not issuer '{issuer.Id}'s");
            }
        });

    /// <summary>
    /// One chain from its files, each error naming the setting under <paramref name="setting"/>: the root public key,
    /// the key set it signed (checked by <paramref name="checkKeySet"/> before anything is read under it), the deny list.
    /// </summary>
    private static TrustStore OpenChain(string setting, string rootPath, string keySetPath, string? denyPath, Action<KeySet>? checkKeySet = null)
    {
        var rootKey = Read(rootPath, $"{setting}:RootPublicKey", KeyFiles.ParsePublicKey);
        var keySet = Read(keySetPath, $"{setting}:KeySet", json => KeySet.Open(SignedDocument.Parse(json), rootKey));
        checkKeySet?.Invoke(keySet);
        var denyList = denyPath is { Length: > 0 }
            ? Read(denyPath, $"{setting}:DenyList", json => DenyList.Open(SignedDocument.Parse(json), rootKey, keySet))
            : DenyList.Empty;
        return new TrustStore(rootKey, keySet, denyList);
    }

    /// <summary>Installs a key set from clearing; true when it was newer.</summary>
    /// <exception cref="TrustDocumentException">Bad, tampered or older; the held key set stays.</exception>
    public bool InstallKeySet(string json) =>
        Install(json, DocumentKinds.KeySet, Trust.UpdateKeySet, () => Trust.KeySet.Version, "key set");

    /// <summary>Installs a full deny list from clearing; true when it was newer.</summary>
    /// <exception cref="TrustDocumentException">Bad, tampered or older; the held list stays.</exception>
    public bool InstallDenyList(string json) =>
        Install(json, DocumentKinds.DenyList, Trust.UpdateDenyList, () => Trust.DenyList.Version, "deny list");

    /// <summary>Applies one deny-list delta from clearing.</summary>
    /// <exception cref="TrustDocumentException">Bad, tampered or out of order; the held list stays.</exception>
    public void ApplyDenyListDelta(string json)
    {
        var document = SignedDocument.Parse(json);
        lock (_lock)
        {
            Trust.ApplyDenyListDelta(document);
            _documents.SaveDenyListDelta(Trust.DenyList.Version, json);
        }

        _logger.LogInformation("deny list delta applied: version {Version} ({Count} entries)", Trust.DenyList.Version, Trust.DenyList.Count);
    }

    /// <summary>Installs a signed device configuration; true when it was newer and is now in force.</summary>
    /// <exception cref="TrustDocumentException">Bad signature, another device's, older, or invalid values.</exception>
    public bool InstallConfig(string json)
    {
        var config = DeviceConfigDocument.Open(SignedDocument.Parse(json), Trust.RootKey, Trust.KeySet, _context.DeviceId);
        lock (_lock)
        {
            if (config.Version <= ConfigVersion)
            {
                if (config.Version < ConfigVersion)
                {
                    throw new TrustDocumentException($"device configuration version {config.Version} is older than the held version {ConfigVersion}");
                }

                return false;
            }

            Apply(config);
            _documents.SaveDocument(DocumentKinds.Config, config.Version, json);
        }

        _logger.LogInformation(
            "device configuration version {Version} installed: {Mode} station {Station} route {Route}",
            config.Version, config.Mode, config.StationId, config.RouteId);
        return true;
    }

    /// <summary>
    /// Installs the operator's acceptance list from clearing (the answer of <c>GET /device/v1/issuers</c>) with every
    /// accepted issuer's key set and deny list, replacing the issuers of before (configured or synced) as one: the
    /// next tap is checked under the new set, and the bundle is stored as one journal row, so a restart (or a crash
    /// at any point) finds the old set or the new one. True when it was newer.
    /// </summary>
    /// <exception cref="TrustDocumentException">
    /// Not signed under this operator's trust, another operator's, older, an issuer's documents missing or not under the
    /// root the list names, or older than the ones held; the issuers in force stay.
    /// </exception>
    public bool InstallIssuers(string json)
    {
        lock (_lock)
        {
            var (acceptance, issuers) = OpenIssuers(json);
            if (acceptance is null)
            {
                return false;
            }

            _issuers = issuers!;
            _acceptance = acceptance;
            _verifier = CreateVerifier(_limits);
            _documents.SaveDocument(DocumentKinds.Issuers, acceptance.Version, json);
        }

        _logger.LogInformation(
            "issuer acceptance version {Version} installed: {Issuers}", _acceptance!.Version, string.Join(", ", _acceptance.Issuers.Select(i => i.IssuerId)));
        return true;
    }

    /// <summary>Checks a bundle against what is held; (null, null) when it is the held version.</summary>
    private (IssuerAcceptance? Acceptance, IssuerTrust? Issuers) OpenIssuers(string json)
    {
        IssuerBundleAnswer? bundle;
        try
        {
            bundle = System.Text.Json.JsonSerializer.Deserialize(json, DeviceApiJson.Default.IssuerBundleAnswer);
        }
        catch (System.Text.Json.JsonException ex)
        {
            throw new TrustDocumentException($"issuers: unreadable answer: {ex.Message}", ex);
        }

        if (bundle?.Acceptance is not { ValueKind: System.Text.Json.JsonValueKind.Object } envelope)
        {
            throw new TrustDocumentException("issuers: the acceptance document is missing");
        }

        var acceptance = IssuerAcceptance.Open(SignedDocument.Parse(envelope.GetRawText()), Trust.RootKey, Trust.KeySet, _context.OperatorId);
        if (!acceptance.SupersedesHeld(_acceptance))
        {
            return (null, null);
        }

        var shipped = new Dictionary<string, IssuerDocuments>(StringComparer.Ordinal);
        foreach (var issuer in bundle.Issuers ?? [])
        {
            shipped.TryAdd(issuer.Id ?? "", issuer);
        }

        var chains = new List<TrustStore>();
        var windows = new Dictionary<string, (DateTimeOffset, DateTimeOffset)>(StringComparer.Ordinal);
        foreach (var accepted in acceptance.Issuers)
        {
            if (!shipped.TryGetValue(accepted.IssuerId, out var documents) || documents.KeySet is not { ValueKind: System.Text.Json.JsonValueKind.Object } keySet)
            {
                throw new TrustDocumentException($"issuers: the key set of accepted issuer '{accepted.IssuerId}' is missing");
            }

            var chain = accepted.OpenChain(
                SignedDocument.Parse(keySet.GetRawText()),
                documents.DenyList is { ValueKind: System.Text.Json.JsonValueKind.Object } denyList ? SignedDocument.Parse(denyList.GetRawText()) : null);
            chains.Add(RefuseRollback(chain, shippedDenyList: documents.DenyList is { ValueKind: System.Text.Json.JsonValueKind.Object }));
            windows[accepted.IssuerId] = (accepted.ValidFrom, accepted.ValidTo ?? DateTimeOffset.MaxValue);
        }

        return (acceptance, Combine("issuers", Trust, chains, windows));
    }

    /// <summary>
    /// An issuer under the same root must not go back to an older key set or deny list than the gate holds: that
    /// would bring back revoked keys or lift denials (a replayed or stale bundle). When clearing ships no deny list for
    /// the issuer (it has received none yet), the one held (from the configured files, or synced) stays.
    /// </summary>
    private TrustStore RefuseRollback(TrustStore chain, bool shippedDenyList)
    {
        if (!_issuers.TryGet(chain.IssuerId, out var held) || ReferenceEquals(held, Trust)
            || !held.RootKey.Compressed.AsSpan().SequenceEqual(chain.RootKey.Compressed))
        {
            return chain;
        }

        if (!shippedDenyList)
        {
            chain = new TrustStore(chain.RootKey, chain.KeySet, held.DenyList);
        }

        if (chain.KeySet.Version < held.KeySet.Version)
        {
            throw new TrustDocumentException($"issuer '{chain.IssuerId}': key set version {chain.KeySet.Version} is older than the held version {held.KeySet.Version}");
        }

        if (chain.DenyList.Version < held.DenyList.Version)
        {
            throw new TrustDocumentException($"issuer '{chain.IssuerId}': deny list version {chain.DenyList.Version} is older than the held version {held.DenyList.Version}");
        }

        return chain;
    }

    private static IssuerTrust Combine(
        string what, TrustStore home, IReadOnlyList<TrustStore> issuers, IReadOnlyDictionary<string, (DateTimeOffset From, DateTimeOffset Until)>? windows)
    {
        // Two chains of one issuer are the documents' fault, told as such; the constructor's guard would call it a caller's.
        if (issuers.Prepend(home).GroupBy(store => store.IssuerId, StringComparer.Ordinal).FirstOrDefault(same => same.Count() > 1) is { } twice)
        {
            throw new TrustDocumentException($"{what}: issuer '{twice.Key}' is given twice");
        }

        return new IssuerTrust([home, .. issuers], home.IssuerId, windows);
    }

    /// <summary>The driver console's change of route and stop (bus validators).</summary>
    public DeviceContext ChangeRoute(string? routeId, string? stopId)
    {
        lock (_lock)
        {
            _context = _context with { RouteId = routeId ?? _context.RouteId, StopId = stopId };
        }

        _logger.LogInformation("route {Route}, stop {Stop} set by the driver console", _context.RouteId, _context.StopId);
        return _context;
    }

    /// <summary>The GPS's arrival at a stop (bus validators); the route stays.</summary>
    public DeviceContext SetStopFromGps(string stopId)
    {
        lock (_lock)
        {
            _context = _context with { StopId = stopId };
        }

        _logger.LogInformation("stop {Stop} set by GPS", stopId);
        return _context;
    }

    /// <summary>Verifies and installs a newer document, then stores it so that a restart starts from it.</summary>
    private bool Install(string json, string kind, Func<SignedDocument, bool> update, Func<long> version, string what)
    {
        var document = SignedDocument.Parse(json);
        lock (_lock)
        {
            if (!update(document))
            {
                return false;
            }

            _documents.SaveDocument(kind, version(), json);
        }

        _logger.LogInformation("{What} version {Version} installed", what, version());
        return true;
    }

    private void Apply(DeviceConfig config)
    {
        // The document was checked before it was stored (an unknown mode is refused there); this keeps the gate's
        // mode rather than falling back to the first one should an unchecked document ever arrive.
        _context = _context with
        {
            OperatorId = config.OperatorId ?? _context.OperatorId,
            Mode = TapModes.TryParse(config.Mode, out var mode) ? mode : _context.Mode,
            StationId = config.StationId,
            RouteId = config.RouteId ?? _context.RouteId,
        };
        var limits = new GateLimits(
            TimeSpan.FromSeconds(config.MaxAgeSeconds), TimeSpan.FromSeconds(config.MaxAheadSeconds), TimeSpan.FromSeconds(config.PassbackSeconds));
        if (limits != _limits)
        {
            _limits = limits;
            _verifier = CreateVerifier(limits);
        }

        Interlocked.Exchange(ref _configVersion, config.Version);
    }

    private void RestoreStored()
    {
        Restore(DocumentKinds.KeySet, json => Trust.UpdateKeySet(SignedDocument.Parse(json)));
        Restore(DocumentKinds.DenyList, json => Trust.UpdateDenyList(SignedDocument.Parse(json)));
        foreach (var delta in _documents.LoadDenyListDeltasAfter(Trust.DenyList.Version))
        {
            try
            {
                Trust.ApplyDenyListDelta(SignedDocument.Parse(delta));
            }
            catch (TrustDocumentException ex)
            {
                _logger.LogWarning("stored deny-list delta not applied: {Reason}", ex.Message);
            }
        }

        if (_documents.LoadDocument(DocumentKinds.Issuers) is { } issuers)
        {
            try
            {
                lock (_lock)
                {
                    var (acceptance, trust) = OpenIssuers(issuers.Json);
                    _issuers = trust ?? _issuers;
                    _acceptance = acceptance ?? _acceptance;
                    _verifier = CreateVerifier(_limits);
                }
            }
            catch (TrustDocumentException ex)
            {
                _logger.LogWarning("stored issuer acceptance version {Version} not applied, the configured Trust:Issuers stay: {Reason}", issuers.Version, ex.Message);
            }
        }

        if (_documents.LoadDocument(DocumentKinds.Config) is { } config)
        {
            try
            {
                lock (_lock)
                {
                    Apply(DeviceConfigDocument.Open(SignedDocument.Parse(config.Json), Trust.RootKey, Trust.KeySet, _context.DeviceId));
                }
            }
            catch (TrustDocumentException ex)
            {
                _logger.LogWarning("stored device configuration not applied: {Reason}", ex.Message);
            }
        }
    }

    private void Restore(string kind, Func<string, bool> install)
    {
        if (_documents.LoadDocument(kind) is not { } stored)
        {
            return;
        }

        try
        {
            install(stored.Json);
        }
        catch (TrustDocumentException ex)
        {
            // The configured file may be newer than what sync stored (a re-provisioned gate): keep the newer.
            _logger.LogInformation("stored {Kind} version {Version} not used: {Reason}", kind, stored.Version, ex.Message);
        }
    }

    private RideCodeVerifier CreateVerifier(GateLimits limits) =>
        new(_issuers, new VerifierOptions { MaxAge = limits.MaxAge, MaxClockAhead = limits.MaxAhead }, _time);

    private static T Read<T>(string path, string setting, Func<string, T> parse)
    {
        try
        {
            return parse(File.ReadAllText(path));
        }
        catch (TrustDocumentException ex)
        {
            throw new TrustDocumentException($"{setting} ({path}): {ex.Message}", ex);
        }
        catch (IOException ex)
        {
            throw new TrustDocumentException($"{setting} ({path}): {ex.Message}", ex);
        }
    }
}

/// <summary>The signed device configuration of the device API (<c>transit-device-config</c>).</summary>
public static class DeviceConfigDocument
{
    /// <summary>The signed-document type.</summary>
    public const string DocumentType = OnlineKey.DeviceConfigType;

    /// <summary>
    /// Verifies with the root key or an online key that <paramref name="keySet"/> certifies for device configurations,
    /// checks the device id and values, and reads the payload.
    /// </summary>
    /// <exception cref="TrustDocumentException">Not usable; the message says why.</exception>
    public static DeviceConfig Open(SignedDocument document, PublicKey rootKey, KeySet keySet, string deviceId)
    {
        ArgumentNullException.ThrowIfNull(document);
        var config = document.ReadPayload(DocumentType, rootKey, keySet, DeviceApiJson.Default.DeviceConfig, "device configuration");
        if (config is null || config.Version <= 0)
        {
            throw new TrustDocumentException("device configuration: version missing");
        }

        if (config.DeviceId != deviceId)
        {
            throw new TrustDocumentException($"device configuration is for device '{config.DeviceId}', not '{deviceId}'");
        }

        if (!TapModes.TryParse(config.Mode, out var mode))
        {
            throw new TrustDocumentException($"device configuration: '{config.Mode}' is not a mode");
        }

        if (!mode.OnBus() && string.IsNullOrEmpty(config.StationId))
        {
            throw new TrustDocumentException("device configuration: a metro mode needs stationId");
        }

        if (config.MaxAgeSeconds is < 1 or > 3600 || config.MaxAheadSeconds is < 0 or > 3600 || config.PassbackSeconds is < 0 or > 86_400)
        {
            throw new TrustDocumentException("device configuration: maxAgeSeconds, maxAheadSeconds or passbackSeconds out of range");
        }

        return config;
    }
}
