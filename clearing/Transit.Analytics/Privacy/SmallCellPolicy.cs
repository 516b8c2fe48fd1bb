using Transit.Analytics.Rollups;

namespace Transit.Analytics.Privacy;

/// <summary>
/// The distinct riders of one part of an answer (a rollup cell of one day), with their pseudonyms while the cell is
/// small. An answer row adds up parts: several parts, or cells it sums over (categories, routes, hours).
/// </summary>
public readonly record struct CellRiders(long Riders, IReadOnlyCollection<long>? SmallRiders);

/// <summary>
/// Small-cell suppression: a cell that counts fewer than k distinct riders is withheld from planners and marked as
/// suppressed; a cell of k or more riders never is. An answer row that adds up several parts (days, or cells it
/// sums over) does not count the sum of their riders (the same person rides every day), so the decision uses bounds
/// that are exact where they decide: one part with k or more riders proves the row large; parts summing to fewer than
/// k prove it small; in between every part is small, so the pseudonyms kept for small cells give the exact union.
/// </summary>
public sealed class SmallCellPolicy
{
    public SmallCellPolicy(int k)
    {
        if (k < 1 || k > RollupSet.SmallRiderLimit)
        {
            throw new ArgumentOutOfRangeException(nameof(k), k, $"k must be between 1 and {RollupSet.SmallRiderLimit}");
        }

        K = k;
    }

    public int K { get; }

    /// <summary>The distinct riders of a cell over the given parts where that can be known exactly; null otherwise.</summary>
    public static long? DistinctRiders(IReadOnlyCollection<CellRiders> parts)
    {
        if (parts.Count == 1)
        {
            return parts.First().Riders;
        }

        if (parts.Any(d => d.SmallRiders is null))
        {
            return null;
        }

        return parts.SelectMany(d => d.SmallRiders!).Distinct().LongCount();
    }

    public bool IsSuppressed(long riders) => riders < K;

    public bool IsSuppressed(IReadOnlyCollection<CellRiders> parts)
    {
        var listed = parts.Where(d => d.SmallRiders is not null).SelectMany(d => d.SmallRiders!).Distinct().LongCount();
        return parts.Count > 0 && IsSuppressed(parts.Max(d => d.Riders), parts.Sum(d => d.Riders), listed);
    }

    /// <summary>Decides a group from the largest and the summed riders of its parts and the union of the kept lists.</summary>
    public bool IsSuppressed(long riderMax, long riderSum, long smallUnion)
    {
        if (riderMax >= K)
        {
            return false;
        }

        if (riderSum < K)
        {
            return true;
        }

        // Every part is below k, hence below the small-rider limit: their lists are known unless a cell lost most
        // of its riders after growing large, and an unknown list can only make this suppress.
        return smallUnion < K;
    }

    public bool IsSuppressed(GroupRow row) => IsSuppressed(row.RiderMax, row.RiderSum, row.SmallUnion);
}
