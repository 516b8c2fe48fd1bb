using System.Globalization;
using Transit.Analytics.Privacy;
using Transit.Analytics.Rollups;

namespace Transit.Analytics.Exports;

/// <summary>One fare transaction (an accepted tap) for TIDES <c>fare_transactions</c>.</summary>
public sealed record FareTransaction(
    string TransactionId,
    DateOnly ServiceDate,
    DateTimeOffset At,
    long AmountMinor,
    TapKind Kind,
    bool Transfer,
    string? DeviceId,
    string? StopId,
    string? PatternId,
    int? StopSequence,
    string? Category,
    string? Product,
    long Rider);

/// <summary>A file of an export bundle.</summary>
public sealed record ExportFile(string Name, string Content);

/// <summary>A cell that an export withheld, listed in the bundle's <c>suppressed.txt</c>.</summary>
public sealed record SuppressedCell(string File, string Key);

/// <summary>
/// Builds the TIDES and GTFS-ride files from rollup cells (aggregates) and, for fare_transactions, from taps.
/// For planners (a suppression policy given), cells of fewer than k distinct riders are left out of the standard
/// files, whose columns stay exactly as the standards define them, and listed in <c>suppressed.txt</c>.
/// </summary>
public sealed class StandardExports(AnalyticsOptions options, string currency, int currencyDigits = 2)
{
    /// <summary>TIDES fare_transactions: rider-level, so never for planners; the token is the pseudonym.</summary>
    public string FareTransactions(IEnumerable<FareTransaction> transactions)
    {
        string[] columns = ["transaction_id", "service_date", "event_timestamp", "amount", "currency_type", "fare_action", "pattern_id", "stop_sequence", "device_id", "stop_id", "num_riders", "fare_media_id", "rider_category", "fare_product", "token_id"];
        return CsvOut.Write(ExportSpecs.TidesFareTransactions, columns, transactions.OrderBy(t => t.At).ThenBy(t => t.TransactionId, StringComparer.Ordinal).Select(t => (IReadOnlyList<object?>)
        [
            t.TransactionId, t.ServiceDate, t.At, Major(t.AmountMinor), currency, FareAction(t), t.PatternId, t.StopSequence, t.DeviceId, t.StopId, 1,
            ExportSpecs.TidesFareMedia[ExportSpecs.OpticalScan], t.Category, t.Product, Pseudonymizer.Text(t.Rider),
        ]));
    }

    /// <summary>TIDES station_activities: accepted metro entries and exits per station and hour.</summary>
    public string StationActivities(IEnumerable<KeyValuePair<CellKey, CellValue>> cells, SmallCellPolicy? policy, List<SuppressedCell> suppressed)
    {
        var rows = RollupQuery.Aggregate(
            cells,
            k => k.Table == RollupTable.Taps && k.Reason == "ok" && k.Mode is "metro-entry" or "metro-exit",
            k => (k.Day, k.Stop, k.Hour),
            policy);
        var entries = EntriesExits(cells);
        var spec = ExportSpecs.TidesStationActivities;
        suppressed.AddRange(rows.Where(r => r.Suppressed).Select(r => new SuppressedCell(spec.FileName, $"{r.Key.Day:yyyy-MM-dd} {r.Key.Stop} {r.Key.Hour:D2}:00")));
        string[] columns = ["date", "stop_id", "time_period_start", "time_period_end", "time_period_category", "total_entries", "total_exits", "number_of_transactions", "transaction_count_5"];
        return CsvOut.Write(spec, columns, rows.Where(r => !r.Suppressed).OrderBy(r => r.Key).Select(r =>
        {
            var (start, end) = HourPeriod(r.Key.Day, r.Key.Hour);
            var (entered, exited) = entries.GetValueOrDefault(r.Key);
            return (IReadOnlyList<object?>)[r.Key.Day, r.Key.Stop, start, end, PeriodCategory(r.Key.Hour), entered, exited, r.Measures.M0, r.Measures.M0];
        }));
    }

