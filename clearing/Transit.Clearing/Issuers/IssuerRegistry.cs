using System.Collections.Frozen;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Transit.Clearing.Access;
using Transit.Clearing.Database;
using Transit.Clearing.Trust;
using Transit.RideCodes;

namespace Transit.Clearing.Issuers;

/// <summary>Why the registry refused a change: what the caller sent is wrong, names nothing registered, or repeats a row.</summary>
public enum IssuerProblem
{
    Invalid,
    NotFound,
    Conflict,
}

/// <summary>A refused registry change; the message names the file or field and what is wrong with it.</summary>
public sealed class IssuerException(IssuerProblem problem, string message) : Exception(message)
{
    public IssuerProblem Problem { get; } = problem;
}

/// <summary>An issuer as registered (its documents stay in the table).</summary>
public sealed record IssuerInfo(
    string IssuerId, string Name, string Algorithm, long KeySetVersion, DateTimeOffset AddedAt, DateTimeOffset UpdatedAt,
    IReadOnlyList<Acceptance> Acceptances);

/// <summary>
/// One row of an operator's acceptance list: from <paramref name="ValidFrom"/> the operator's gates honour the issuer's
/// codes, until the day before <paramref name="ValidTo"/> (exclusive; null: open), and the platform takes
/// <paramref name="FeeBasisPoints"/> of that issuer's riders' fares on that operator.
/// </summary>
public sealed record Acceptance(string OperatorId, string IssuerId, DateOnly ValidFrom, DateOnly? ValidTo, int FeeBasisPoints)
{
    public bool Covers(DateOnly day) => ValidFrom <= day && (ValidTo is null || day < ValidTo);
}

/// <summary>
/// The issuers other than the operator's own (tables <c>issuers</c> and <c>issuer_acceptance</c>, migration 0130) and
/// the operators' acceptance of them. Every document is checked before it is stored: a key set must verify under the
/// issuer's root and name the issuer; a later key set must be newer and under the same root. Ingest and clearing read
/// an immutable snapshot cached in memory (<see cref="Current"/>), reloaded after each change made here and at most
/// every few seconds otherwise, so a tap never costs a database round trip for its issuer.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "Its lock is a SemaphoreSlim used only with WaitAsync and Release, which never makes a wait handle: nothing to dispose.")]
public sealed class IssuerRegistry(NpgsqlDataSource dataSource, ClearingOptions options, TimeProvider time)
{
    /// <summary>Longest issuer name.</summary>
    public const int MaxNameLength = 100;

    private readonly SemaphoreSlim _refreshing = new(1, 1);
    private IssuerSnapshot _snapshot = IssuerSnapshot.Empty;
    private DateTimeOffset _refreshedAt = DateTimeOffset.MinValue;

    /// <summary>The snapshot last loaded (empty before the first refresh).</summary>
    public IssuerSnapshot Current => _snapshot;

