using System.CommandLine;
using System.Text.Json;
using Transit.GateAgent;
using Transit.GateAgent.Journal;
using Transit.DeviceApi;

namespace Transit.Cli;

/// <summary><c>transit gate run|journal</c>: the gate agent in-process, and its journal as JSON lines.</summary>
internal static class GateCommands
{
    public static Command Create()
    {
        var gate = new Command("gate", "Run the gate agent (metro gate or bus validator) and read its tap journal");

        var config = new Option<FileInfo>("--config") { Description = "Gate settings (JSON; see gate-agent/deploy/appsettings.sample.json)", Required = true, HelpName = "FILE" };
        var run = new Command("run", "Run the gate agent until Ctrl+C or SIGTERM; prints one 'ready {json}' line on standard output, logs on standard error") { config };
        run.SetAction(async (parsed, cancellation) =>
        {
            try
            {
                return await GateAgentHost.RunAsync(parsed.GetValue(config)!.FullName, Console.Out, cancellation);
            }
            catch (GateStartupException ex)
            {
                throw new CliException($"gate: {ex.Message}");
            }
        });
        gate.Subcommands.Add(run);

        var db = new Option<FileInfo>("--db") { Description = "The journal database (Journal:Path)", Required = true, HelpName = "FILE" };
        var from = new Option<long>("--from") { Description = "First sequence number to print", DefaultValueFactory = _ => 0 };
        var journal = new Command("journal", "Print the tap journal as JSON lines (the device API's tap fields plus 'uploaded')") { db, from };
        journal.SetAction(parsed =>
        {
            var path = parsed.GetValue(db)!.FullName;
            if (!File.Exists(path))
            {
                throw new CliException($"journal {path} does not exist");
            }

            using var output = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = false };
            try
            {
                foreach (var record in TapJournal.ReadAll(path, parsed.GetValue(from)))
                {
                    output.WriteLine(JsonSerializer.Serialize(record, DeviceApiJson.Wire.TapRecord));
                }
            }
            catch (Microsoft.Data.Sqlite.SqliteException ex)
            {
                throw new CliException($"journal {path}: {ex.Message}");
            }

            return 0;
        });
        gate.Subcommands.Add(journal);
        return gate;
    }
}
