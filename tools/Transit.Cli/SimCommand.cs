using System.CommandLine;
using System.Globalization;
using Transit.Clearing.Database;
using Transit.Cli.Simulation;
using Transit.Simulation;
using Transit.Simulation.Harness;

namespace Transit.Cli;

/// <summary>
/// <c>transit sim</c>: a rider population over the synthetic city (or a GTFS feed) plays service days through real
/// gate agents uploading to a real clearing server; each day is cleared, and the ground truth is written.
/// </summary>
internal static class SimCommand
{
    /// <summary>Options shared with <c>transit demo</c>.</summary>
    internal sealed class SizeOptions(int riders, int duration, int issuers = 1)
    {
        public Option<int> Riders { get; } = new("--riders") { Description = "Riders in the population", DefaultValueFactory = _ => riders };

        public Option<int> Gates { get; } = new("--gates") { Description = "Entry gates and exit gates per metro station", DefaultValueFactory = _ => 1 };

        public Option<int> Buses { get; } = new("--buses") { Description = "Validators (buses) per route", DefaultValueFactory = _ => 2 };

        public Option<double> Duration { get; } = new("--duration") { Description = "Seconds to play one day's taps in (sets the compression)", DefaultValueFactory = _ => duration };

        public Option<double?> Compression { get; } = new("--compression") { Description = "Simulated seconds per real second (instead of --duration)" };

        public Option<int> Seed { get; } = new("--seed") { Description = "Seed of the population and its days", DefaultValueFactory = _ => 1 };

        public Option<PopulationModel> Population { get; } = new("--population")
        {
            Description = "realistic (segments riding all day, docs/simulation.md) or commuters (home-work-home in the peaks only)",
            DefaultValueFactory = _ => PopulationModel.Realistic,
        };

        public Option<int> Issuers { get; } = new("--issuers")
        {
            Description = $"Issuers whose riders ride (1 to {SimulatedIssuers.Max}): the city app; a national wallet on SM2; a twin city's card; bank apps (docs/interoperability.md)",
            DefaultValueFactory = _ => issuers,
        };

        public IEnumerable<Option> All => [Riders, Gates, Buses, Duration, Compression, Seed, Population, Issuers];

        public SimulationSettings Read(ParseResult parsed, string data)
        {
            var settings = new SimulationSettings
            {
                Gate = CliApp.GateAgent,
                DataFolder = data,
                Riders = parsed.GetValue(Riders),
                GatesPerStation = parsed.GetValue(Gates),
                BusesPerRoute = parsed.GetValue(Buses),
                DayDuration = TimeSpan.FromSeconds(parsed.GetValue(Duration)),
                Compression = parsed.GetValue(Compression),
                Seed = parsed.GetValue(Seed),
                Population = parsed.GetValue(Population),
                Issuers = parsed.GetValue(Issuers),
            };
            if (settings.Riders < 1 || settings.GatesPerStation < 1 || settings.BusesPerRoute < 1 || settings.DayDuration <= TimeSpan.Zero || settings.Compression <= 0)
            {
                throw new CliException("--riders, --gates, --buses, --duration and --compression must be positive");
            }

            if (settings.Issuers is < 1 or > SimulatedIssuers.Max)
            {
                throw new CliException($"--issuers must be 1 to {SimulatedIssuers.Max} (got {settings.Issuers})");
            }

            if (settings.Issuers > 1 && settings.Riders > SimulatedIssuers.MaxRiders)
            {
                throw new CliException($"--riders may be at most {SimulatedIssuers.MaxRiders:N0} with other issuers: their riders' accounts must fit a code that names its issuer");
            }

            return settings;
        }
    }