    /// <summary>Registers an issuer from its root public key file and signed key set file (their texts as received).</summary>
    /// <exception cref="IssuerException">A document does not parse or verify, names no issuer or 'home', or the issuer exists.</exception>
    public async Task<IssuerInfo> AddAsync(string rootText, string rootFile, string keySetText, string keySetFile, string name, CancellationToken cancellation)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Length > MaxNameLength || name.Any(char.IsControl))
        {
            throw new IssuerException(IssuerProblem.Invalid, $"name must be 1 to {MaxNameLength} characters without control characters");
        }

        var root = ParseRoot(rootText, rootFile);
        var keySet = OpenKeySet(keySetText, keySetFile, root, rootFile);
        var issuerId = keySet.Issuer switch
        {
            null => throw new IssuerException(
                IssuerProblem.Invalid, $"{keySetFile}: the key set names no issuer id; another issuer's key set must declare one ('transit keys init --issuer ID'), the operator's own is not registered here"),
            IssuerIds.Home => throw new IssuerException(IssuerProblem.Invalid, $"{keySetFile}: the key set names issuer '{IssuerIds.Home}', the operator's own issuer's id; another issuer needs an id of its own"),
            var id => id,
        };
        try
        {
            await Sql.ExecAsync(dataSource, """
                INSERT INTO issuers (issuer_id, name, algorithm, root_public_key, key_set, key_set_version) VALUES ($1, $2, $3, $4, $5, $6)
                """, cancellation, issuerId, name, root.Algorithm.ToName(), rootText, keySetText, keySet.Version);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            throw new IssuerException(IssuerProblem.Conflict, $"issuer '{issuerId}' is already registered; a new key set goes through 'transit issuers update'");
        }

        await RefreshAsync(cancellation);
        return (await ListAsync(cancellation)).Single(i => i.IssuerId == issuerId);
    }

    /// <summary>Replaces an issuer's key set with a newer version signed by the same root.</summary>
    /// <exception cref="IssuerException">Unknown issuer, a key set that does not verify under its root, names another issuer, or is not newer.</exception>
    public async Task<IssuerInfo> UpdateKeySetAsync(string issuerId, string keySetText, string keySetFile, CancellationToken cancellation)
    {
        await using (var connection = await dataSource.OpenConnectionAsync(cancellation))
        await using (var transaction = await connection.BeginTransactionAsync(cancellation))
        {
            var stored = await Sql.ListAsync(connection, "SELECT root_public_key, key_set_version FROM issuers WHERE issuer_id = $1 FOR UPDATE",
                r => (Root: r.GetString(0), Version: r.GetInt64(1)), cancellation, issuerId);
            if (stored.Count == 0)
            {
                throw UnknownIssuer(issuerId);
            }

            var keySet = OpenKeySet(keySetText, keySetFile, KeyFiles.ParsePublicKey(stored[0].Root), $"issuer '{issuerId}''s registered root");
            if (keySet.Issuer != issuerId)
            {
                throw new IssuerException(IssuerProblem.Invalid, $"{keySetFile}: the key set is for issuer '{keySet.IssuerId}', not '{issuerId}'");
            }

            if (keySet.Version <= stored[0].Version)
            {
                throw new IssuerException(
                    IssuerProblem.Invalid, $"{keySetFile}: key set version {keySet.Version} is not newer than issuer '{issuerId}''s registered version {stored[0].Version}");
            }

            await Sql.ExecAsync(connection, "UPDATE issuers SET key_set = $2, key_set_version = $3, updated_at = now() WHERE issuer_id = $1",
                cancellation, issuerId, keySetText, keySet.Version);
            await transaction.CommitAsync(cancellation);
        }

        await RefreshAsync(cancellation);
        return (await ListAsync(cancellation)).Single(i => i.IssuerId == issuerId);
    }

    /// <summary>Adds a row to an operator's acceptance list.</summary>
    /// <exception cref="IssuerException">Unknown issuer or operator, a fee outside 0–10000, an end not after the start, or a row for that start exists.</exception>
    public async Task<Acceptance> AcceptAsync(string operatorId, string issuerId, DateOnly validFrom, DateOnly? validTo, int feeBasisPoints, CancellationToken cancellation)
    {
        if (feeBasisPoints is < 0 or > 10_000)
        {
            throw new IssuerException(IssuerProblem.Invalid, $"fee {feeBasisPoints} basis points is outside 0 to 10000");
        }

        if (validTo is { } to && to <= validFrom)
        {
            throw new IssuerException(IssuerProblem.Invalid, $"the acceptance must end after it starts: to {to:yyyy-MM-dd} is not after from {validFrom:yyyy-MM-dd}");
        }

        await using (var connection = await dataSource.OpenConnectionAsync(cancellation))
        {
            if (!await Sql.ScalarAsync<bool>(connection, "SELECT EXISTS (SELECT 1 FROM issuers WHERE issuer_id = $1)", cancellation, issuerId))
            {
                throw UnknownIssuer(issuerId);
            }

            if (!await FeedReferences.OperatorExistsAsync(connection, operatorId, cancellation))
            {
                throw new IssuerException(IssuerProblem.NotFound, $"operator '{operatorId}' is not an agency_id of the imported GTFS feeds");
            }

            try
            {
                await Sql.ExecAsync(connection, """
                    INSERT INTO issuer_acceptance (operator_id, issuer_id, valid_from, valid_to, fee_basis_points) VALUES ($1, $2, $3, $4, $5)
                    """, cancellation, operatorId, issuerId, validFrom, Sql.Typed(validTo, NpgsqlDbType.Date), feeBasisPoints);
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                // Terms of days already cleared are not rewritten in place: a new row from a later day supersedes.
                throw new IssuerException(
                    IssuerProblem.Conflict, $"operator '{operatorId}' already has an acceptance of issuer '{issuerId}' from {validFrom:yyyy-MM-dd}; add one from a later day to change its terms");
            }
        }

        await RefreshAsync(cancellation);
        return new Acceptance(operatorId, issuerId, validFrom, validTo, feeBasisPoints);
    }

    /// <summary>Every registered issuer with its acceptance rows, by issuer id.</summary>
    public async Task<IReadOnlyList<IssuerInfo>> ListAsync(CancellationToken cancellation)
    {
        var acceptances = (await LoadAcceptancesAsync(cancellation)).ToLookup(a => a.IssuerId, StringComparer.Ordinal);
        return await Sql.ListAsync(dataSource, """
            SELECT issuer_id, name, algorithm, key_set_version, added_at, updated_at FROM issuers ORDER BY issuer_id
            """,
            r => new IssuerInfo(r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt64(3), r.GetFieldValue<DateTimeOffset>(4), r.GetFieldValue<DateTimeOffset>(5),
                [.. acceptances[r.GetString(0)]]),
            cancellation);
    }

    /// <summary>True when the issuer is registered.</summary>
    public async Task<bool> ExistsAsync(string issuerId, CancellationToken cancellation) =>
        issuerId == IssuerIds.Home || await Sql.ScalarAsync<bool>(dataSource, "SELECT EXISTS (SELECT 1 FROM issuers WHERE issuer_id = $1)", cancellation, issuerId);

    /// <summary>Reloads the snapshot when the last load is older than <paramref name="maxAge"/> (another process may have changed the tables).</summary>
    public Task RefreshIfOlderAsync(TimeSpan maxAge, CancellationToken cancellation) =>
        time.GetUtcNow() - _refreshedAt > maxAge ? RefreshAsync(cancellation) : Task.CompletedTask;

    /// <summary>Reloads the snapshot, keeping the verifiers (and their credential caches) of key sets that did not change.</summary>
    public async Task<IssuerSnapshot> RefreshAsync(CancellationToken cancellation)
    {
        await _refreshing.WaitAsync(cancellation);
        try
        {
            var previous = _snapshot;
            var rows = await Sql.ListAsync(dataSource, "SELECT issuer_id, root_public_key, key_set, key_set_version FROM issuers",
                r => (Id: r.GetString(0), Root: r.GetString(1), KeySet: r.GetString(2), Version: r.GetInt64(3)), cancellation);
            var verifierOptions = TrustHistory.VerifierOptionsOf(options);
            var chains = new Dictionary<string, IssuerChain>(StringComparer.Ordinal);
            foreach (var row in rows)
            {
                if (previous.Chains.TryGetValue(row.Id, out var kept) && kept.KeySetVersion == row.Version)
                {
                    chains[row.Id] = kept;
                    continue;
                }

                try
                {
                    var store = TrustStore.Open(KeyFiles.ParsePublicKey(row.Root), SignedDocument.Parse(row.KeySet));
                    if (store.IssuerId == row.Id)
                    {
                        chains[row.Id] = new IssuerChain(row.Id, row.Version, new RideCodeVerifier(store, verifierOptions, time));
                    }
                }
                catch (Exception ex) when (ex is TrustDocumentException or JsonException or FormatException or ArgumentException)
                {
                    // A row changed behind the registry's back (it checks every document it stores): its issuer's codes
                    // stay unknown-issuer rather than verify under documents nobody checked.
                }
            }

            var snapshot = new IssuerSnapshot(chains.ToFrozenDictionary(StringComparer.Ordinal), await LoadAcceptancesAsync(cancellation));
            _snapshot = snapshot;
            _refreshedAt = time.GetUtcNow();
            return snapshot;
        }
        finally
        {
            _refreshing.Release();
        }
    }

    private Task<List<Acceptance>> LoadAcceptancesAsync(CancellationToken cancellation) =>
        Sql.ListAsync(dataSource, """
            SELECT operator_id, issuer_id, valid_from, valid_to, fee_basis_points FROM issuer_acceptance ORDER BY issuer_id, operator_id, valid_from
            """,
            r => new Acceptance(r.GetString(0), r.GetString(1), r.GetFieldValue<DateOnly>(2), r.IsDBNull(3) ? null : r.GetFieldValue<DateOnly>(3), r.GetInt32(4)),
            cancellation);

    private static IssuerException UnknownIssuer(string issuerId) =>
        new(IssuerProblem.NotFound, $"issuer '{issuerId}' is not registered ('transit issuers list' shows those that are)");

    private static PublicKey ParseRoot(string text, string file)
    {
        try
        {
            return KeyFiles.ParsePublicKey(text);
        }
        catch (Exception ex) when (ex is TrustDocumentException or JsonException or FormatException or ArgumentException)
        {
            throw new IssuerException(IssuerProblem.Invalid, $"{file}: not a root public key file: {ex.Message}");
        }
    }

    private static KeySet OpenKeySet(string text, string file, PublicKey root, string rootName)
    {
        SignedDocument document;
        try
        {
            document = SignedDocument.Parse(text);
        }
        catch (Exception ex) when (ex is TrustDocumentException or JsonException or FormatException or ArgumentException)
        {
            throw new IssuerException(IssuerProblem.Invalid, $"{file}: not a signed key set: {ex.Message}");
        }

        try
        {
            return KeySet.Open(document, root);
        }
        catch (Exception ex) when (ex is TrustDocumentException or JsonException or FormatException or ArgumentException)
        {
            throw new IssuerException(IssuerProblem.Invalid, $"{file}: the key set does not verify under {rootName}: {ex.Message}");
        }
    }
}

