using System.Globalization;
using Transit.Analytics.Chaining;
using Transit.Analytics.Privacy;
using Transit.Analytics.Rollups;
using Transit.DeviceApi;

namespace Transit.Analytics.Exports;

/// <summary>One fare transaction (an accepted tap) for TIDES <c>fare_transactions</c>.</summary>
/// <param name="Mode">The tap's mode: exits and bus tap-offs are <c>Exit</c> actions.</param>
/// <param name="ScheduledStopSequence">GTFS stop_times.stop_sequence of the boarding stop on <paramref name="PatternId"/>.</param>
/// <param name="FareCapped">Whether a fare cap lowered the fare of the journey this boarding belongs to.</param>
public sealed record FareTransaction(
    string TransactionId,
    DateOnly ServiceDate,
    DateTimeOffset At,
    long AmountMinor,
    TapMode Mode,
    bool Transfer,
    string? DeviceId,
    string? StopId,
    string? PatternId,
    int? ScheduledStopSequence,
    string? Category,
    string? Product,
    bool FareCapped,
    long Rider);

/// <summary>What clearing charged for the leg a boarding tap started (integer minor units, after fare caps).</summary>
/// <param name="Amount">The leg's share of the journey's charged fare.</param>
/// <param name="Capped">Whether a fare cap lowered the journey's fare.</param>
/// <param name="Product">The GTFS fare product the leg was priced with.</param>
public sealed record FarePrice(long Amount, bool Capped, string? Product);

/// <summary>Rider-level input of the admin export: the rider-days of the period and what clearing charged their taps.</summary>
public sealed record RiderLevel(IReadOnlyList<RiderDay> RiderDays, Func<AnalyticsTap, FarePrice?> PriceOf);

/// <summary>Who an export is for, which decides what it may hold (docs/analytics.md, Privacy).</summary>
public enum ExportAudience
{
    /// <summary>Aggregates of every operator, small cells withheld.</summary>
    Planner,

    /// <summary>Aggregates of one operator (the filter's), small cells withheld.</summary>
    Operator,

