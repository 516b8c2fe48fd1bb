using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json;
using Transit.GateAgent.Journal;
using Transit.DeviceApi;

namespace Transit.GateAgent.Host;

/// <summary>
/// The arguments of <c>transit-gate</c>. Kept to hand-parsed words so that the gate's executable carries nothing
/// beyond the agent itself: <c>run [--config FILE]</c>, <c>journal --db FILE [--from SEQ]</c>, <c>--version</c>.
/// </summary>
internal static class GateCommandLine
{
    public const string DefaultConfig = "/etc/transit-gate/appsettings.json";

    private const string Usage = """
        usage: transit-gate run [--config FILE]          run the gate agent (default FILE: /etc/transit-gate/appsettings.json)
               transit-gate journal --db FILE [--from SEQ]  print the tap journal as JSON lines
               transit-gate --version
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        var command = args.Length == 0 ? "run" : args[0];
        var options = args.Length == 0 ? [] : args[1..];
        try
        {
            switch (command)
            {
                case "--version" or "version":
                    await output.WriteLineAsync($"transit-gate {Version} ({RuntimeInformation.RuntimeIdentifier}, .NET {Environment.Version})").ConfigureAwait(false);
                    return 0;
                case "--help" or "-h" or "help":
                    await output.WriteLineAsync(Usage).ConfigureAwait(false);
                    return 0;
                case "run":
                    return await RunAgentAsync(Option(options, "--config") ?? DefaultConfig, output).ConfigureAwait(false);
                case "journal":
                    return PrintJournal(Option(options, "--db") ?? throw new UsageException("journal needs --db FILE"), Option(options, "--from"), output);
                default:
                    throw new UsageException($"unknown command '{command}'");
            }
        }
        catch (UsageException ex)
        {
            await error.WriteLineAsync($"transit-gate: {ex.Message}\n{Usage}").ConfigureAwait(false);
            return 2;
        }
        catch (GateStartupException ex)
        {
            await error.WriteLineAsync($"transit-gate: {ex.Message}").ConfigureAwait(false);
            return 1;
        }
    }

    private static string Version =>
        typeof(GateCommandLine).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0";

    private static async Task<int> RunAgentAsync(string config, TextWriter output)
    {
        if (!File.Exists(config))
        {
            throw new GateStartupException($"configuration {config} does not exist (see /etc/transit-gate/appsettings.sample.json)");
        }

        using var stop = new CancellationTokenSource();
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Cancel);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Cancel);
        return await GateAgentHost.RunAsync(config, output, stop.Token).ConfigureAwait(false);

        void Cancel(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }
    }

    private static int PrintJournal(string path, string? from, TextWriter output)
    {
        if (!File.Exists(path))
        {
            throw new GateStartupException($"journal {path} does not exist");
        }

        var first = 0L;
        if (from is not null && !long.TryParse(from, System.Globalization.CultureInfo.InvariantCulture, out first))
        {
            throw new UsageException($"--from {from} is not a sequence number");
        }

        try
        {
            foreach (var record in TapJournal.ReadAll(path, first))
            {
                output.WriteLine(JsonSerializer.Serialize(record, DeviceApiJson.Wire.TapRecord));
            }
        }
        catch (Microsoft.Data.Sqlite.SqliteException ex)
        {
            throw new GateStartupException($"journal {path}: {ex.Message}", ex);
        }

        return 0;
    }

    private static string? Option(string[] options, string name)
    {
        for (var i = 0; i < options.Length; i++)
        {
            if (options[i] == name)
            {
                return i + 1 < options.Length ? options[i + 1] : throw new UsageException($"{name} needs a value");
            }

            if (options[i].StartsWith(name + "=", StringComparison.Ordinal))
            {
                return options[i][(name.Length + 1)..];
            }
        }

        return null;
    }

    private sealed class UsageException(string message) : Exception(message);
}
