using System.CommandLine;
using System.Globalization;
using System.Text;
using Transit.Analytics.Exports;
using Transit.FareRules;

namespace Transit.Cli;

/// <summary><c>transit fares</c>: check a GTFS Fares v2 feed, price journeys with it (and apply caps).</summary>
internal static class FaresCommands
{
    public static Command Create()
    {
        var fares = new Command("fares", "Check GTFS Fares v2 feeds and price journeys with them");
        fares.Subcommands.Add(Check());
        fares.Subcommands.Add(Price());
        return fares;
    }

    private static Command Check()
    {
        var feed = CliParsing.DirectoryOption("--feed", "GTFS feed directory");
        var command = new Command("check", "Report every problem of a feed with file, line and code; exit 1 when there are errors") { feed };
        command.SetAction(parsed =>
        {
            var loaded = LoadFeed(parsed.GetValue(feed)!);
            var output = Console.Out;
            foreach (var notice in loaded.Report.Notices)
            {
                output.WriteLine(notice.ToString());
            }

            output.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"{loaded.Report.ErrorCount} error(s), {loaded.Report.WarningCount} warning(s): {loaded.FareLegRules.Count} leg rules, {loaded.FareTransferRules.Count} transfer rules, {loaded.FareProducts.Count} products, {loaded.FareCaps.Count} caps"));
            return loaded.Report.HasErrors ? 1 : 0;
        });
        return command;
    }

    private static Command Price()
    {
        var feed = CliParsing.DirectoryOption("--feed", "GTFS feed directory");
        var legsFile = new Option<FileInfo>("--legs")
        {
            Description = "Legs CSV: journey_id,rider_id,rider_category,fare_media,route_id,from_stop_id,to_stop_id,start,end",
            Required = true,
            HelpName = "FILE",
        };
        var caps = new Option<bool>("--caps") { Description = "Apply the feed's fare_caps.txt across each rider's journeys and add a 'charged' column" };
        var maxFares = new Option<string[]>("--max-fare")
        {
            Description = "Fare for an incomplete journey on a network, NETWORK=AMOUNT in major units (repeatable); default: the network's dearest product",
            HelpName = "NETWORK=AMOUNT",
            AllowMultipleArgumentsPerToken = false,
        };
        var fallback = new Option<bool>("--category-fallback") { Description = "Charge the default rider category's product when the rider's category has none" };
        var command = new Command("price", "Price journeys and print journey_id,rider_id,amount,currency,products,flags[,charged] as CSV")
        {
            feed, legsFile, caps, maxFares, fallback,
        };
        command.SetAction(parsed =>
        {
            var loaded = LoadFeed(parsed.GetValue(feed)!);
            var currency = loaded.Currency ?? "XXX";
            var options = new PricingOptions
            {
                MaximumFares = ParseMaximumFares(parsed.GetValue(maxFares) ?? [], currency, loaded),
                FallBackToDefaultCategory = parsed.GetValue(fallback),
            };
            var path = parsed.GetValue(legsFile)!.FullName;
            IReadOnlyList<RiderJourney> journeys;
            try
            {
                journeys = LegsFile.Parse(CliParsing.ReadInputFile(path, "legs file"), loaded);
            }
            catch (LegsFileException ex)
            {
                throw new CliException($"{path}: {ex.Message}");
            }

            var engine = new FareEngine(loaded, options);
            var fares = journeys.Select(j => engine.Price(j.Legs)).ToArray();
            var charged = parsed.GetValue(caps) ? ApplyCaps(loaded, journeys, fares) : null;
            Console.Out.Write(Format(journeys, fares, charged));
            return 0;
        });
        return command;
    }

    /// <summary>The CSV output: one row per journey in input order (ids from the legs file are text, neutralised by <see cref="Csv"/>).</summary>
    internal static string Format(IReadOnlyList<RiderJourney> journeys, IReadOnlyList<JourneyFare> fares, IReadOnlyList<long>? charged)
    {
        string[] header = ["journey_id", "rider_id", "amount", "currency", "products", "flags"];
        var output = Csv.Append(new StringBuilder(), charged is null ? header : [.. header, "charged"]);
        for (var i = 0; i < journeys.Count; i++)
        {
            var fare = fares[i];
            var products = string.Join(';', fare.Legs.Select(l => string.Join('+', new[] { l.FareProductId, l.TransferProductId }.OfType<string>())));
            object?[] fields = [journeys[i].JourneyId, journeys[i].RiderId, new CsvNumber(fare.FormatTotal()), fare.Currency, products, FlagNames(fare.Flags)];
            Csv.Append(output, charged is null ? fields : [.. fields, new CsvNumber(Currencies.Format(charged[i], fare.Currency))]);
        }

        return output.ToString();
    }

    /// <summary>The journey flags as snake_case names joined by ';' (joined and transfer are informative and left out).</summary>
    internal static string FlagNames(FareFlags flags)
    {
        (FareFlags Flag, string Name)[] names =
        [
            (FareFlags.Unpriced, "unpriced"),
            (FareFlags.Incomplete, "incomplete"),
            (FareFlags.MissingEntry, "missing_entry"),
            (FareFlags.MissingExit, "missing_exit"),
            (FareFlags.CategoryFallback, "category_fallback"),
            (FareFlags.UnknownReference, "unknown_reference"),
        ];
        return string.Join(';', names.Where(n => (flags & n.Flag) != 0).Select(n => n.Name));
    }

    private static long[] ApplyCaps(FareFeed feed, IReadOnlyList<RiderJourney> journeys, JourneyFare[] fares)
    {
        var calculator = new FareCapCalculator(feed);
        var charged = new long[fares.Length];
        foreach (var rider in Enumerable.Range(0, journeys.Count).GroupBy(i => journeys[i].RiderId, StringComparer.Ordinal))
        {
            var ordered = rider.OrderBy(i => fares[i].Start).ToArray();
            var results = calculator.Apply([.. ordered.Select(i => fares[i])]);
            for (var k = 0; k < ordered.Length; k++)
            {
                charged[ordered[k]] = results[k].Charged;
            }
        }

        return charged;
    }

    private static Dictionary<string, long> ParseMaximumFares(string[] values, string currency, FareFeed feed)
    {
        var result = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var value in values)
        {
            var parts = value.Split('=', 2);
            if (parts.Length != 2 || parts[0].Length == 0)
            {
                throw new CliException($"--max-fare: '{value}' is not NETWORK=AMOUNT");
            }

            if (!feed.Networks.ContainsKey(parts[0]))
            {
                throw new CliException($"--max-fare: network '{parts[0]}' is not in the feed");
            }

            if (!Currencies.TryParseAmount(parts[1], currency, out var amount, out var error) || amount < 0)
            {
                throw new CliException($"--max-fare {value}: {error ?? "the amount must not be negative"}");
            }

            result[parts[0]] = amount;
        }

        return result;
    }

    private static FareFeed LoadFeed(DirectoryInfo directory)
    {
        try
        {
            return FareFeed.Load(directory.FullName);
        }
        catch (DirectoryNotFoundException ex)
        {
            throw new CliException(ex.Message);
        }
        catch (IOException ex)
        {
            throw new CliException($"cannot read feed {directory.FullName}: {ex.Message}");
        }
    }

}
