using System.Globalization;
using Transit.Clearing.Database;

namespace Transit.Testing;

/// <summary>
/// A throwaway PostgreSQL cluster (clearing's embedded PostgreSQL, not durable) in a folder of the temporary
/// directory, deleted at the end: for one test collection, or held by a fixture of its own. Each test takes a fresh
/// database of it.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private readonly string _root;
    private int _databases;

    // xunit builds collection fixtures through their one public constructor.
    public PostgresFixture()
        : this(Path.Combine(Path.GetTempPath(), "transit-pg-" + Guid.NewGuid().ToString("N")[..12]))
    {
    }

    private PostgresFixture(string root) => _root = root;

    /// <summary>A cluster in <paramref name="root"/>, which is deleted when the fixture is disposed.</summary>
    public static PostgresFixture At(string root) => new(root);

    public EmbeddedPostgres Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await EmbeddedPostgres.StartAsync(_root, new EmbeddedPostgresOptions { Durable = false });

    /// <summary>Creates an empty database (<c>test_N</c> unless named) and returns its connection string.</summary>
    public Task<string> CreateDatabaseAsync(string? name = null) =>
        Cluster.CreateDatabaseAsync(name ?? string.Create(CultureInfo.InvariantCulture, $"test_{Interlocked.Increment(ref _databases)}"));

    public async Task DisposeAsync()
    {
        if (Cluster is not null)
        {
            await Cluster.StopAsync();
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A cluster folder left in the temp directory is harmless.
        }
    }
}
