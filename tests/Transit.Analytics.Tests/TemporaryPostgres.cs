using System.Diagnostics;
using Npgsql;

namespace Transit.Analytics.Tests;

/// <summary>
/// A throwaway PostgreSQL cluster from the machine's initdb and pg_ctl, on a Unix socket in a temporary folder,
/// with the analytics schema. Until the clearing backend's embedded cluster is on main, the store is tested here.
/// </summary>
public sealed class TemporaryPostgres : IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("transit-analytics-pg").FullName;
    private string _bin = "";

    public NpgsqlDataSource DataSource { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _bin = Directory.GetDirectories("/usr/lib/postgresql").OrderByDescending(d => d, StringComparer.Ordinal).Select(d => Path.Combine(d, "bin"))
            .First(d => File.Exists(Path.Combine(d, "initdb")));
        var data = Path.Combine(_root, "data");
        await RunAsync("initdb", $"-D {data} -U postgres --auth=trust --no-sync -E UTF8");
        await RunAsync("pg_ctl", $"-D {data} -w -l {Path.Combine(_root, "log")} -o \"-k {_root} -c listen_addresses='' -c fsync=off -c full_page_writes=off -c synchronous_commit=off\" start");
        DataSource = NpgsqlDataSource.Create($"Host={_root};Username=postgres;Database=postgres;Pooling=true");
        await using var stream = typeof(Web.Store.PostgresRollupStore).Assembly.GetManifestResourceStream("Transit.Analytics.Web.Store.analytics.sql")!;
        await using var command = DataSource.CreateCommand(await new StreamReader(stream).ReadToEndAsync());
        await command.ExecuteNonQueryAsync();
    }

    public async Task ResetAsync()
    {
        await using var command = DataSource.CreateCommand("TRUNCATE analytics_cells, analytics_rider_days, analytics_days");
        await command.ExecuteNonQueryAsync();
    }

    public async Task DisposeAsync()
    {
        await DataSource.DisposeAsync();
        await RunAsync("pg_ctl", $"-D {Path.Combine(_root, "data")} -m immediate -w stop");
        Directory.Delete(_root, recursive: true);
    }

    private async Task RunAsync(string tool, string arguments)
    {
        var start = new ProcessStartInfo(Path.Combine(_bin, tool), arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (Environment.UserName == "root")
        {
            // PostgreSQL refuses to run as root: run its tools as the postgres user, who then needs the folder.
            start = new ProcessStartInfo("runuser", $"-u postgres -- {Path.Combine(_bin, tool)} {arguments}") { RedirectStandardOutput = true, RedirectStandardError = true };
            await Process.Start("chown", $"-R postgres {_root}")!.WaitForExitAsync();
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{tool} failed: {await error}{await output}");
        }
    }
}
