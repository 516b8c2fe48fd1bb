using Transit.Analytics.Chaining;
using Transit.Analytics.Privacy;
using Transit.Analytics.Rollups;

namespace Transit.Analytics.Tests;

public sealed class RollupTests(SimulatedCity city) : IClassFixture<SimulatedCity>
{
    private static readonly DateOnly Date = new(2026, 11, 24);

    [Fact]
    public void Aggregate_OdMatrixForPlanners_SuppressesEverySmallCellAndNoLargeOne()
    {
        var day = city.Day(Date, riders: 3_000, seed: 21);
        var policy = new SmallCellPolicy(10);
        var answers = RollupQuery.Aggregate(day.Rollups.Cells, k => k.Table == RollupTable.Od && k.ToStop != "", k => (k.Mode, k.Stop, k.ToStop), policy);

        // Distinct riders per OD pair counted straight from the legs, independently of the rollups.
        var truth = day.Legs.Where(l => l.Destination is not null)
            .GroupBy(l => (Mode: l.Mode == LegMode.Metro ? "metro" : "bus", l.Origin, l.Destination))
            .ToDictionary(g => (g.Key.Mode, g.Key.Origin!, g.Key.Destination!), g => (Legs: g.Count(), Riders: g.Select(l => l.Rider).Distinct().Count()));

        Assert.Equal(truth.Count, answers.Count);
        Assert.Contains(answers, a => a.Suppressed);
        Assert.Contains(answers, a => !a.Suppressed);
        foreach (var answer in answers)
        {
            var (legs, riders) = truth[answer.Key];
            Assert.Equal(riders < 10, answer.Suppressed);
            if (answer.Suppressed)
            {
                Assert.Null(answer.Riders);
                Assert.Equal(0, answer.Measures.M0);
            }
            else
            {
                Assert.Equal(legs, answer.Measures.M0);
            }
        }
    }

    [Fact]
    public void Aggregate_SameRidersOnTwoDays_CountsThemOnce()
    {
        var policy = new SmallCellPolicy(10);
        var set = new RollupSet();
        var cell = new CellKey(RollupTable.StopHour, Date, 8, "bus", "bus", "B1", "BS1624");
        for (var day = 0; day < 2; day++)
        {
            for (long rider = 1; rider <= 6; rider++)
            {
                set.Add(rider, new Dictionary<CellKey, Measures> { [cell with { Day = Date.AddDays(day) }] = new(1) });
            }
        }

        var sameRiders = RollupQuery.Aggregate(set.Cells, _ => true, k => k.Stop, policy);
        Assert.True(Assert.Single(sameRiders).Suppressed);

        for (long rider = 7; rider <= 10; rider++)
        {
            set.Add(rider, new Dictionary<CellKey, Measures> { [cell with { Day = Date.AddDays(1) }] = new(1) });
        }

        var tenRiders = Assert.Single(RollupQuery.Aggregate(set.Cells, _ => true, k => k.Stop, policy));
        Assert.False(tenRiders.Suppressed);
        Assert.Equal(10, tenRiders.Riders);
        Assert.Equal(16, tenRiders.Measures.M0);
    }

    [Fact]
    public void IsSuppressed_PartsThatAreLargeOrSumSmall_DecidesWithoutTheLists()
    {
        var policy = new SmallCellPolicy(10);
        Assert.False(policy.IsSuppressed([new CellRiders(10, null), new CellRiders(2, [1, 2])]));
        Assert.True(policy.IsSuppressed([new CellRiders(4, null), new CellRiders(5, null)]));
        Assert.True(policy.IsSuppressed([new CellRiders(9, null), new CellRiders(9, null)]));
        Assert.True(policy.IsSuppressed([new CellRiders(9, [.. Enumerable.Range(1, 9).Select(i => (long)i)]), new CellRiders(1, [1])]));
        Assert.False(policy.IsSuppressed([new CellRiders(9, [.. Enumerable.Range(1, 9).Select(i => (long)i)]), new CellRiders(1, [10])]));
    }

    [Fact]
    public void Apply_LateTapsRecomputingRiderDays_EndsEqualToABuildFromAllTaps()
    {
        var day = city.Day(Date, riders: 1_500, seed: 31);
        var chainer = new TripChainer(city.Network, city.Options);
        var cutoff = day.Taps[day.Taps.Count / 2].At;

        // First the morning as it arrived, then every rider-day recomputed when the rest arrives.
        var incremental = new RollupSet();
        var before = new Dictionary<long, Dictionary<CellKey, Measures>>();
        foreach (var group in day.Taps.Where(t => t.At < cutoff).GroupBy(t => t.Rider))
        {
            var riderDay = new RiderDay(group.Key, Date, [.. group], chainer.Chain(group.Key, Date, group), []);
            before[group.Key] = RollupProjection.Project(riderDay, city.Options);
            incremental.Add(group.Key, before[group.Key]);
        }

        var changes = day.RiderDays.Select(d => (d.Rider, (IReadOnlyDictionary<CellKey, Measures>?)before.GetValueOrDefault(d.Rider), (IReadOnlyDictionary<CellKey, Measures>?)RollupProjection.Project(d, city.Options)));
        incremental.Apply(RollupSet.Diff(changes));

        Assert.Equal(day.Rollups.Cells.Count, incremental.Cells.Count);
        foreach (var (key, expected) in day.Rollups.Cells)
        {
            var actual = incremental.Cells[key];
            Assert.Equal(expected.Measures, actual.Measures);
            Assert.Equal(expected.Riders, actual.Riders);
            Assert.Equal(expected.SmallRiders, actual.SmallRiders);
        }
    }

    [Fact]
    public void Project_DayTotals_AddUpToTheTapsAndLegs()
    {
        var day = city.Day(Date, riders: 800, seed: 41);
        var cells = day.Rollups.Cells;
        long Sum(RollupTable table, Func<CellKey, bool> filter, Func<Measures, long> measure) =>
            cells.Where(c => c.Key.Table == table && filter(c.Key)).Sum(c => measure(c.Value.Measures));

        Assert.Equal(day.Taps.Count, Sum(RollupTable.Taps, _ => true, m => m.M0));
        Assert.Equal(day.Taps.Count(t => !t.Accepted), Sum(RollupTable.Taps, k => k.Reason != "ok", m => m.M0));
        Assert.Equal(day.Legs.Count, Sum(RollupTable.StopHour, _ => true, m => m.M0));
        Assert.Equal(day.Legs.Count(l => l.Destination is not null), Sum(RollupTable.StopHour, _ => true, m => m.M1));
        Assert.Equal(day.Legs.Count, Sum(RollupTable.Od, _ => true, m => m.M0));
        Assert.Equal(day.Legs.Count(l => l.IsTransfer), Sum(RollupTable.Transfers, _ => true, m => m.M0));
        Assert.Equal(day.Legs.Select(l => (l.Rider, l.JourneyNo)).Distinct().Count(), Sum(RollupTable.Journeys, _ => true, m => m.M0));
        Assert.Equal(day.Legs.Count(l => l.Mode == LegMode.Bus && l.TripId is not null), Sum(RollupTable.TripStop, _ => true, m => m.M0));
    }
}