    /// <summary>Every cell, and the rider-level files (pseudonymous).</summary>
    Admin,
}

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

    /// <summary>
    /// TIDES fare_transactions: rider-level, so never for planners; the token is the pseudonym. Fields the system does
    /// not know (no AVL pings, vehicles, performed trips, GTFS v1 fare ids, fare periods or stored value) stay empty.
    /// </summary>
    public string FareTransactions(IEnumerable<FareTransaction> transactions) =>
        CsvOut.Write(ExportSpecs.TidesFareTransactions, AllColumns(ExportSpecs.TidesFareTransactions), transactions.OrderBy(t => t.At).ThenBy(t => t.TransactionId, StringComparer.Ordinal).Select(t => (IReadOnlyList<object?>)
        [
            t.TransactionId, t.ServiceDate, t.At, null, Major(t.AmountMinor), currency, FareAction(t), null, null, t.PatternId, null, t.ScheduledStopSequence,
            null, t.DeviceId, null, t.StopId, 1, ExportSpecs.TidesFareMedia[ExportSpecs.OpticalScan], t.Category, t.Product, null, t.FareCapped,
            Pseudonymizer.Text(t.Rider), null,
        ]));

    /// <summary>
    /// GTFS-ride rider_trip.txt: one row per leg, the rider as its pseudonym (admins only). Only what the taps prove is
    /// written: the boarding stop and time, the alighting stop and time when a metro exit gate or bus tap-off recorded them, the fare
    /// clearing charged and whether the leg continued a journey. Inferred destinations and schedule-matched trips are
    /// left out (docs/analytics.md says why).
    /// </summary>
    public string RiderTrips(RiderLevel input) =>
        CsvOut.Write(ExportSpecs.GtfsRideRiderTrip, AllColumns(ExportSpecs.GtfsRideRiderTrip), input.RiderDays
            .SelectMany(d => d.Legs.Select(l => (Day: d, Leg: l)))
            .OrderBy(x => x.Leg.ServiceDay).ThenBy(x => x.Leg.Rider).ThenBy(x => x.Leg.LegNo)
            .Select(x =>
            {
                var (day, leg) = x;
                var exact = leg.Level == InferenceLevel.Exact;
                var boarding = day.Taps.FirstOrDefault(t => t.Accepted && t.At == leg.BoardedAt && !t.Mode.IsExit());
                var price = boarding is null ? null : input.PriceOf(boarding);
                return (IReadOnlyList<object?>)
                [
                    Pseudonymizer.Text(leg.Rider), leg.OperatorId, null, leg.Origin, null, exact ? leg.Destination : null, null, leg.ServiceDay,
                    GtfsTime(leg.ServiceDay, leg.BoardedAt), exact && leg.AlightedAt is { } alighted ? GtfsTime(leg.ServiceDay, alighted) : null,
                    null, null, price is null ? null : Major(price.Amount), null, null, null, leg.IsTransfer ? 1 : 0,
                ];
            }));

    /// <summary>
    /// TIDES station_activities: accepted metro entries and exits per station and hour. Gates do not see bikes or
    /// which entrance was used, so the bike and ramp counts stay empty.
    /// </summary>
    public async Task<string> StationActivitiesAsync(IRollupReader reader, AnalyticsFilter filter, SmallCellPolicy? policy, List<SuppressedCell> suppressed, CancellationToken cancellation)
    {
        var spec = ExportSpecs.TidesStationActivities;
        var gates = filter with { Mode = RollupProjection.Metro, Reason = "ok" };
        var rows = await reader.GroupAsync(RollupTable.Taps, gates, [Dimension.Day, Dimension.Stop, Dimension.Hour], cancellation).ConfigureAwait(false);
        var byMode = (await reader.GroupAsync(RollupTable.Taps, gates, [Dimension.Day, Dimension.Stop, Dimension.Hour, Dimension.Mode], cancellation).ConfigureAwait(false))
            .ToDictionary(r => string.Join(' ', r.Key), r => r.Measures.M0, StringComparer.Ordinal);
        var shown = Shown(spec, rows, policy, suppressed);
        return CsvOut.Write(spec, AllColumns(spec), shown.Select(r => (Day: DateOnly.Parse(r.Key[0], CultureInfo.InvariantCulture), Stop: r.Key[1], Hour: int.Parse(r.Key[2], CultureInfo.InvariantCulture), Row: r))
            .OrderBy(r => r.Day).ThenBy(r => r.Stop, StringComparer.Ordinal).ThenBy(r => r.Hour)
            .Select(r =>
            {
                var (start, end) = HourPeriod(r.Day, r.Hour);
                var key = string.Join(' ', r.Row.Key);
                return (IReadOnlyList<object?>)
                [
                    r.Day, r.Stop, start, end, PeriodCategory(r.Hour), byMode.GetValueOrDefault(key + " metro-entry"), byMode.GetValueOrDefault(key + " metro-exit"),
                    r.Row.Measures.M0, null, null, null, null,
                ];
            }));
    }

    /// <summary>GTFS-ride board_alight.txt: boardings (fare collection) and alightings (bus tap-offs, or estimated by chaining) per trip and stop.</summary>
    public static async Task<string> BoardAlightAsync(IRollupReader reader, AnalyticsFilter filter, SmallCellPolicy? policy, List<SuppressedCell> suppressed, CancellationToken cancellation)
    {
        var spec = ExportSpecs.GtfsRideBoardAlight;
        var rows = Shown(spec, await reader.GroupAsync(RollupTable.TripStop, filter, [Dimension.Day, Dimension.Trip, Dimension.Stop, Dimension.Value], cancellation).ConfigureAwait(false), policy, suppressed);
        string[] columns = ["trip_id", "stop_id", "stop_sequence", "record_use", "boardings", "alightings", "service_date", "source"];
        return CsvOut.Write(spec, columns, rows
            .Select(r => (Day: DateOnly.Parse(r.Key[0], CultureInfo.InvariantCulture), Trip: r.Key[1], Stop: r.Key[2], Sequence: int.Parse(r.Key[3], CultureInfo.InvariantCulture), Row: r))
            .OrderBy(r => r.Day).ThenBy(r => r.Trip, StringComparer.Ordinal).ThenBy(r => r.Sequence)
            .Select(r => (IReadOnlyList<object?>)
            [
                r.Trip, r.Stop, r.Sequence, 0, r.Row.Measures.M0, r.Row.Measures.M1, r.Day,
                // 4 = mixed source: boardings from fare collection, some alightings estimated by trip chaining;
                // 2 = fare collection only (no alightings, or all of them bus tap-offs).
                r.Row.Measures.M1 > r.Row.Measures.M2 ? 4 : 2,
            ]));
    }

    /// <summary>
    /// GTFS-ride ridership.txt for the period: per agency and route (boardings; every boarding alights, so the two
    /// totals are equal) and per route and stop (boardings and the alightings known exactly or by chaining).
    /// </summary>
    public static async Task<string> RidershipAsync(IRollupReader reader, AnalyticsFilter filter, SmallCellPolicy? policy, List<SuppressedCell> suppressed, CancellationToken cancellation)
    {
        var spec = ExportSpecs.GtfsRideRidership;
        var routes = Shown(spec, await reader.GroupAsync(RollupTable.StopHour, filter, [Dimension.Operator, Dimension.Route], cancellation).ConfigureAwait(false), policy, suppressed);
        var stops = Shown(spec, await reader.GroupAsync(RollupTable.StopHour, filter, [Dimension.Operator, Dimension.Route, Dimension.Stop], cancellation).ConfigureAwait(false), policy, suppressed);
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

    /// <summary>ride_feed_info.txt; <c>ride_files</c> 4 is board_alight and ridership, 6 adds rider_trip.</summary>
    public static string RideFeedInfo(DateOnly from, DateOnly to, string currency, string? version, bool withRiderTrips = false) =>
        CsvOut.Write(
            ExportSpecs.GtfsRideFeedInfo,
            ["ride_files", "ride_start_date", "ride_end_date", "default_currency_type", "ride_feed_version"],
            [[withRiderTrips ? 6 : 4, from, to, currency, version]]);

    /// <summary>The withheld cells; a cell's key holds ids that devices uploaded, so it goes through <see cref="Csv"/> like every other field.</summary>
    public static string Suppressed(IEnumerable<SuppressedCell> cells, int k) =>
        Csv.Line(["file", "cell", "reason"]) + string.Concat(cells.Select(c => Csv.Line([c.File, c.Key, c.Reason ?? $"fewer than {k.ToString(CultureInfo.InvariantCulture)} distinct riders"])));

    /// <summary>The whole bundle: GTFS-ride files and TIDES station_activities (aggregates, suppressed for planners).</summary>
    public Task<IReadOnlyList<ExportFile>> BundleAsync(IRollupReader reader, AnalyticsFilter filter, SmallCellPolicy? policy, string? version, CancellationToken cancellation) =>
        BundleAsync(reader, filter, policy, version, withRiderTrips: false, cancellation);

    /// <summary>
    /// The files an audience may take: planners and operators the aggregate bundle with small cells withheld;
    /// admins every cell and the rider-level files, TIDES fare_transactions and GTFS-ride rider_trip.
    /// <paramref name="riderLevel"/> is read for admins only.
    /// </summary>
    public async Task<IReadOnlyList<ExportFile>> ForAudienceAsync(
        ExportAudience audience, IRollupReader reader, AnalyticsFilter filter, string? version, Func<CancellationToken, Task<RiderLevel>> riderLevel, CancellationToken cancellation)
    {
        if ((audience == ExportAudience.Operator) != (filter.Operator is not null))
        {
            throw new ArgumentException("an operator export needs the operator in the filter, and only an operator export has one", nameof(filter));
        }

        var admin = audience == ExportAudience.Admin;
        var files = (await BundleAsync(reader, filter, admin ? null : new SmallCellPolicy(options.SuppressionK), version, withRiderTrips: admin, cancellation).ConfigureAwait(false)).ToList();
        if (admin)
        {
            var input = await riderLevel(cancellation).ConfigureAwait(false);
            files.Add(new(ExportSpecs.TidesFareTransactions.FileName, FareTransactions(input.RiderDays.SelectMany(d => TransactionsOf(d, input.PriceOf)))));
            files.Add(new(ExportSpecs.GtfsRideRiderTrip.FileName, RiderTrips(input)));
        }

        return files;
    }

    private async Task<IReadOnlyList<ExportFile>> BundleAsync(IRollupReader reader, AnalyticsFilter filter, SmallCellPolicy? policy, string? version, bool withRiderTrips, CancellationToken cancellation)
    {
        var suppressed = new List<SuppressedCell>();
        List<ExportFile> files =
        [
            new(ExportSpecs.GtfsRideBoardAlight.FileName, await BoardAlightAsync(reader, filter, policy, suppressed, cancellation).ConfigureAwait(false)),
            new(ExportSpecs.GtfsRideRidership.FileName, await RidershipAsync(reader, filter, policy, suppressed, cancellation).ConfigureAwait(false)),
            new(ExportSpecs.GtfsRideFeedInfo.FileName, RideFeedInfo(filter.From, filter.To, currency, version, withRiderTrips)),
            new(ExportSpecs.TidesStationActivities.FileName, await StationActivitiesAsync(reader, filter, policy, suppressed, cancellation).ConfigureAwait(false)),
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

    private static string FareAction(FareTransaction t) => t.Mode.IsExit() ? "Exit" : t.Transfer ? "Transfer entrance" : "Enter";

    private decimal Major(long minor) => minor / (decimal)Math.Pow(10, currencyDigits);

    private static string? Blank(string value) => value.Length == 0 ? null : value;

    private static string[] AllColumns(TableSpec spec) => [.. spec.Fields.Select(f => f.Name)];

    /// <summary>GTFS time of an instant: HH:MM:SS since local midnight of the service day, past 24:00:00 after midnight.</summary>
    private string GtfsTime(DateOnly day, DateTimeOffset at)
    {
        var seconds = options.ServiceSeconds(day, at);
        return string.Create(CultureInfo.InvariantCulture, $"{seconds / 3600:00}:{seconds / 60 % 60:00}:{seconds % 60:00}");
    }

    /// <summary>
    /// Fare transactions of a rider-day: its accepted taps, the boarding taps marked as transfers by its legs, each
    /// boarding with what clearing charged for its leg (exits and taps clearing has not priced: 0, not capped).
    /// </summary>
    public static IEnumerable<FareTransaction> TransactionsOf(RiderDay day, Func<AnalyticsTap, FarePrice?>? priceOf = null)
    {
        var transferBoardings = day.Legs.Where(l => l.IsTransfer).Select(l => l.BoardedAt).ToHashSet();
        var legsByBoarding = day.Legs.GroupBy(l => l.BoardedAt).ToDictionary(g => g.Key, g => g.First());
        return day.Taps.Where(t => t.Accepted).Select(t =>
        {
            var leg = t.Mode.IsExit() ? null : legsByBoarding.GetValueOrDefault(t.At);
            var price = priceOf?.Invoke(t);
            return new FareTransaction(
                t.DeviceId is null ? $"{Pseudonymizer.Text(t.Rider)}-{t.At.ToUnixTimeMilliseconds()}" : $"{t.DeviceId}-{t.Sequence}",
                day.Day, t.At, price?.Amount ?? 0, t.Mode, transferBoardings.Contains(t.At) && !t.Mode.IsExit(),
                t.DeviceId, t.StopId, leg?.PatternId, leg?.BoardSequence, t.Category, price?.Product, price?.Capped ?? false, t.Rider);
        });
    }
}
