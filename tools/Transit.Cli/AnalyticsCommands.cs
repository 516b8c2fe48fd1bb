using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Transit.Analytics.Exports;
using Transit.Analytics.Rollups;
using Transit.Analytics.Store;
using Transit.Clearing;
using Transit.Clearing.Analytics;
using Transit.Clearing.Database;
using Transit.Clearing.Hosting;

namespace Transit.Cli;

/// <summary><c>transit analytics</c>: bring rollups up to date now, and write the standard exports (docs/analytics.md).</summary>
internal static class AnalyticsCommands
{
    public static Command Create()
    {
        var db = new DatabaseOptions();
        var analytics = new Command("analytics", "Ridership analytics: rollups, and TIDES and GTFS-ride exports");
        db.AddTo(analytics);
        analytics.Subcommands.Add(Refresh(db));
        analytics.Subcommands.Add(Export(db));
        return analytics;
    }

    private static Command Refresh(DatabaseOptions db)
    {
        var date = new Option<string>("--date") { Description = "Service day (YYYY-MM-DD)", Required = true };
        var full = new Option<bool>("--full") { Description = "Every rider-day, as when the day closes (default: taps received since the last refresh)" };
        var command = new Command("refresh", "Bring a day's rollups up to date now (the analytics-refresh or analytics-close-day job)") { date, full };
        command.SetAction(async (parsed, cancellation) =>
        {
            var day = ClearingCommands.ParseDate(parsed.GetValue(date)!, "--date");
            await using var services = await ClearingHost.BuildServicesAsync(db.Read(parsed), LogLevel.Warning);
            await using var database = services.GetRequiredService<ClearingDatabase>();
            var kind = parsed.GetValue(full) ? AnalyticsJobs.CloseDay : AnalyticsJobs.Refresh;
            Console.WriteLine(await services.GetRequiredService<AnalyticsJobs>().ExecuteAsync(kind, day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), cancellation));
            return 0;
        });
        return command;
    }

    private static Command Export(DatabaseOptions db)
    {
        var from = new Option<string>("--from") { Description = "First service day (YYYY-MM-DD)", Required = true };
        var to = new Option<string?>("--to") { Description = "Last service day (default: --from)" };
        var output = new Option<DirectoryInfo>("--out") { Description = "Folder to write the files into", Required = true };
        var role = new Option<string>("--as") { Description = "planner (aggregates, small cells withheld), operator (with --operator) or admin (everything, with TIDES fare_transactions and GTFS-ride rider_trip)", DefaultValueFactory = _ => "planner" };
        var operatorId = new Option<string?>("--operator") { Description = "The operator, for --as operator" };
        var command = new Command("export", "Write GTFS-ride board_alight.txt, ridership.txt, ride_feed_info.txt and TIDES station_activities.csv (and fare_transactions.csv and rider_trip.txt for admins)")
        {
            from, to, output, role, operatorId,
        };
        command.SetAction(async (parsed, cancellation) =>
        {
            var first = ClearingCommands.ParseDate(parsed.GetValue(from)!, "--from");
            var last = parsed.GetValue(to) is { } text ? ClearingCommands.ParseDate(text, "--to") : first;
            var audience = parsed.GetValue(role)!;
            if (audience is not ("planner" or "operator" or "admin") || (audience == "operator") != (parsed.GetValue(operatorId) is not null) || last < first)
            {
                throw new CliException("--as is planner, operator (with --operator) or admin, and --to is not before --from");
            }

            var options = db.Read(parsed);
            await using var services = await ClearingHost.BuildServicesAsync(options, LogLevel.Warning);
            await using var database = services.GetRequiredService<ClearingDatabase>();
            var analytics = ClearingAnalytics.Options(options, services.GetRequiredService<ServiceCalendar>());
            var filter = new AnalyticsFilter(first, last) { Operator = parsed.GetValue(operatorId) };
            var files = await new StandardExports(analytics.Analytics, analytics.Currency).ForAudienceAsync(
                Enum.Parse<ExportAudience>(audience, ignoreCase: true),
                services.GetRequiredService<IRollupReader>(),
                filter,
                analytics.FeedVersion,
                c => services.GetRequiredService<AnalyticsJobs>().RiderLevelAsync(first, last, c),
                cancellation);

            var folder = parsed.GetValue(output)!;
            folder.Create();
            foreach (var file in files)
            {
                await File.WriteAllTextAsync(Path.Combine(folder.FullName, file.Name), file.Content, cancellation);
                Console.WriteLine($"{file.Name}: {file.Content.Count(c => c == '\n') - 1} rows");
            }

            return 0;
        });
        return command;
    }
}