    /// <summary>GTFS-ride board_alight.txt: boardings (fare collection) and chained alightings (estimated) per trip and stop.</summary>
    public string BoardAlight(IEnumerable<KeyValuePair<CellKey, CellValue>> cells, SmallCellPolicy? policy, List<SuppressedCell> suppressed)
    {
        var spec = ExportSpecs.GtfsRideBoardAlight;
        var rows = RollupQuery.Aggregate(cells, k => k.Table == RollupTable.TripStop, k => (k.Trip, k.Stop, k.Value, k.Day), policy);
        suppressed.AddRange(rows.Where(r => r.Suppressed).Select(r => new SuppressedCell(spec.FileName, $"{r.Key.Day:yyyyMMdd} {r.Key.Trip} {r.Key.Stop} {r.Key.Value}")));
        string[] columns = ["trip_id", "stop_id", "stop_sequence", "record_use", "boardings", "alightings", "service_date", "source"];
        return CsvOut.Write(spec, columns, rows.Where(r => !r.Suppressed).OrderBy(r => r.Key.Day).ThenBy(r => r.Key.Trip, StringComparer.Ordinal).ThenBy(r => r.Key.Value).Select(r => (IReadOnlyList<object?>)
        [
            r.Key.Trip, r.Key.Stop, r.Key.Value, 0, r.Measures.M0, r.Measures.M1, r.Key.Day,
            // 4 = mixed source: boardings from fare collection, alightings estimated by trip chaining.
            r.Measures.M1 > 0 ? 4 : 2,
        ]));
    }

    /// <summary>
    /// GTFS-ride ridership.txt for the period: per agency and route (boardings; every boarding alights, so the two
    /// totals are equal) and per route and stop (boardings and the alightings known exactly or by chaining).
    /// </summary>
    public string Ridership(IEnumerable<KeyValuePair<CellKey, CellValue>> cells, DateOnly from, DateOnly to, SmallCellPolicy? policy, List<SuppressedCell> suppressed)
    {
        var spec = ExportSpecs.GtfsRideRidership;
        var list = cells as ICollection<KeyValuePair<CellKey, CellValue>> ?? [.. cells];
        var routes = RollupQuery.Aggregate(list, k => k.Table == RollupTable.StopHour, k => (k.Operator, k.Route), policy);
        var stops = RollupQuery.Aggregate(list, k => k.Table == RollupTable.StopHour, k => (k.Operator, k.Route, k.Stop), policy);
        suppressed.AddRange(routes.Where(r => r.Suppressed).Select(r => new SuppressedCell(spec.FileName, $"{r.Key.Operator} {r.Key.Route}")));
        suppressed.AddRange(stops.Where(r => r.Suppressed).Select(r => new SuppressedCell(spec.FileName, $"{r.Key.Operator} {r.Key.Route} {r.Key.Stop}")));
        string[] columns = ["total_boardings", "total_alightings", "ridership_start_date", "ridership_end_date", "agency_id", "route_id", "stop_id"];
        var rows = routes.Where(r => !r.Suppressed).OrderBy(r => r.Key).Select(r => (IReadOnlyList<object?>)
            [r.Measures.M0, r.Measures.M0, from, to, r.Key.Operator, Blank(r.Key.Route), null])
            .Concat(stops.Where(r => !r.Suppressed && r.Key.Stop.Length > 0).OrderBy(r => r.Key).Select(r => (IReadOnlyList<object?>)
            [r.Measures.M0, r.Measures.M1, from, to, r.Key.Operator, Blank(r.Key.Route), r.Key.Stop]));
        return CsvOut.Write(spec, columns, rows);
    }

    public static string RideFeedInfo(DateOnly from, DateOnly to, string currency, string? version) =>
        CsvOut.Write(
            ExportSpecs.GtfsRideFeedInfo,
            ["ride_files", "ride_start_date", "ride_end_date", "default_currency_type", "ride_feed_version"],
            [[4, from, to, currency, version]]);

    public static string Suppressed(IEnumerable<SuppressedCell> cells, int k) =>
        "file,cell,reason\n" + string.Concat(cells.Select(c => $"{c.File},\"{c.Key}\",fewer than {k.ToString(CultureInfo.InvariantCulture)} distinct riders\n"));

