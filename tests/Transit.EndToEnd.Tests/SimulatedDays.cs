using System.Globalization;
using Npgsql;
using Transit.Clearing.Database;
using Transit.Clearing.Issuers;

namespace Transit.EndToEnd.Tests;

/// <summary>
/// Two service days of a rider population played by the real <c>transit sim</c> (real gate agents, a real clearing
/// server over mutual TLS) into a PostgreSQL database of the test's own; the tests then compare that database with
/// the ground truth the simulation wrote. Run once for all the tests of <see cref="SimulationTests"/>.
/// </summary>
public sealed class SimulatedDays : IAsyncLifetime
{
    /// <summary>A seed whose small CI population has riders of every planted kind.</summary>
    public const int Seed = 3;

    /// <summary>The city app, the national wallet on SM2 and the twin city's card (docs/interoperability.md).</summary>
    public const int Issuers = 3;

    private readonly string _root;
    private readonly PostgresFixture _postgres;

    public SimulatedDays()
    {
        _root = Path.Combine(Path.GetTempPath(), "transit-e2e-" + Guid.NewGuid().ToString("N")[..10]);
        _postgres = PostgresFixture.At(Path.Combine(_root, "pg"));
    }

    public string RunFolder => Path.Combine(_root, "run");

    public NpgsqlDataSource Database { get; private set; } = null!;

    internal TruthFiles Truth { get; private set; } = null!;

    public string Output { get; private set; } = "";

    public int ExitCode { get; private set; }

    /// <summary>Processes still mentioning the run folder once <c>transit sim</c> exited.</summary>
    public IReadOnlyList<string> LeftRunning { get; private set; } = [];

    public async Task InitializeAsync()
    {
        await _postgres.InitializeAsync();
        var connection = await _postgres.CreateDatabaseAsync("e2e");
        using var sim = TransitProcess.Start(
            "sim", "--riders", TestSize.Riders.ToString(CultureInfo.InvariantCulture), "--days", "2",
            "--duration", TestSize.PlaySeconds.ToString(CultureInfo.InvariantCulture), "--seed", Seed.ToString(CultureInfo.InvariantCulture),
            "--issuers", Issuers.ToString(CultureInfo.InvariantCulture),
            "--data", RunFolder, "--db", connection);
        ExitCode = await sim.ExitAsync(TestSize.Timeout);
        Output = sim.Output + sim.Error;
        LeftRunning = TransitProcess.ProcessesMentioning(RunFolder);
        Database = NpgsqlDataSource.Create(connection);
        Truth = new TruthFiles(Path.Combine(RunFolder, "truth"));
        IssuerOf = Truth.Riders.ToDictionary(r => r["account"], r => r["issuer"], StringComparer.Ordinal);
    }

    public async Task DisposeAsync()
    {
        if (Database is not null)
        {
            await Database.DisposeAsync();
        }

        await _postgres.DisposeAsync();

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Left in the temporary folder.
        }
    }

    /// <summary>The account clearing files a rider of the ground truth under: another issuer's rider's is qualified by the issuer.</summary>
    public string ClearingAccount(string account) => IssuerAccounts.Key(IssuerOf[account], account);

    /// <summary>Each rider's issuer, by account (unique across the city's issuers in the simulation).</summary>
    public IReadOnlyDictionary<string, string> IssuerOf { get; private set; } = new Dictionary<string, string>();

    public Task<List<T>> QueryAsync<T>(string sql, Func<NpgsqlDataReader, T> read, params object?[] parameters) =>
        Sql.ListAsync(Database, sql, read, CancellationToken.None, parameters);
}
