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

/// <summary>A cell that an export withheld, listed in the bundle's <c>suppressed.txt</c>; a reason for complementary cells.</summary>
public sealed record SuppressedCell(string File, string Key, string? Reason = null);

/// <summary>
/// Builds the TIDES and GTFS-ride files from rollup cells (aggregates) and, for fare_transactions, from taps.
/// For planners (a suppression policy given), cells of fewer than k distinct riders are left out of the standard
/// files, whose columns stay exactly as the standards define them, and listed in <c>suppressed.txt</c>.
/// </summary>
public sealed class StandardExports(AnalyticsOptions options, string currency, int currencyDigits = 2)
{
    /// <summary>Why a cell of k or more riders is withheld: otherwise a total less the shown cells would give a small one.</summary>
    public const string ComplementaryReason = "complementary: withheld so that a small cell of the same total cannot be derived";

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
    public async Task<string> StationActivitiesAsync(IRollupReader reader, AnalyticsFilter filter, SmallCellPolicy? policy, List<SuppressedCell> suppressed, CancellationToken cancellation)
    {
        var spec = ExportSpecs.TidesStationActivities;
        var gates = filter with { Mode = RollupProjection.Metro, Reason = "ok" };
        var rows = await reader.GroupAsync(RollupTable.Taps, gates, [Dimension.Day, Dimension.Stop, Dimension.Hour], cancellation);
        var byMode = (await reader.GroupAsync(RollupTable.Taps, gates, [Dimension.Day, Dimension.Stop, Dimension.Hour, Dimension.Mode], cancellation))
            .ToDictionary(r => string.Join(' ', r.Key), r => r.Measures.M0, StringComparer.Ordinal);
        var shown = Shown(spec, rows, policy, suppressed);
        string[] columns = ["date", "stop_id", "time_period_start", "time_period_end", "time_period_category", "total_entries", "total_exits", "number_of_transactions", "transaction_count_5"];
        return CsvOut.Write(spec, columns, shown.Select(r => (Day: DateOnly.Parse(r.Key[0], CultureInfo.InvariantCulture), Stop: r.Key[1], Hour: int.Parse(r.Key[2], CultureInfo.InvariantCulture), Row: r))
            .OrderBy(r => r.Day).ThenBy(r => r.Stop, StringComparer.Ordinal).ThenBy(r => r.Hour)
            .Select(r =>
            {
                var (start, end) = HourPeriod(r.Day, r.Hour);
                var key = string.Join(' ', r.Row.Key);
                return (IReadOnlyList<object?>)
                [
                    r.Day, r.Stop, start, end, PeriodCategory(r.Hour), byMode.GetValueOrDefault(key + " metro-entry"), byMode.GetValueOrDefault(key + " metro-exit"),
                    r.Row.Measures.M0, r.Row.Measures.M0,
                ];
            }));
    }

    /// <summary>GTFS-ride board_alight.txt: boardings (fare collection) and chained alightings (estimated) per trip and stop.</summary>
    public static async Task<string> BoardAlightAsync(IRollupReader reader, AnalyticsFilter filter, SmallCellPolicy? policy, List<SuppressedCell> suppressed, CancellationToken cancellation)
    {
        var spec = ExportSpecs.GtfsRideBoardAlight;
        var rows = Shown(spec, await reader.GroupAsync(RollupTable.TripStop, filter, [Dimension.Day, Dimension.Trip, Dimension.Stop, Dimension.Value], cancellation), policy, suppressed);
        string[] columns = ["trip_id", "stop_id", "stop_sequence", "record_use", "boardings", "alightings", "service_date", "source"];
        return CsvOut.Write(spec, columns, rows
            .Select(r => (Day: DateOnly.Parse(r.Key[0], CultureInfo.InvariantCulture), Trip: r.Key[1], Stop: r.Key[2], Sequence: int.Parse(r.Key[3], CultureInfo.InvariantCulture), Row: r))
            .OrderBy(r => r.Day).ThenBy(r => r.Trip, StringComparer.Ordinal).ThenBy(r => r.Sequence)
            .Select(r => (IReadOnlyList<object?>)
            [
                r.Trip, r.Stop, r.Sequence, 0, r.Row.Measures.M0, r.Row.Measures.M1, r.Day,
                // 4 = mixed source: boardings from fare collection, alightings estimated by trip chaining.
                r.Row.Measures.M1 > 0 ? 4 : 2,
            ]));
    }