/// <summary>An external issuer's chain as ingest uses it: the verifier of its registered key set.</summary>
public sealed record IssuerChain(string IssuerId, long KeySetVersion, RideCodeVerifier Verifier);

/// <summary>
/// What ingest and clearing need of the registry, immutable: each issuer's chain and the acceptance rows by
/// (operator, issuer). Lookups are a hash probe and a scan of that pair's few rows.
/// </summary>
public sealed class IssuerSnapshot
{
    public static readonly IssuerSnapshot Empty = new(FrozenDictionary<string, IssuerChain>.Empty, []);

    private readonly FrozenDictionary<(string Operator, string Issuer), Acceptance[]> _acceptances;

    public IssuerSnapshot(FrozenDictionary<string, IssuerChain> chains, IEnumerable<Acceptance> acceptances)
    {
        Chains = chains;
        _acceptances = acceptances
            .GroupBy(a => (a.OperatorId, a.IssuerId))
            .ToFrozenDictionary(g => g.Key, g => g.OrderBy(a => a.ValidFrom).ToArray());
    }

    /// <summary>Registered issuers' chains by issuer id.</summary>
    public FrozenDictionary<string, IssuerChain> Chains { get; }

    /// <summary>
    /// The acceptance row in force for the pair on <paramref name="day"/>: the latest starting on or before it, unless
    /// that one has ended. Null: the operator does not accept the issuer that day.
    /// </summary>
    public Acceptance? InForce(string operatorId, string issuerId, DateOnly day)
    {
        if (!_acceptances.TryGetValue((operatorId, issuerId), out var rows))
        {
            return null;
        }

        for (var i = rows.Length - 1; i >= 0; i--)
        {
            if (rows[i].ValidFrom <= day)
            {
                return rows[i].Covers(day) ? rows[i] : null;
            }
        }

        return null;
    }

    /// <summary>
    /// Re-verifies a code naming an external issuer under that issuer's chain, for a tap on <paramref name="operatorId"/>'s
    /// device on <paramref name="day"/>. Null when the issuer is not registered or the operator does not accept it that
    /// day: the code stays <c>unknown-issuer</c>, as a gate without that issuer's trust would judge it.
    /// </summary>
    public (VerificationResult Verdict, long KeySetVersion)? Verify(RideCode code, string issuerId, string operatorId, DateOnly day, DateTimeOffset at)
    {
        if (!Chains.TryGetValue(issuerId, out var chain) || InForce(operatorId, issuerId, day) is null)
        {
            return null;
        }

        return (new VerificationResult(chain.Verifier.CheckSignaturesAndValidity(code, at), code, issuerId), chain.KeySetVersion);
    }
}
