namespace Transit.Analytics.Rollups;

/// <summary>A cell's measures and distinct riders for one day; while few, the riders' pseudonyms themselves.</summary>
public sealed class CellValue
{
    public Measures Measures;

    public long Riders;

    /// <summary>The cell's riders while fewer than <see cref="RollupSet.SmallRiderLimit"/>; null once more.</summary>
    public List<long>? SmallRiders = [];
}

/// <summary>What one batch of recomputed rider-days changes in a cell.</summary>
public sealed class CellDelta
{
    public Measures Measures;

    public long Riders;

    /// <summary>Riders who entered the cell, while fewer than <see cref="RollupSet.SmallRiderLimit"/>; see <see cref="ManyAdded"/>.</summary>
    public List<long> Added { get; } = [];

    /// <summary>At least <see cref="RollupSet.SmallRiderLimit"/> riders entered: the cell is large, its list no longer kept.</summary>
    public bool ManyAdded { get; private set; }

    /// <summary>The delta that creates <paramref name="cell"/> from nothing.</summary>
    public static CellDelta Creating(CellValue cell)
    {
        var delta = new CellDelta { Measures = cell.Measures, Riders = cell.Riders, ManyAdded = cell.SmallRiders is null };
        delta.Added.AddRange(cell.SmallRiders ?? []);
        return delta;
    }

    public void MarkMany()
    {
        ManyAdded = true;
        Added.Clear();
    }

    public void Add(long rider)
    {
        if (ManyAdded)
        {
            return;
        }

        if (Added.Count + 1 >= RollupSet.SmallRiderLimit)
        {
            ManyAdded = true;
            Added.Clear();
            return;
        }

        Added.Add(rider);
    }

    public List<long> Removed { get; } = [];
}

/// <summary>
/// Rollup cells of one or more days, maintained incrementally: a rider-day is replaced as a whole, so each cell's
/// distinct-rider count changes by exactly the riders that entered or left it. The pseudonyms of small cells are kept
/// so that distinct riders over several days can be counted exactly where it decides suppression (see
/// <see cref="Privacy.SmallCellPolicy"/>).
/// </summary>
public sealed class RollupSet
{
    /// <summary>Cells with at least this many riders on a day stop listing them; must not be below the suppression k.</summary>
    public const int SmallRiderLimit = 64;

    public Dictionary<CellKey, CellValue> Cells { get; } = [];

    /// <summary>The changes that replacing each rider's old contribution by the new one makes.</summary>
    public static Dictionary<CellKey, CellDelta> Diff(IEnumerable<(long Rider, IReadOnlyDictionary<CellKey, Measures>? Old, IReadOnlyDictionary<CellKey, Measures>? New)> changes)
    {
        var deltas = new Dictionary<CellKey, CellDelta>();
        foreach (var (rider, old, @new) in changes)
        {
            Accumulate(deltas, rider, old, @new);
        }

        return WithoutEmpty(deltas);
    }

    /// <summary>Adds to <paramref name="deltas"/> what replacing one rider's old contribution by the new one changes.</summary>
    public static void Accumulate(Dictionary<CellKey, CellDelta> deltas, long rider, IReadOnlyDictionary<CellKey, Measures>? old, IReadOnlyDictionary<CellKey, Measures>? @new)
    {
        CellDelta At(CellKey key)
        {
            if (!deltas.TryGetValue(key, out var delta))
            {
                deltas[key] = delta = new CellDelta();
            }

            return delta;
        }

        if (@new is not null)
        {
            foreach (var (key, measures) in @new)
            {
                var delta = At(key);
                if (old is not null && old.TryGetValue(key, out var before))
                {
                    delta.Measures += measures - before;
                }
                else
                {
                    delta.Measures += measures;
                    delta.Riders++;
                    delta.Add(rider);
                }
            }
        }

        if (old is not null)
        {
            foreach (var (key, measures) in old)
            {
                if (@new is null || !@new.ContainsKey(key))
                {
                    var delta = At(key);
                    delta.Measures -= measures;
                    delta.Riders--;
                    delta.Removed.Add(rider);
                }
            }
        }
    }

    /// <summary>Adds the deltas of another batch of riders (computed apart, e.g. on another thread) into <paramref name="into"/>.</summary>
    public static void Merge(Dictionary<CellKey, CellDelta> into, Dictionary<CellKey, CellDelta> other)
    {
        foreach (var (key, delta) in other)
        {
            if (!into.TryGetValue(key, out var target))
            {
                into[key] = delta;
                continue;
            }

            target.Measures += delta.Measures;
            target.Riders += delta.Riders;
            target.Removed.AddRange(delta.Removed);
            if (delta.ManyAdded)
            {
                target.MarkMany();
            }

            foreach (var rider in delta.Added)
            {
                target.Add(rider);
            }
        }
    }

    /// <summary>Drops deltas that change nothing (a rider-day recomputed to the same cells).</summary>
    public static Dictionary<CellKey, CellDelta> WithoutEmpty(Dictionary<CellKey, CellDelta> deltas)
    {
        foreach (var key in deltas.Where(d => d.Value.Riders == 0 && d.Value.Measures.IsZero && d.Value.Added.Count == 0 && !d.Value.ManyAdded && d.Value.Removed.Count == 0).Select(d => d.Key).ToList())
        {
            deltas.Remove(key);
        }

        return deltas;
    }

    /// <summary>Adds a whole new rider-day (nothing of it counted before).</summary>
    public void Add(long rider, IReadOnlyDictionary<CellKey, Measures> contribution) => Apply(Diff([(rider, null, contribution)]));

    public void Apply(IReadOnlyDictionary<CellKey, CellDelta> deltas)
    {
        foreach (var (key, delta) in deltas)
        {
            if (!Cells.TryGetValue(key, out var cell))
            {
                Cells[key] = cell = new CellValue();
            }

            cell.Measures += delta.Measures;
            cell.Riders += delta.Riders;
            cell.SmallRiders = delta.ManyAdded ? null : MergeSmall(cell.SmallRiders, cell.Riders, delta.Added, delta.Removed);
            if (cell.Riders == 0 && cell.Measures.IsZero)
            {
                Cells.Remove(key);
            }
        }
    }

    /// <summary>
    /// The small-cell rider list after a change. A list once dropped (the cell grew large) stays unknown: a cell would
    /// need to lose most of its riders through late taps to fall back below the limit, and then it is treated as
    /// of unknown riders, which only ever suppresses more.
    /// </summary>
    public static List<long>? MergeSmall(List<long>? current, long riders, IEnumerable<long> added, IEnumerable<long> removed)
    {
        if (current is null || riders >= SmallRiderLimit)
        {
            return null;
        }

        var set = new HashSet<long>(current);
        set.ExceptWith(removed);
        set.UnionWith(added);
        return [.. set.Order()];
    }
}