    /// <summary>
    /// GTFS-ride ridership.txt for the period: per agency and route (boardings; every boarding alights, so the two
    /// totals are equal) and per route and stop (boardings and the alightings known exactly or by chaining).
    /// </summary>
    public static async Task<string> RidershipAsync(IRollupReader reader, AnalyticsFilter filter, SmallCellPolicy? policy, List<SuppressedCell> suppressed, CancellationToken cancellation)
    {
        var spec = ExportSpecs.GtfsRideRidership;
        var routes = Shown(spec, await reader.GroupAsync(RollupTable.StopHour, filter, [Dimension.Operator, Dimension.Route], cancellation), policy, suppressed);
        var stops = Shown(spec, await reader.GroupAsync(RollupTable.StopHour, filter, [Dimension.Operator, Dimension.Route, Dimension.Stop], cancellation), policy, suppressed);
        string[] columns = ["total_boardings", "total_alightings", "ridership_start_date", "ridership_end_date", "agency_id", "route_id", "stop_id"];
        var rows = routes.OrderBy(r => string.Join(' ', r.Key), StringComparer.Ordinal).Select(r => (IReadOnlyList<object?>)
            [r.Measures.M0, r.Measures.M0, filter.From, filter.To, r.Key[0], Blank(r.Key[1]), null])
            .Concat(stops.Where(r => r.Key[2].Length > 0).OrderBy(r => string.Join(' ', r.Key), StringComparer.Ordinal).Select(r => (IReadOnlyList<object?>)
            [r.Measures.M0, r.Measures.M1, filter.From, filter.To, r.Key[0], Blank(r.Key[1]), r.Key[2]]));
        return CsvOut.Write(spec, columns, rows);
    }

    private static List<GroupRow> Shown(TableSpec spec, IReadOnlyList<GroupRow> rows, SmallCellPolicy? policy, List<SuppressedCell> suppressed)
    {
        if (policy is null)
        {
            return [.. rows];
        }

        var decisions = ComplementarySuppression.Decide(rows, policy);
        var shown = new List<GroupRow>(rows.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            switch (decisions[i])
            {
                case Withholding.Shown:
                    shown.Add(rows[i]);
                    break;
                case Withholding.Small:
                    suppressed.Add(new SuppressedCell(spec.FileName, string.Join(' ', rows[i].Key)));
                    break;
                default:
                    suppressed.Add(new SuppressedCell(spec.FileName, string.Join(' ', rows[i].Key), ComplementaryReason));
                    break;
            }
        }

        return shown;
    }

    public static string RideFeedInfo(DateOnly from, DateOnly to, string currency, string? version) =>
        CsvOut.Write(
            ExportSpecs.GtfsRideFeedInfo,
            ["ride_files", "ride_start_date", "ride_end_date", "default_currency_type", "ride_feed_version"],
            [[4, from, to, currency, version]]);

    /// <summary>The withheld cells; a cell's key holds ids that devices uploaded, so it goes through <see cref="Csv"/> like every other field.</summary>
    public static string Suppressed(IEnumerable<SuppressedCell> cells, int k) =>
        Csv.Line(["file", "cell", "reason"]) + string.Concat(cells.Select(c => Csv.Line([c.File, c.Key, c.Reason ?? $"fewer than {k.ToString(CultureInfo.InvariantCulture)} distinct riders"])));

    /// <summary>The whole bundle: GTFS-ride files and TIDES station_activities (aggregates, suppressed for planners).</summary>
    public async Task<IReadOnlyList<ExportFile>> BundleAsync(IRollupReader reader, AnalyticsFilter filter, SmallCellPolicy? policy, string? version, CancellationToken cancellation)
    {
        var suppressed = new List<SuppressedCell>();
        List<ExportFile> files =
        [
            new(ExportSpecs.GtfsRideBoardAlight.FileName, await BoardAlightAsync(reader, filter, policy, suppressed, cancellation)),
            new(ExportSpecs.GtfsRideRidership.FileName, await RidershipAsync(reader, filter, policy, suppressed, cancellation)),
            new(ExportSpecs.GtfsRideFeedInfo.FileName, RideFeedInfo(filter.From, filter.To, currency, version)),
            new(ExportSpecs.TidesStationActivities.FileName, await StationActivitiesAsync(reader, filter, policy, suppressed, cancellation)),
        ];
        if (policy is not null)
        {
            files.Add(new ExportFile("suppressed.txt", Suppressed(suppressed, policy.K)));
        }

        return files;
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
