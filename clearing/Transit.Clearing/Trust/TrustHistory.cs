using Npgsql;
using Transit.RideCodes;

namespace Transit.Clearing.Trust;

/// <summary>
/// Every key set version clearing has seen, kept in <c>key_set_versions</c>, each with its own verifier, so a tap is
/// re-verified with the key set in force when it was made: a key revoked later does not condemn older taps, and a
/// tap made after a revocation is refused even when the gate had not synced yet.
/// </summary>
public sealed class TrustHistory(NpgsqlDataSource dataSource, OperatorKeys keys, ClearingOptions options, TimeProvider time)
{
    private readonly Lock _lock = new();
    private (DateTimeOffset IssuedAt, long Version, RideCodeVerifier Verifier)[] _versions = [];
    private DateTimeOffset _refreshedAt = DateTimeOffset.MinValue;

    /// <summary>The newest key set version known.</summary>
    public long CurrentVersion => _versions.Length == 0 ? 0 : _versions[^1].Version;

    /// <summary>Records the key directory's key set when it is new, then reloads every version from the database.</summary>
    public async Task RefreshAsync(CancellationToken cancellation)
    {
        var directory = keys.Open();
        var document = directory.ReadSignedKeySet();
        await using (var record = dataSource.CreateCommand(
            "INSERT INTO key_set_versions (version, issued_at, document) VALUES ($1, $2, $3) ON CONFLICT (version) DO NOTHING"))
        {
            record.Parameters.Add(new() { Value = directory.KeySet.Version });
            record.Parameters.Add(new() { Value = directory.KeySet.IssuedAt.UtcDateTime });
            record.Parameters.Add(new() { Value = document.ToJson() });
            await record.ExecuteNonQueryAsync(cancellation);
        }

        var loaded = new List<(DateTimeOffset, long, RideCodeVerifier)>();
        var verifierOptions = VerifierOptionsOf(options);
        await using (var read = dataSource.CreateCommand("SELECT version, document FROM key_set_versions ORDER BY version"))
        await using (var reader = await read.ExecuteReaderAsync(cancellation))
        {
            while (await reader.ReadAsync(cancellation))
            {
                var keySet = KeySet.Open(SignedDocument.Parse(reader.GetString(1)), directory.RootPublicKey);
                loaded.Add((keySet.IssuedAt, keySet.Version, new RideCodeVerifier(new TrustStore(directory.RootPublicKey, keySet), verifierOptions, time)));
            }
        }

        lock (_lock)
        {
            // Keep verifiers (and their credential caches) of versions already loaded.
            var previous = _versions.ToDictionary(v => v.Version);
            _versions = [.. loaded.Select(v => previous.TryGetValue(v.Item2, out var kept) ? kept : v)];
            _refreshedAt = time.GetUtcNow();
        }
    }

    /// <summary>
    /// How clearing re-verifies a code, whoever issued it: at the tap's own time with the configured freshness, and
    /// without deny lists (a tap is judged by what was denied when it was made, which settlement knows).
    /// </summary>
    public static VerifierOptions VerifierOptionsOf(ClearingOptions options) => new()
    {
        CheckDenyList = false,
        MaxAge = TimeSpan.FromSeconds(options.MaxAgeSeconds),
        MaxClockAhead = TimeSpan.FromSeconds(options.MaxAheadSeconds),
    };

    /// <summary>Refreshes when the last refresh is older than <paramref name="maxAge"/>.</summary>
    public Task RefreshIfOlderAsync(TimeSpan maxAge, CancellationToken cancellation) =>
        time.GetUtcNow() - _refreshedAt > maxAge ? RefreshAsync(cancellation) : Task.CompletedTask;

    /// <summary>The verifier of the key set in force at <paramref name="at"/>, and its version.</summary>
    public (RideCodeVerifier Verifier, long Version) At(DateTimeOffset at)
    {
        var versions = _versions;
        if (versions.Length == 0)
        {
            throw new InvalidOperationException("no key set loaded");
        }

        var chosen = versions[0];
        foreach (var v in versions)
        {
            if (v.IssuedAt <= at)
            {
                chosen = v;
            }
        }

        return (chosen.Verifier, chosen.Version);
    }
}
