using Transit.Analytics.Rollups;

namespace Transit.Analytics.Privacy;

/// <summary>
/// Complementary suppression. A cell withheld for being small (<see cref="SmallCellPolicy"/>) could still be derived:
/// a planner sees totals beside it (the day's boardings beside the hours, a route's row of ridership.txt beside its
/// stops, an OD matrix's origin and destination sums from other views), and a total less the shown cells of its line
/// is the one withheld cell. So in every line of an answer whose total a reader might know, no cell is withheld
/// alone: where exactly one is, the smallest shown cell of that line is withheld with it. A line is any group of rows
/// sharing the values of a proper subset of the answer's dimensions (for rows by mode, stop and toStop: the rows of a
/// mode, of an origin, of a destination, of a mode and origin, …, and the grand total); the rule is applied until
/// it holds in every line at once, since a complementary cell can leave another line with a single withheld cell.
/// A line of one row needs nothing: its total is that very cell, small, and withheld wherever it is asked for.
/// </summary>
public static class ComplementarySuppression
{
    /// <summary>
    /// Which rows to withhold: the small ones (<paramref name="policy"/>) and their complements. The result marks
    /// each row <see cref="Withholding.Shown"/>, <see cref="Withholding.Small"/> or <see cref="Withholding.Complementary"/>.
    /// </summary>
    public static Withholding[] Decide(IReadOnlyList<GroupRow> rows, SmallCellPolicy policy)
    {
        var decisions = rows.Select(r => policy.IsSuppressed(r) ? Withholding.Small : Withholding.Shown).ToArray();
        Complete(rows.Select(r => r.Key).ToArray(), decisions, i => rows[i].Measures.M0);
        return decisions;
    }

    /// <summary>Adds complementary cells to <paramref name="decisions"/> until no line has exactly one withheld cell.</summary>
    public static void Complete(IReadOnlyList<IReadOnlyList<string>> keys, Withholding[] decisions, Func<int, long> size)
    {
        if (keys.Count < 2 || !decisions.Any(d => d != Withholding.Shown))
        {
            return;
        }

        var dimensions = keys[0].Count;
        var order = Enumerable.Range(0, keys.Count).OrderBy(size).ThenBy(i => string.Join('\u0001', keys[i]), StringComparer.Ordinal).ToArray();
        for (var changed = true; changed;)
        {
            changed = false;

            // Every proper subset of the dimensions (a bit per dimension kept): the full set would be each cell alone.
            for (var kept = 0; kept < (1 << dimensions) - 1; kept++)
            {
                var mask = kept;
                foreach (var line in order.GroupBy(i => Line(keys[i], mask), StringComparer.Ordinal).Select(g => g.ToList()))
                {
                    // The line keeps the order by size, so its first shown cell is its smallest.
                    if (line.Count > 1 && line.Count(i => decisions[i] != Withholding.Shown) == 1)
                    {
                        decisions[line.First(i => decisions[i] == Withholding.Shown)] = Withholding.Complementary;
                        changed = true;
                    }
                }
            }
        }
    }

    private static string Line(IReadOnlyList<string> key, int kept)
    {
        var parts = new List<string>(key.Count);
        for (var d = 0; d < key.Count; d++)
        {
            parts.Add((kept & (1 << d)) != 0 ? key[d] : "");
        }

        return string.Join('\u0001', parts);
    }
}

/// <summary>Whether an answer row is shown, withheld as small, or withheld to protect a small one.</summary>
public enum Withholding
{
    Shown,
    Small,
    Complementary,
}