    /// <summary>The whole bundle: GTFS-ride files and TIDES station_activities (aggregates, suppressed for planners).</summary>
    public IReadOnlyList<ExportFile> Bundle(IReadOnlyCollection<KeyValuePair<CellKey, CellValue>> cells, DateOnly from, DateOnly to, SmallCellPolicy? policy, string? version)
    {
        var suppressed = new List<SuppressedCell>();
        List<ExportFile> files =
        [
            new(ExportSpecs.GtfsRideBoardAlight.FileName, BoardAlight(cells, policy, suppressed)),
            new(ExportSpecs.GtfsRideRidership.FileName, Ridership(cells, from, to, policy, suppressed)),
            new(ExportSpecs.GtfsRideFeedInfo.FileName, RideFeedInfo(from, to, currency, version)),
            new(ExportSpecs.TidesStationActivities.FileName, StationActivities(cells, policy, suppressed)),
        ];
        if (policy is not null)
        {
            files.Add(new ExportFile("suppressed.txt", Suppressed(suppressed, policy.K)));
        }

        return files;
    }

    private static Dictionary<(DateOnly, string, short), (long Entries, long Exits)> EntriesExits(IEnumerable<KeyValuePair<CellKey, CellValue>> cells)
    {
        var result = new Dictionary<(DateOnly, string, short), (long, long)>();
        foreach (var (key, value) in cells)
        {
            if (key.Table == RollupTable.Taps && key.Reason == "ok" && key.Mode is "metro-entry" or "metro-exit")
            {
                var (entries, exits) = result.GetValueOrDefault((key.Day, key.Stop, key.Hour));
                result[(key.Day, key.Stop, key.Hour)] = key.Mode == "metro-entry" ? (entries + value.Measures.M0, exits) : (entries, exits + value.Measures.M0);
            }
        }

        return result;
    }

    private (DateTimeOffset Start, DateTimeOffset End) HourPeriod(DateOnly day, int hour)
    {
        var local = day.ToDateTime(new TimeOnly(hour, 0));
        var start = new DateTimeOffset(local, options.TimeZone.GetUtcOffset(local));
        return (start, start.AddHours(1));
    }

    private static string PeriodCategory(int hour) => hour is >= 7 and < 10 or >= 16 and < 19 ? "Peak" : "Off-peak";

    private static string FareAction(FareTransaction t) => t.Kind switch
    {
        TapKind.MetroExit => "Exit",
        _ when t.Transfer => "Transfer entrance",
        _ => "Enter",
    };

    private decimal Major(long minor) => minor / (decimal)Math.Pow(10, currencyDigits);

    private static string? Blank(string value) => value.Length == 0 ? null : value;

    /// <summary>Fare transactions of a rider-day: its accepted taps, the boarding taps marked as transfers by its legs.</summary>
    public static IEnumerable<FareTransaction> TransactionsOf(RiderDay day, Func<AnalyticsTap, long>? amountOf = null)
    {
        var transferBoardings = day.Legs.Where(l => l.IsTransfer).Select(l => l.BoardedAt).ToHashSet();
        var legsByBoarding = day.Legs.GroupBy(l => l.BoardedAt).ToDictionary(g => g.Key, g => g.First());
        return day.Taps.Where(t => t.Accepted).Select(t =>
        {
            var leg = t.Kind != TapKind.MetroExit ? legsByBoarding.GetValueOrDefault(t.At) : null;
            return new FareTransaction(
                t.DeviceId is null ? $"{Pseudonymizer.Text(t.Rider)}-{t.At.ToUnixTimeMilliseconds()}" : $"{t.DeviceId}-{t.Sequence}",
                day.Day, t.At, amountOf?.Invoke(t) ?? 0, t.Kind, transferBoardings.Contains(t.At) && t.Kind != TapKind.MetroExit,
                t.DeviceId, t.StopId, leg?.PatternId, leg?.BoardSequence, t.Category, null, t.Rider);
        });
    }
}
