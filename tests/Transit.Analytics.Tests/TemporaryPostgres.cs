using Npgsql;
using Transit.Clearing.Database;

namespace Transit.Analytics.Tests;

/// <summary>The clearing backend's embedded PostgreSQL with one migrated database (clearing's schema, analytics tables included).</summary>
public sealed class TemporaryPostgres : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "transit-analytics-pg-" + Guid.NewGuid().ToString("N")[..12]);
    private EmbeddedPostgres? _cluster;

    public NpgsqlDataSource DataSource { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _cluster = await EmbeddedPostgres.StartAsync(_root, new EmbeddedPostgresOptions { Durable = false });
        DataSource = NpgsqlDataSource.Create(await _cluster.CreateDatabaseAsync("analytics_tests"));
        await Migrator.ApplyAsync(DataSource);
    }

    public async Task ResetAsync()
    {
        await using var command = DataSource.CreateCommand("TRUNCATE analytics_cells, analytics_rider_days, analytics_days");
        await command.ExecuteNonQueryAsync();
    }

    public async Task DisposeAsync()
    {
        await DataSource.DisposeAsync();
        if (_cluster is not null)
        {
            await _cluster.StopAsync();
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
