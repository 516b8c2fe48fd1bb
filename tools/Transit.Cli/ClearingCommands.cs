using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Transit.Clearing;
using Transit.Clearing.Database;
using Transit.Clearing.Gtfs;
using Transit.Clearing.Jobs;
using Transit.Clearing.Settlement;
using Transit.Simulation.Harness;
using Transit.Clearing.Hosting;

namespace Transit.Cli;

/// <summary>Options every command that opens the clearing database shares.</summary>
internal sealed class DatabaseOptions
{
    public Option<string?> Db { get; } = new("--db") { Description = "PostgreSQL connection string (default: the embedded cluster under the data folder)", Recursive = true };

    public Option<DirectoryInfo?> Data { get; } = new("--data") { Description = "Data folder (default: .transit of the repository); the embedded cluster lives in DATA/pg", Recursive = true };

    public Option<DirectoryInfo?> Keys { get; } = new("--keys") { Description = "Operator key directory (default: DATA/keys)", Recursive = true };

    public void AddTo(Command command)
    {
        command.Options.Add(Db);
        command.Options.Add(Data);
        command.Options.Add(Keys);
    }

    public ClearingOptions Read(ParseResult parsed)
    {
        var data = parsed.GetValue(Data)?.FullName ?? ProjectPaths.DataFolder();
        return new ClearingOptions
        {
            ConnectionString = parsed.GetValue(Db),
            DataFolder = data,
            KeyDirectory = parsed.GetValue(Keys)?.FullName ?? Path.Combine(data, "keys"),
        };
    }
}

/// <summary><c>transit clearing</c>: run the back office, clear a day, read statements, import GTFS.</summary>
internal static class ClearingCommands
{
    public static Command Create()
    {
        var db = new DatabaseOptions();
        var clearing = new Command("clearing", "The clearing back office: ingest, journeys, charging and settlement");
        db.AddTo(clearing);
        clearing.Subcommands.Add(Serve(db));
        clearing.Subcommands.Add(RunDay(db));
        clearing.Subcommands.Add(Statement(db));
        clearing.Subcommands.Add(ImportGtfs(db));
        clearing.Subcommands.Add(Feeds(db));
        return clearing;
    }

