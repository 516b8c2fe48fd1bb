using System.Globalization;
using System.Security.Claims;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Transit.Analytics.Exports;
using Transit.Analytics.Privacy;
using Transit.Analytics.Rollups;

namespace Transit.Analytics.Web;

/// <summary>How the host's callers map to analytics access, and what analytics needs to answer.</summary>
public sealed record AnalyticsWebOptions
{
    public string AdminRole { get; init; } = "admin";

    public string OperatorRole { get; init; } = "operator";

    public string PlannerRole { get; init; } = "planner";

    /// <summary>The claim naming an operator token's operator.</summary>
    public string OperatorClaim { get; init; } = "transit:operator";

    public AnalyticsOptions Analytics { get; init; } = new();

    /// <summary>ISO 4217 code of the money in the revenue rollups.</summary>
    public string Currency { get; init; } = "EUR";

    public string? FeedVersion { get; init; }
}

/// <summary>An answer in table form: the same rows serve JSON and CSV. Withheld rows carry null measures and <c>suppressed: true</c>.</summary>
public sealed record AnalyticsAnswer(IReadOnlyList<string> Columns, IReadOnlyList<Dictionary<string, object?>> Rows, int? K, int Suppressed);

/// <summary>What a caller may see: every role its own operator at most, and all but admins only unsuppressed aggregates.</summary>
internal sealed record CallerScope(SmallCellPolicy? Policy, string? Operator, bool Admin);

/// <summary>
/// The analytics query API under <c>/api/analytics</c>: JSON or CSV (<c>format=csv</c>), with filters for date range,
/// operator, mode, route, stop, hour range and rider category. Planners and operators get aggregates with small-cell
/// suppression; operators only their own operator's; admins everything.
/// </summary>
public static class AnalyticsEndpoints
{
    internal static readonly Dictionary<string, (RollupTable Table, Dimension[] By, string[] Measures)> Views = new(StringComparer.Ordinal)
    {
        ["boardings-by-hour"] = (RollupTable.StopHour, [Dimension.Hour], ["boardings", "alightings", "alightingsInferred"]),
        ["boardings-by-route"] = (RollupTable.StopHour, [Dimension.Operator, Dimension.Mode, Dimension.Route], ["boardings", "alightings", "alightingsInferred"]),
        ["boardings-by-stop"] = (RollupTable.StopHour, [Dimension.Operator, Dimension.Mode, Dimension.Stop], ["boardings", "alightings", "alightingsInferred"]),
        ["boardings-by-day"] = (RollupTable.StopHour, [Dimension.Day], ["boardings", "alightings", "alightingsInferred"]),
        ["boardings-by-category"] = (RollupTable.StopHour, [Dimension.Category], ["boardings", "alightings", "alightingsInferred"]),
        ["od"] = (RollupTable.Od, [Dimension.Mode, Dimension.Stop, Dimension.ToStop], ["legs", "exact", "chainedToNextBoarding", "chainedToFirstOrigin"]),
        ["transfers"] = (RollupTable.Transfers, [Dimension.Mode, Dimension.Route, Dimension.Stop, Dimension.ToMode, Dimension.ToRoute, Dimension.ToStop], ["transfers", "totalSeconds"]),
        ["revenue-by-operator"] = (RollupTable.Revenue, [Dimension.Operator], ["amount", "legs"]),
        ["revenue-by-route"] = (RollupTable.Revenue, [Dimension.Operator, Dimension.Route], ["amount", "legs"]),
        ["revenue-by-category"] = (RollupTable.Revenue, [Dimension.Category], ["amount", "legs"]),
        ["taps-by-reason"] = (RollupTable.Taps, [Dimension.Reason], ["taps"]),
        ["journeys-by-hour"] = (RollupTable.Journeys, [Dimension.Hour], ["journeys", "legs", "transfers"]),
    };

