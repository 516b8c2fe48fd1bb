using System.CommandLine;
using Transit.RideCodes;
using Transit.RideCodes.KeyStore;

namespace Transit.Cli;

/// <summary>The <c>transit</c> command: one subcommand per area, a shared error convention.</summary>
internal static class CliApp
{
    /// <summary>Exit status for a usage error or an unreadable input file.</summary>
    public const int UsageError = 2;

    /// <summary>Exit status when what the command names (an operator, a stop, a token id) does not exist.</summary>
    public const int NotFound = 3;

    public static async Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand("Transit: offline QR-code fare collection — keys, codes, fares, gates, clearing, simulation.");
        foreach (var command in Areas())
        {
            root.Subcommands.Add(command);
        }

        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors)
            {
                await Console.Error.WriteLineAsync($"transit: {error.Message}");
            }

            await Console.Error.WriteLineAsync($"run 'transit {string.Join(' ', CommandPath(parsed))} --help' for usage");
            return UsageError;
        }

        try
        {
            // Long enough for the demo to stop its gate agents and PostgreSQL, and for a gate to finish its last commit.
            return await parsed.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = TimeSpan.FromSeconds(60) });
        }
        catch (Transit.Clearing.Access.UnknownReferenceException ex)
        {
            await Console.Error.WriteLineAsync($"transit: {ex.Message}");
            return NotFound;
        }
        catch (Exception ex) when (ex is CliException or Transit.Simulation.Harness.SimulationException or KeyDirectoryException or TrustDocumentException or Transit.Clearing.Devices.DeviceRegistrationException or Transit.Clearing.Gtfs.GtfsImportException or Npgsql.NpgsqlException)
        {
            await Console.Error.WriteLineAsync($"transit: {ex.Message}");
            return ex switch
            {
                CliException cli => cli.ExitCode,
                Transit.Simulation.Harness.SimulationException run => run.ExitCode,
                _ => UsageError,
            };
        }
        catch (OperationCanceledException)
        {
            await Console.Error.WriteLineAsync("transit: interrupted");
            return 130;
        }
    }

    /// <summary>This program's <c>transit gate run</c>: the gate agents a simulation or the demo starts.</summary>
    public static Transit.Simulation.Harness.GateCommand GateAgent =>
        Transit.Simulation.Harness.GateCommand.Transit(typeof(CliApp).Assembly.Location);

    private static IEnumerable<Command> Areas() =>
    [
        KeysCommands.Create(),
        DenyCommands.Create(),
        CodesCommands.Create(),
        FaresCommands.Create(),
        DemoCommand.Create(),
        SimCommand.Create(),
        ClearingCommands.Create(),
        IssuersCommands.Create(),
        AnalyticsCommands.Create(),
        DevicesCommands.Create(),
        OperatorsCommand.Create(),
        TokensCommands.Create(),
        GateCommands.Create(),
        BenchCommands.Create(),
    ];

    private static IEnumerable<string> CommandPath(ParseResult parsed)
    {
        var names = new Stack<string>();
        for (var result = parsed.CommandResult; result.Parent is System.CommandLine.Parsing.CommandResult parent; result = parent)
        {
            names.Push(result.Command.Name);
        }

        return names;
    }
}

/// <summary>An error the user can fix; the message names what is wrong and where.</summary>
internal sealed class CliException(string message, int exitCode = CliApp.UsageError) : Exception(message)
{
    public int ExitCode { get; } = exitCode;

    /// <summary>
    /// A library's refusal of an argument as the user's error, in the library's words: without the
    /// " (Parameter 'name')" .NET appends, which names a C# parameter the user never typed.
    /// </summary>
    public static CliException From(ArgumentException refusal, string? option = null)
    {
        var message = refusal.ParamName is null ? refusal.Message : refusal.Message.Replace($" (Parameter '{refusal.ParamName}')", "", StringComparison.Ordinal);
        return new CliException(option is null ? message : $"{option}: {message}");
    }
}
