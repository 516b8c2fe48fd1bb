using Transit.Analytics.Rollups;

namespace Transit.Analytics.Privacy;

// Answers sit above both the rollups they sum and the policy that withholds them, so they live with the policy.

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
        return [.. InMemoryRollupReader.Group(cells.Where(c => filter(c.Key)), group).Select(g => Decide(g.Key, g.Row, policy))];
    }

    /// <summary>The answer for one group: withheld under the policy when it counts fewer than k distinct riders.</summary>
    public static Answer<TKey> Decide<TKey>(TKey key, GroupRow row, SmallCellPolicy? policy) =>
        policy?.IsSuppressed(row) == true
            ? new Answer<TKey>(key, default, null, true)
            : new Answer<TKey>(key, row.Measures, row.DistinctRiders, false);
}
