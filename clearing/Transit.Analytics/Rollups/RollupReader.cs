using Transit.Analytics.Privacy;

namespace Transit.Analytics.Rollups;

/// <summary>A dimension of the rollup cells that answers can be grouped by.</summary>
public enum Dimension
{
    Day,
    Hour,
    Operator,
    Mode,
    Route,
    Stop,
    ToOperator,
    ToMode,
    ToRoute,
    ToStop,
    Category,
    Reason,
    Value,
    Trip,
}

/// <summary>The filters of a query: a date range and optional dimensions. An operator filter also matches transfers into that operator.</summary>
public sealed record AnalyticsFilter(DateOnly From, DateOnly To)
{
    public string? Operator { get; init; }

    public string? Mode { get; init; }

    public string? Route { get; init; }

    public string? Stop { get; init; }

    public int? HourFrom { get; init; }

    public int? HourTo { get; init; }

    public string? Category { get; init; }

    /// <summary>Taps only: <c>ok</c> or a refusal reason.</summary>
    public string? Reason { get; init; }

    /// <summary><c>weekday</c>, <c>saturday</c> or <c>sunday</c>: only service days of that type.</summary>
    public string? DayType { get; init; }

    public static bool IsDayType(string? dayType) => dayType is null or "weekday" or "saturday" or "sunday";

    public static string DayTypeOf(DateOnly day) => day.DayOfWeek switch
    {
        DayOfWeek.Saturday => "saturday",
        DayOfWeek.Sunday => "sunday",
        _ => "weekday",
    };

    public bool Matches(CellKey key) =>
        key.Day >= From && key.Day <= To
        && (Operator is null || key.Operator == Operator || key.ToOperator == Operator)
        && (Mode is null || key.Mode == Mode || key.Mode.StartsWith(Mode + "-", StringComparison.Ordinal))
        && (Route is null || key.Route == Route || key.ToRoute == Route)
        && (Stop is null || key.Stop == Stop || key.ToStop == Stop)
        && (HourFrom is null || key.Hour < 0 || key.Hour >= HourFrom)
        && (HourTo is null || key.Hour < 0 || key.Hour <= HourTo)
        && (Category is null || key.Category == Category)
        && (Reason is null || key.Reason == Reason)
        && (DayType is null || DayTypeOf(key.Day) == DayType);
}

/// <summary>
/// One group of cells: the summed measures, and what suppression needs to know of its riders: the largest and the
/// summed riders of its parts, and the union of the pseudonyms of the parts that are small.
/// </summary>
/// <param name="Key">Values of the grouping dimensions, in order.</param>
/// <param name="Measures">Summed measures.</param>
/// <param name="Parts">How many cells (of one day each) were added up.</param>
/// <param name="RiderMax">The most riders of any one part.</param>
/// <param name="RiderSum">The riders of the parts added up (an upper bound of the distinct riders).</param>
/// <param name="SmallUnion">Distinct pseudonyms over the parts whose list is kept.</param>
/// <param name="AllListed">Every part's list is kept (every part is small), so <paramref name="SmallUnion"/> is exact.</param>
public sealed record GroupRow(IReadOnlyList<string> Key, Measures Measures, int Parts, long RiderMax, long RiderSum, long SmallUnion, bool AllListed)
{
    /// <summary>The distinct riders where they are known exactly.</summary>
    public long? DistinctRiders => Parts == 1 ? RiderSum : AllListed ? SmallUnion : null;
}

/// <summary>Where answers come from: rollup tables in PostgreSQL, or cells in memory.</summary>
public interface IRollupReader
{
    Task<IReadOnlyList<GroupRow>> GroupAsync(RollupTable table, AnalyticsFilter filter, IReadOnlyList<Dimension> groupBy, CancellationToken cancellation);
}

/// <summary>Groups cells held in memory (tests, the demo, and the exports of a loaded day).</summary>
public sealed class InMemoryRollupReader(IEnumerable<KeyValuePair<CellKey, CellValue>> cells) : IRollupReader
{
    public Task<IReadOnlyList<GroupRow>> GroupAsync(RollupTable table, AnalyticsFilter filter, IReadOnlyList<Dimension> groupBy, CancellationToken cancellation) =>
        Task.FromResult(Group(cells.Where(c => c.Key.Table == table && filter.Matches(c.Key)), groupBy));

    public static IReadOnlyList<GroupRow> Group(IEnumerable<KeyValuePair<CellKey, CellValue>> cells, IReadOnlyList<Dimension> groupBy) =>
        [.. Group(cells, k => string.Join('\u0001', groupBy.Select(d => ValueOf(k, d))), StringComparer.Ordinal)
            .Select(g => g.Row with { Key = groupBy.Count == 0 ? [] : g.Key.Split('\u0001') })];

    /// <summary>Groups cells by any key; each row's <see cref="GroupRow.Key"/> is left empty.</summary>
    public static IEnumerable<(TKey Key, GroupRow Row)> Group<TKey>(IEnumerable<KeyValuePair<CellKey, CellValue>> cells, Func<CellKey, TKey> keyOf, IEqualityComparer<TKey>? comparer = null)
        where TKey : notnull
    {
        var groups = new Dictionary<TKey, (Measures Measures, int Parts, long Max, long Sum, HashSet<long> Union, bool AllListed)>(comparer);
        foreach (var (key, value) in cells)
        {
            var id = keyOf(key);
            if (!groups.TryGetValue(id, out var g))
            {
                g = (default, 0, 0, 0, [], true);
            }

            g.Measures += value.Measures;
            g.Parts++;
            g.Max = Math.Max(g.Max, value.Riders);
            g.Sum += value.Riders;
            if (value.SmallRiders is { } small)
            {
                g.Union.UnionWith(small);
            }
            else
            {
                g.AllListed = false;
            }

            groups[id] = g;
        }

        return groups.Select(g => (g.Key, new GroupRow([], g.Value.Measures, g.Value.Parts, g.Value.Max, g.Value.Sum, g.Value.Union.Count, g.Value.AllListed)));
    }

    public static string ValueOf(CellKey key, Dimension dimension) => dimension switch
    {
        Dimension.Day => key.Day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
        Dimension.Hour => key.Hour.ToString(System.Globalization.CultureInfo.InvariantCulture),
        Dimension.Operator => key.Operator,
        Dimension.Mode => key.Mode,
        Dimension.Route => key.Route,
        Dimension.Stop => key.Stop,
        Dimension.ToOperator => key.ToOperator,
        Dimension.ToMode => key.ToMode,
        Dimension.ToRoute => key.ToRoute,
        Dimension.ToStop => key.ToStop,
        Dimension.Category => key.Category,
        Dimension.Reason => key.Reason,
        Dimension.Value => key.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
        Dimension.Trip => key.Trip,
        _ => throw new ArgumentOutOfRangeException(nameof(dimension)),
    };
}