    public static IEndpointRouteBuilder MapAnalyticsEndpoints(this IEndpointRouteBuilder app, AnalyticsWebOptions options)
    {
        var group = app.MapGroup("/api/analytics").RequireAuthorization().WithTags("analytics");

        group.MapGet("/me", Results<Ok<AnalyticsCaller>, ProblemHttpResult> (ClaimsPrincipal user) =>
            Prepare(new AnalyticsQuery(null, null, null, null, null, null, null, null, null, null, null), user, options) is { Scope: { } scope }
                ? TypedResults.Ok(new AnalyticsCaller(
                    scope.Admin ? options.AdminRole : scope.Operator is not null ? options.OperatorRole : options.PlannerRole, scope.Operator, scope.Policy?.K))
                : Problem(StatusCodes.Status403Forbidden, "Forbidden", "this token may not read analytics"))
            .WithName("AnalyticsCaller")
            .WithSummary("The caller's role, operator and suppression threshold, so that the dashboard offers only what the caller may see");

        group.MapGet("/{view}", async Task<Results<Ok<AnalyticsAnswer>, ContentHttpResult, ProblemHttpResult>> (
            string view, [AsParameters] AnalyticsQuery query, ClaimsPrincipal user, IRollupReader reader, CancellationToken cancellation) =>
        {
            if (!Views.TryGetValue(view, out var definition))
            {
                return Problem(StatusCodes.Status404NotFound, "Unknown view", $"'{view}' is not one of: {string.Join(", ", Views.Keys)}");
            }

            if (Prepare(query, user, options) is not { } prepared)
            {
                return Problem(StatusCodes.Status403Forbidden, "Forbidden", "this token may not read analytics, or not of that operator");
            }

            if (prepared.Error is { } error)
            {
                return Problem(StatusCodes.Status400BadRequest, "Bad query", error);
            }

            var answer = await AnswerAsync(reader, definition.Table, prepared.Filter!, definition.By, definition.Measures, prepared.Scope!, cancellation);
            if (view == "transfers")
            {
                answer = await WithMediansAsync(reader, answer, prepared.Filter!, cancellation);
            }

            return query.Format == "csv" ? TypedResults.Text(ToCsv(answer), "text/csv", Encoding.UTF8) : TypedResults.Ok(answer);
        })
        .WithName("AnalyticsView")
        .WithSummary("Aggregates of ridership, OD, transfers, revenue and taps")
        .WithDescription($"""
            Views: {string.Join(", ", Views.Keys)}. Rows counting fewer than k distinct riders are withheld for planners and operators
            (measures null, suppressed = true). Hours are local hours of the service day; OD toStop "" means no destination could be inferred.
            """);

        group.MapGet("/overview", async Task<Results<Ok<AnalyticsOverview>, ProblemHttpResult>> (
            [AsParameters] AnalyticsQuery query, ClaimsPrincipal user, IRollupReader reader, CancellationToken cancellation) =>
        {
            if (Prepare(query, user, options) is not { } prepared)
            {
                return Problem(StatusCodes.Status403Forbidden, "Forbidden", "this token may not read analytics, or not of that operator");
            }

            if (prepared.Error is { } error)
            {
                return Problem(StatusCodes.Status400BadRequest, "Bad query", error);
            }

            return TypedResults.Ok(await OverviewAsync(reader, prepared.Filter!, prepared.Scope!, options, cancellation));
        })
        .WithName("AnalyticsOverview")
        .WithSummary("The day overview: taps accepted and refused by reason, journeys, revenue by operator, share of legs with a destination");

        group.MapGet("/exports/{file}", async Task<Results<ContentHttpResult, ProblemHttpResult>> (
            string file, [AsParameters] AnalyticsQuery query, ClaimsPrincipal user, IRollupReader reader, CancellationToken cancellation) =>
        {
            if (Prepare(query, user, options) is not { } prepared)
            {
                return Problem(StatusCodes.Status403Forbidden, "Forbidden", "this token may not read analytics, or not of that operator");
            }

            if (prepared.Error is { } error)
            {
                return Problem(StatusCodes.Status400BadRequest, "Bad query", error);
            }

            var exports = new StandardExports(options.Analytics, options.Currency);
            var bundle = await exports.BundleAsync(reader, prepared.Filter!, prepared.Scope!.Policy, options.FeedVersion, cancellation);
            return bundle.FirstOrDefault(f => f.Name == file) is { } found
                ? TypedResults.Text(found.Content, file.EndsWith(".csv", StringComparison.Ordinal) ? "text/csv" : "text/plain", Encoding.UTF8)
                : Problem(StatusCodes.Status404NotFound, "Unknown export", $"'{file}' is not one of: {string.Join(", ", bundle.Select(f => f.Name))} (fare_transactions.csv is rider-level: admins only, from the command line)");
        })
        .WithName("AnalyticsExport")
        .WithSummary("GTFS-ride board_alight.txt, ridership.txt, ride_feed_info.txt and TIDES station_activities.csv; suppressed.txt lists withheld cells");
        return app;
    }

    private static ProblemHttpResult Problem(int status, string title, string detail) => TypedResults.Problem(detail, statusCode: status, title: title);

    internal sealed record Prepared(AnalyticsFilter? Filter, CallerScope? Scope, string? Error);

