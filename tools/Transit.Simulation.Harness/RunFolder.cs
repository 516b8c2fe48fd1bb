using System.Globalization;
using Transit.Clearing.Database;

namespace Transit.Simulation.Harness;

/// <summary>
/// The folder a simulation or the demo works in, made fresh for each run. A marker file says the folder is one of
/// ours (so that no other folder is ever deleted), and <c>run.pid</c> names the process using it.
/// </summary>
public static class RunFolder
{
    private const string Marker = ".transit-run";

    /// <summary>Stops what a previous run left behind (its embedded PostgreSQL) and empties the folder.</summary>
    /// <exception cref="SimulationException">Another live run uses the folder, or the folder is not a run folder.</exception>
    public static async Task PrepareFreshAsync(string folder, CancellationToken cancellation)
    {
        if (Directory.Exists(folder) && Directory.EnumerateFileSystemEntries(folder).Any())
        {
            if (!File.Exists(Path.Combine(folder, Marker)) && !IsInTransitDataFolder(folder))
            {
                throw new SimulationException($"{folder} is not empty and was not made by 'transit sim' or 'transit demo'; name another folder");
            }

            var pidFile = Path.Combine(folder, "run.pid");
            if (File.Exists(pidFile) && int.TryParse((await File.ReadAllTextAsync(pidFile, cancellation)).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                && pid != Environment.ProcessId && Directory.Exists($"/proc/{pid}"))
            {
                throw new SimulationException($"another run (process {pid}) is using {folder}; stop it (Ctrl+C) or name another folder");
            }

            // A run killed outright leaves its PostgreSQL running: adopt it, then stop it.
            var pg = EmbeddedPostgres.DefaultRoot(folder);
            if (File.Exists(Path.Combine(pg, "data", "postmaster.pid")))
            {
                await using var leftover = await EmbeddedPostgres.StartAsync(pg, cancellation: cancellation);
                await leftover.StopAsync();
            }

            Directory.Delete(folder, recursive: true);
        }

        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(Path.Combine(folder, Marker), "made by transit sim / transit demo; deleted at the next run\n", cancellation);
        await File.WriteAllTextAsync(Path.Combine(folder, "run.pid"), Environment.ProcessId.ToString(CultureInfo.InvariantCulture), cancellation);
    }

    // The repository's .transit holds only what transit itself made, including run folders of versions that
    // wrote no marker yet, so a default run folder there may be emptied without one.
    private static bool IsInTransitDataFolder(string folder) =>
        string.Equals(Path.GetDirectoryName(Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar)), ProjectPaths.DataFolder(), StringComparison.Ordinal);
}
