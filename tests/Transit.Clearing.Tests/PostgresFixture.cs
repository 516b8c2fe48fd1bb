using System.Globalization;
using Npgsql;
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
    public async Task<string> CreateDatabaseAsync()
    {
        var name = string.Create(CultureInfo.InvariantCulture, $"test_{Interlocked.Increment(ref _databases)}");
        await using (var connection = new NpgsqlConnection(Cluster.ConnectionString))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await create.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(Cluster.ConnectionString) { Database = name }.ConnectionString;
    }

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