    internal static Prepared? Prepare(AnalyticsQuery query, ClaimsPrincipal user, AnalyticsWebOptions options)
    {
        CallerScope scope;
        if (user.IsInRole(options.AdminRole))
        {
            scope = new CallerScope(null, null, true);
        }
        else if (user.IsInRole(options.OperatorRole) && user.FindFirst(options.OperatorClaim)?.Value is { } own)
        {
            if (query.Operator is not null && query.Operator != own)
            {
                return null;
            }

            scope = new CallerScope(new SmallCellPolicy(options.Analytics.SuppressionK), own, false);
        }
        else if (user.IsInRole(options.PlannerRole))
        {
            scope = new CallerScope(new SmallCellPolicy(options.Analytics.SuppressionK), null, false);
        }
        else
        {
            return null;
        }

        // Filters are matched as text against ids of the feed, none longer than a few dozen characters.
        foreach (var (name, value) in new[] { ("operator", query.Operator), ("mode", query.Mode), ("route", query.Route), ("stop", query.Stop), ("category", query.Category) })
        {
            if (value is not null && (value.Length is 0 or > 64 || value.Any(char.IsControl)))
            {
                return new Prepared(null, scope, $"{name} must be 1 to 64 characters without control characters");
            }
        }

        if (query.Format is not (null or "json" or "csv"))
        {
            return new Prepared(null, scope, "format is json or csv");
        }

        if (!TryDay(query.From, out var from) || !TryDay(query.To ?? query.From, out var to))
        {
            return new Prepared(null, scope, "from and to must be dates (YYYY-MM-DD)");
        }

        if (to < from || to.DayNumber - from.DayNumber > 366)
        {
            return new Prepared(null, scope, "to must not be before from, and the range at most 366 days");
        }

        if (query.HourFrom is < 0 or > 23 || query.HourTo is < 0 or > 23)
        {
            return new Prepared(null, scope, "hours are 0 to 23");
        }

        if (!AnalyticsFilter.IsDayType(query.DayType))
        {
            return new Prepared(null, scope, "dayType is weekday, saturday or sunday");
        }

        var filter = new AnalyticsFilter(from, to)
        {
            Operator = scope.Operator ?? query.Operator,
            Mode = query.Mode,
            Route = query.Route,
            Stop = query.Stop,
            HourFrom = query.HourFrom,
            HourTo = query.HourTo,
            Category = query.Category,
            DayType = query.DayType,
        };
        return new Prepared(filter, scope, null);
    }

