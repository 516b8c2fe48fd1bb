using Transit.Analytics.Privacy;

namespace Transit.Analytics.Rollups;

/// <summary>One row of an answer: summed measures, distinct riders where known, and whether it is withheld.</summary>
/// <param name="Key">The row's dimensions.</param>
/// <param name="Measures">Summed measures; all zero when suppressed (the values are withheld, not zero).</param>
/// <param name="Riders">Distinct riders where they can be counted exactly; null when withheld or not exactly known.</param>
/// <param name="Suppressed">Withheld: fewer than k distinct riders.</param>
public sealed record Answer<TKey>(TKey Key, Measures Measures, long? Riders, bool Suppressed);

/// <summary>Answers from rollup cells: filter, group, sum, and suppress small rows.</summary>
public static class RollupQuery
{
    /// <summary>
    /// Groups the cells that pass <paramref name="filter"/> by <paramref name="group"/>; with a policy (planners)
    /// rows of fewer than k distinct riders are withheld.
    /// </summary>
    public static List<Answer<TKey>> Aggregate<TKey>(
        IEnumerable<KeyValuePair<CellKey, CellValue>> cells,
        Func<CellKey, bool> filter,
        Func<CellKey, TKey> group,
        SmallCellPolicy? policy)
        where TKey : notnull
    {
        var rows = new Dictionary<TKey, (Measures Measures, List<CellRiders> Parts)>();
        foreach (var (key, value) in cells)
        {
            if (!filter(key))
            {
                continue;
            }

            var k = group(key);
            if (!rows.TryGetValue(k, out var row))
            {
                row = (default, []);
            }

            row.Measures += value.Measures;
            row.Parts.Add(new CellRiders(value.Riders, value.SmallRiders));
            rows[k] = row;
        }

        return [.. rows.Select(r =>
        {
            var suppressed = policy?.IsSuppressed(r.Value.Parts) ?? false;
            return suppressed
                ? new Answer<TKey>(r.Key, default, null, true)
                : new Answer<TKey>(r.Key, r.Value.Measures, SmallCellPolicy.DistinctRiders(r.Value.Parts), false);
        })];
    }
}
