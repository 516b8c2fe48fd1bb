using Npgsql;
using Transit.Clearing.Database;

namespace Transit.Analytics.Tests;

/// <summary>The clearing backend's embedded PostgreSQL with one migrated database (clearing's schema, analytics tables included).</summary>
public sealed class TemporaryPostgres : IAsyncLifetime
{
    private readonly PostgresFixture _postgres = PostgresFixture.At(Path.Combine(Path.GetTempPath(), "transit-analytics-pg-" + Guid.NewGuid().ToString("N")[..12]));

    public NpgsqlDataSource DataSource { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await _postgres.InitializeAsync();
        DataSource = NpgsqlDataSource.Create(await _postgres.CreateDatabaseAsync("analytics_tests"));
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
        await _postgres.DisposeAsync();
    }
}