    public static Command Create()
    {
        var sizes = new SizeOptions(riders: 1000, duration: 60);
        var feed = new Option<DirectoryInfo?>("--feed") { Description = "GTFS feed with trips and stop times (default: the built-in synthetic city)" };
        var days = new Option<int>("--days") { Description = "Service days to play, one after another", DefaultValueFactory = _ => 1 };
        var date = new Option<string?>("--date") { Description = "First service day (YYYY-MM-DD; default today's, or earlier so that the last day is at most tomorrow)" };
        var data = new Option<DirectoryInfo?>("--data") { Description = "Run folder, emptied first (default: .transit/sim of the repository)" };
        var db = new Option<string?>("--db") { Description = "PostgreSQL connection string of an empty database (default: an embedded cluster in the run folder)" };
        var truth = new Option<DirectoryInfo?>("--truth") { Description = "Where the ground truth goes (default: DATA/truth)" };
        var urls = new Option<string>("--urls") { Description = "URLs of clearing's API, ';'-separated", DefaultValueFactory = _ => "http://127.0.0.1:0" };
        var accuracy = new Option<bool>("--accuracy")
        {
            Description = "Only measure trip chaining against the ground truth, by segment and mode (no gates, no clearing; docs/analytics.md)",
        };
        var command = new Command("sim", "Play service days of a rider population through real gate agents and a real clearing server; write the ground truth")
        {
            feed, days, date, data, db, truth, urls, accuracy,
        };
        foreach (var option in sizes.All)
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parsed, cancellation) =>
        {
            var folder = parsed.GetValue(data)?.FullName ?? Path.Combine(ProjectPaths.DataFolder(), "sim");
            var settings = sizes.Read(parsed, folder) with
            {
                FeedDirectory = parsed.GetValue(feed)?.FullName,
                Days = parsed.GetValue(days),
                FirstDay = parsed.GetValue(date) is { } text ? ClearingCommands.ParseDate(text, "--date") : null,
                ConnectionString = parsed.GetValue(db),
                TruthFolder = parsed.GetValue(truth)?.FullName,
                ApiUrls = parsed.GetValue(urls)!.Split(';', StringSplitOptions.RemoveEmptyEntries),
            };
            if (settings.Days < 1)
            {
                throw new CliException("--days must be at least 1");
            }

            if (settings.FeedDirectory is { } feedFolder && !Directory.Exists(feedFolder))
            {
                throw new CliException($"--feed: {feedFolder} is not a folder");
            }

            if (parsed.GetValue(accuracy))
            {
                var first = settings.FirstDay ?? DateOnly.FromDateTime(DateTime.Now);
                Console.Write(ChainingAccuracy.Measure(CityRun.CityOf(settings), settings.Riders, settings.Seed, first, settings.Days).Format());
                return 0;
            }

            if (settings.Days > CityRun.MaxDays)
            {
                throw new CliException(
                    $"--days may be at most {CityRun.MaxDays}: each rider's one credential would otherwise be valid longer than the 7 days verifiers accept");
            }

            await RunFolder.PrepareFreshAsync(folder, cancellation);
            var progress = new SimulationProgress();
            var balanced = true;
            await using var run = await ProgressDisplay.RunAsync(progress, () => StartAsync(settings, progress, cancellation));
            foreach (var day in run.Days)
            {
                var (played, clearing) = await ProgressDisplay.RunAsync(progress, async () =>
                {
                    var played = await run.PlayDayAsync(day, progress, cancellation);
                    return (played, await run.ClearDayAsync(day, progress, cancellation));
                });
                balanced &= clearing.Balanced;
                Console.WriteLine();
                Console.Write(await DayReport.BuildAsync(run, played, clearing, cancellation));
            }

            Console.WriteLine();
            Console.WriteLine($"ground truth in {run.Truth.Folder} (docs/simulation.md); run folder {folder}");
            return balanced ? 0 : 1;
        });
        return command;
    }

    private static Task<CityRun> StartAsync(SimulationSettings settings, SimulationProgress progress, CancellationToken cancellation) =>
        CityRun.StartAsync(settings, progress, cancellation);

    /// <summary>A loopback URL on <paramref name="port"/> when it is free, else on any free port.</summary>
    internal static string LoopbackUrl(int port)
    {
        try
        {
            using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
            listener.Start();
            return string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}");
        }
        catch (System.Net.Sockets.SocketException)
        {
            return "http://127.0.0.1:0";
        }
    }
}
