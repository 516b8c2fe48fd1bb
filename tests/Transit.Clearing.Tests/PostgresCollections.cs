using System.Globalization;
using Transit.Clearing.Database;

namespace Transit.Clearing.Tests;

/// <summary>A throwaway PostgreSQL cluster for one test collection; each test takes a fresh database of it.</summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "transit-pg-" + Guid.NewGuid().ToString("N")[..12]);
    private int _databases;

    public EmbeddedPostgres Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await EmbeddedPostgres.StartAsync(_root, new EmbeddedPostgresOptions { Durable = false });

    /// <summary>Creates an empty database and returns its connection string.</summary>
    public Task<string> CreateDatabaseAsync() =>
        Cluster.CreateDatabaseAsync(string.Create(CultureInfo.InvariantCulture, $"test_{Interlocked.Increment(ref _databases)}"));

    public async Task DisposeAsync()
    {
        await Cluster.StopAsync();
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

[CollectionDefinition(Name)]
public sealed class IngestCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "ingest";
}

[CollectionDefinition(Name)]
public sealed class ClearingCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "clearing";
}

[CollectionDefinition(Name)]
public sealed class ProcessCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "processes";
}