    public static DateOnly ParseDate(string text, string option) =>
        DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day)
            ? day
            : throw new CliException($"{option}: '{text}' is not a date (YYYY-MM-DD)");

    private static Command Serve(DatabaseOptions db)
    {
        var urls = new Option<string>("--urls") { Description = "URLs of the operators' API, ';'-separated", DefaultValueFactory = _ => "http://localhost:8080" };
        var devicePort = new Option<int>("--device-port") { Description = "Port of the mutual-TLS device listener (0: any free port)", DefaultValueFactory = _ => 8443 };
        var noJobs = new Option<bool>("--no-jobs") { Description = "Do not run job workers in this process" };
        var command = new Command("serve", "Run the clearing service: operators' API, device API (mutual TLS) and job workers") { urls, devicePort, noJobs };
        command.SetAction(async (parsed, cancellation) =>
        {
            var options = db.Read(parsed);
            options.DevicePort = parsed.GetValue(devicePort);
            options.RunJobs = !parsed.GetValue(noJobs);
            await using var server = await RunningClearing.StartAsync(
                options, parsed.GetValue(urls)!.Split(';', StringSplitOptions.RemoveEmptyEntries), logToConsole: true, cancellation: cancellation);
            Console.WriteLine("clearing is running");
            foreach (var api in server.ApiUrls)
            {
                Console.WriteLine($"  API         {api}api");
            }

            Console.WriteLine($"  device API  {server.DeviceUrl}device/v1 (mutual TLS)");
            Console.WriteLine(server.Database.Embedded is { } pg
                ? $"  database    embedded PostgreSQL in {pg.Root} (port {pg.Port}{(pg.IsOwner ? "" : ", started by another process")})"
                : "  database    " + RedactPassword(server.Database.ConnectionString));
            Console.WriteLine($"  keys        {options.KeyDirectory}");
            Console.WriteLine($"  data        {options.DataFolder}");
            try
            {
                await server.App.WaitForShutdownAsync(cancellation);
            }
            catch (OperationCanceledException)
            {
            }

            return 0;
        });
        return command;
    }

    private static Command RunDay(DatabaseOptions db)
    {
        var date = new Option<string>("--date") { Description = "Service day to clear (YYYY-MM-DD)", Required = true };
        var command = new Command("run-day", "Close, price, charge and settle one service day now; exits 1 when its books do not balance") { date };
        command.SetAction(async (parsed, cancellation) =>
        {
            var day = ParseDate(parsed.GetValue(date)!, "--date");
            var options = db.Read(parsed);
            if (Environment.GetEnvironmentVariable("TRANSIT_CLEARING_PAUSE_AFTER_PART") is { Length: > 0 } pause)
            {
                options.PauseAfterPart = int.Parse(pause, CultureInfo.InvariantCulture);
            }

            if (Environment.GetEnvironmentVariable("TRANSIT_CLEARING_PAUSE_INSIDE_PART") is { Length: > 0 } inside)
            {
                options.PauseInsidePart = int.Parse(inside, CultureInfo.InvariantCulture);
            }

            options.PauseInsidePayments = Environment.GetEnvironmentVariable("TRANSIT_PAYMENTS_PAUSE_INSIDE") == "1";
            if (Environment.GetEnvironmentVariable("TRANSIT_PAYMENTS_LEDGER") is { Length: > 0 } ledger)
            {
                options.Payments.LedgerFile = ledger;
            }

            await using var services = await ClearingHost.BuildServicesAsync(options, LogLevel.Warning);
            await using var database = services.GetRequiredService<ClearingDatabase>();
            var summary = await DayRun.RunAsync(services, day, cancellation);
            Console.WriteLine(summary.Text);
            return summary.Balanced ? 0 : 1;
        });
        return command;
    }

    private static Command Statement(DatabaseOptions db)
    {
        var operatorId = new Option<string?>("--operator") { Description = "Operator (GTFS agency_id): its statement" };
        var issuerId = new Option<string?>("--issuer") { Description = "Issuer id: its riders' priced journeys and what it owes each operator ('home': the operator's own riders)" };
        var date = new Option<string>("--date") { Description = "Service day (YYYY-MM-DD)", Required = true };
        var format = new Option<string>("--format") { Description = "csv or json", DefaultValueFactory = _ => "csv" };
        format.AcceptOnlyFromAmong("csv", "json");
        var command = new Command("statement", "Print an operator's or an issuer's statement for a service day") { operatorId, issuerId, date, format };
        command.SetAction(async (parsed, cancellation) =>
        {
            var (op, issuer) = (parsed.GetValue(operatorId), parsed.GetValue(issuerId));
            if ((op is null) == (issuer is null))
            {
                throw new CliException("give either --operator or --issuer");
            }

            var day = ParseDate(parsed.GetValue(date)!, "--date");
            await using var services = await ClearingHost.BuildServicesAsync(db.Read(parsed));
            await using var database = services.GetRequiredService<ClearingDatabase>();
            var json = parsed.GetValue(format) == "json";
            if (issuer is not null)
            {
                var ofIssuer = await services.GetRequiredService<Transit.Clearing.Issuers.IssuerStatements>().ForAsync(issuer, day, cancellation)
                    ?? throw new CliException($"--issuer '{issuer}' is not registered ('transit issuers list')", CliApp.NotFound);
                Console.Write(json ? Json(ofIssuer) : ofIssuer.ToCsv());
                return 0;
            }

            var statement = await services.GetRequiredService<Statements>().ForAsync(op!, day, cancellation)
                ?? throw new CliException($"--operator '{op}' is not an agency_id of the imported GTFS feed", CliApp.NotFound);
            Console.Write(json ? Json(statement) : statement.ToCsv());
            return 0;
        });
        return command;
    }

    private static string Json<T>(T value) =>
        System.Text.Json.JsonSerializer.Serialize(value, new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web) { WriteIndented = true }) + "\n";

    private static Command ImportGtfs(DatabaseOptions db)
    {
        var feed = new Option<DirectoryInfo>("--feed") { Description = "GTFS folder (with Fares v2 files)", Required = true };
        var validFrom = new Option<string?>("--valid-from") { Description = "First service day the feed applies to (YYYY-MM-DD; default: today in the feed's time zone)" };
        var command = new Command("import-gtfs", "Import a GTFS feed: operators, routes, stops and fare rules, versioned by date") { feed, validFrom };
        command.SetAction(async (parsed, cancellation) =>
        {
            DateOnly? from = parsed.GetValue(validFrom) is { } text ? ParseDate(text, "--valid-from") : null;
            await using var services = await ClearingHost.BuildServicesAsync(db.Read(parsed));
            await using var database = services.GetRequiredService<ClearingDatabase>();
            var result = await services.GetRequiredService<GtfsImporter>().ImportAsync(parsed.GetValue(feed)!.FullName, from, cancellation);
            Console.WriteLine($"feed {result.FeedId} valid from {result.ValidFrom:yyyy-MM-dd}: {result.OperatorIds.Count} operators ({string.Join(", ", result.OperatorIds)}), {result.Routes} routes, {result.Stops} stops");
            foreach (var warning in result.Warnings ?? [])
            {
                await Console.Error.WriteLineAsync(warning);
            }

            return 0;
        });
        return command;
    }

    private static Command Feeds(DatabaseOptions db)
    {
        var command = new Command("feeds", "List the imported GTFS feeds: which applies from when, and which is in force today");
        command.SetAction(async (parsed, cancellation) =>
        {
            await using var services = await ClearingHost.BuildServicesAsync(db.Read(parsed));
            await using var database = services.GetRequiredService<ClearingDatabase>();
            var feeds = await services.GetRequiredService<GtfsImporter>().ListAsync(cancellation);
            if (feeds.Count == 0)
            {
                throw new CliException("no GTFS feed is imported yet: run 'transit clearing import-gtfs --feed DIR'", CliApp.NotFound);
            }

            Console.WriteLine("feed\tvalid_from\tstate\timported_at\tsha256\tsource");
            foreach (var f in feeds)
            {
                Console.WriteLine(string.Join('\t', f.FeedId.ToString(CultureInfo.InvariantCulture), f.ValidFrom.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), f.State,
                    f.ImportedAt.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture), f.Sha256[..16], f.Source));
            }

            return 0;
        });
        return command;
    }

    private static string RedactPassword(string connectionString) =>
        new Npgsql.NpgsqlConnectionStringBuilder(connectionString) { Password = null }.ConnectionString;
}