    private static bool TryDay(string? text, out DateOnly day) =>
        DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out day);

    internal static async Task<AnalyticsAnswer> AnswerAsync(IRollupReader reader, RollupTable table, AnalyticsFilter filter, Dimension[] by, string[] measures, CallerScope scope, CancellationToken cancellation)
    {
        var rows = await reader.GroupAsync(table, filter, by, cancellation);
        var columns = by.Select(ColumnName).Concat(measures).Append("riders").Append("suppressed").ToArray();
        var list = new List<Dictionary<string, object?>>(rows.Count);
        var suppressed = 0;
        var ordered = rows.OrderByDescending(r => r.Measures.M0).ThenBy(r => string.Join(',', r.Key), StringComparer.Ordinal).ToList();
        var withheld = scope.Policy is null ? null : ComplementarySuppression.Decide(ordered, scope.Policy);
        for (var r = 0; r < ordered.Count; r++)
        {
            var row = ordered[r];
            var answer = withheld is null || withheld[r] == Withholding.Shown
                ? new Answer<IReadOnlyList<string>>(row.Key, row.Measures, row.DistinctRiders, false)
                : new Answer<IReadOnlyList<string>>(row.Key, default, null, true);
            var values = new Dictionary<string, object?>(StringComparer.Ordinal);
            for (var i = 0; i < by.Length; i++)
            {
                values[ColumnName(by[i])] = by[i] is Dimension.Hour or Dimension.Value ? int.Parse(row.Key[i], CultureInfo.InvariantCulture) : row.Key[i];
            }

            for (var i = 0; i < measures.Length; i++)
            {
                values[measures[i]] = answer.Suppressed ? null : answer.Measures[i];
            }

            values["riders"] = answer.Riders;
            values["suppressed"] = answer.Suppressed;
            suppressed += answer.Suppressed ? 1 : 0;
            list.Add(values);
        }

        return new AnalyticsAnswer(columns, list, scope.Policy?.K, suppressed);
    }

    /// <summary>Adds each transfer flow's median transfer time (seconds), from the transfer-time distribution.</summary>
    private static async Task<AnalyticsAnswer> WithMediansAsync(IRollupReader reader, AnalyticsAnswer answer, AnalyticsFilter filter, CancellationToken cancellation)
    {
        Dimension[] flow = [Dimension.Mode, Dimension.Route, Dimension.Stop, Dimension.ToMode, Dimension.ToRoute, Dimension.ToStop];
        var times = await reader.GroupAsync(RollupTable.TransferTimes, filter, [.. flow, Dimension.Value], cancellation);
        var medians = times.GroupBy(t => string.Join('\u0001', t.Key.Take(flow.Length)), StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => Median(g.Select(t => (Seconds: int.Parse(t.Key[^1], CultureInfo.InvariantCulture), Count: t.Measures.M0))), StringComparer.Ordinal);
        foreach (var row in answer.Rows)
        {
            var key = string.Join('\u0001', flow.Select(d => (string)row[ColumnName(d)]!));
            row["medianSeconds"] = row["suppressed"] is true ? null : medians.GetValueOrDefault(key);
        }

        return answer with { Columns = [.. answer.Columns.Take(answer.Columns.Count - 2), "medianSeconds", .. answer.Columns.TakeLast(2)] };
    }

    /// <summary>The median of a distribution given as (value, count), halfway between the middle two when the count is even.</summary>
    public static double? Median(IEnumerable<(int Seconds, long Count)> distribution)
    {
        var sorted = distribution.Where(d => d.Count > 0).OrderBy(d => d.Seconds).ToList();
        var total = sorted.Sum(d => d.Count);
        if (total == 0)
        {
            return null;
        }

        double ValueAt(long index)
        {
            foreach (var (seconds, count) in sorted)
            {
                if (index < count)
                {
                    return seconds;
                }

                index -= count;
            }

            return sorted[^1].Seconds;
        }

        return total % 2 == 1 ? ValueAt(total / 2) : (ValueAt((total / 2) - 1) + ValueAt(total / 2)) / 2;
    }

    private static async Task<AnalyticsOverview> OverviewAsync(IRollupReader reader, AnalyticsFilter filter, CallerScope scope, AnalyticsWebOptions options, CancellationToken cancellation)
    {
        var taps = await AnswerAsync(reader, RollupTable.Taps, filter, [Dimension.Reason], ["taps"], scope, cancellation);
        var allTaps = await AnswerAsync(reader, RollupTable.Taps, filter, [], ["taps"], scope, cancellation);
        var journeys = await AnswerAsync(reader, RollupTable.Journeys, filter, [], ["journeys", "legs", "transfers"], scope, cancellation);
        var revenue = await AnswerAsync(reader, RollupTable.Revenue, filter, [Dimension.Operator], ["amount", "legs"], scope, cancellation);
        var od = await reader.GroupAsync(RollupTable.Od, filter, [Dimension.Mode, Dimension.ToStop], cancellation);
        var byMode = od.GroupBy(r => r.Key[0]).Select(g => new ModeDestinations(
            g.Key, g.Sum(r => r.Measures.M0), g.Where(r => r.Key[1].Length > 0).Sum(r => r.Measures.M0)));
        var total = journeys.Rows.FirstOrDefault();
        return new AnalyticsOverview(
            filter.From, filter.To, scope.Policy?.K,
            Taps: (long?)allTaps.Rows.FirstOrDefault()?["taps"],
            Accepted: (long?)taps.Rows.FirstOrDefault(r => (string?)r["reason"] == "ok")?["taps"],
            Reasons: taps,
            Journeys: (long?)total?["journeys"],
            Legs: (long?)total?["legs"],
            Transfers: (long?)total?["transfers"],
            Revenue: revenue,
            Currency: options.Currency,
            Destinations: [.. byMode.OrderBy(m => m.Mode, StringComparer.Ordinal)]);
    }

    private static string ColumnName(Dimension dimension) => dimension switch
    {
        Dimension.ToOperator => "toOperator",
        Dimension.ToMode => "toMode",
        Dimension.ToRoute => "toRoute",
        Dimension.ToStop => "toStop",
        Dimension.Value => "value",
        _ => dimension.ToString().ToLowerInvariant(),
    };

    public static string ToCsv(AnalyticsAnswer answer)
    {
        var sb = Csv.Append(new StringBuilder(), answer.Columns);
        foreach (var row in answer.Rows)
        {
            Csv.Append(sb, answer.Columns.Select(c => row.GetValueOrDefault(c)));
        }

        return sb.ToString();
    }
}

/// <summary>Who is asking: role, operator (operators only) and the suppression threshold that applies (null for admins).</summary>
public sealed record AnalyticsCaller(string Role, string? Operator, int? K);

/// <summary>How many legs of a mode have a destination (exact, or inferred by trip chaining).</summary>
public sealed record ModeDestinations(string Mode, long Legs, long WithDestination)
{
    public double Share => Legs == 0 ? 0 : WithDestination / (double)Legs;
}

/// <summary>The day overview.</summary>
public sealed record AnalyticsOverview(
    DateOnly From, DateOnly To, int? K, long? Taps, long? Accepted, AnalyticsAnswer Reasons, long? Journeys, long? Legs, long? Transfers,
    AnalyticsAnswer Revenue, string Currency, IReadOnlyList<ModeDestinations> Destinations);

/// <summary>The query string of every analytics request.</summary>
public sealed record AnalyticsQuery(
    string? From, string? To, string? Operator, string? Mode, string? Route, string? Stop, int? HourFrom, int? HourTo, string? Category, string? DayType, string? Format);
