using Npgsql;
using Transit.Analytics.Chaining;
using Transit.Analytics.Privacy;
using Transit.Analytics.Rollups;
using Transit.Analytics.Store;

namespace Transit.Analytics.Tests;

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<TemporaryPostgres>, ICollectionFixture<SimulatedCity>
{
    public const string Name = "postgres";
}

[Collection(PostgresCollection.Name)]
[Trait("Category", "Database")]
public sealed class StoreTests(TemporaryPostgres postgres, SimulatedCity city)
{
    private static readonly DateOnly Date = new(2026, 11, 24);

    [Fact]
    public async Task RefreshAsync_TapsArrivingInTwoBatches_LeaveTheCellsOfABuildFromAllTaps()
    {
        await postgres.ResetAsync();
        var day = city.Day(Date, riders: 1_500, seed: 71);
        var refresher = new RollupRefresher(postgres.DataSource, new TripChainer(city.Network, city.Options));
        var cutoff = day.Taps[day.Taps.Count / 2].At;

        var first = await refresher.RefreshAsync(Date, ByRider(day.Taps.Where(t => t.At < cutoff)), default);
        var second = await refresher.RefreshAsync(Date, ByRider(day.Taps), default);
        var again = await refresher.RefreshAsync(Date, ByRider(day.Taps), default);

        Assert.True(first.Changed > 0);
        Assert.True(second.Changed > 0);
        Assert.Equal(0, again.Changed);
        var stored = await LoadCellsAsync();
        Assert.Equal(day.Rollups.Cells.Count, stored.Count);
        foreach (var (key, expected) in day.Rollups.Cells)
        {
            var actual = stored[key];
            Assert.Equal(expected.Measures, actual.Measures);
            Assert.Equal(expected.Riders, actual.Riders);
            Assert.Equal(expected.SmallRiders, actual.SmallRiders);
        }
    }

    [Fact]
    public async Task GroupAsync_WeekdayAndSunday_AnswersLikeTheInMemoryReader()
    {
        await postgres.ResetAsync();
        var refresher = new RollupRefresher(postgres.DataSource, new TripChainer(city.Network, city.Options));
        var days = new[] { city.Day(Date, riders: 1_200, seed: 72), city.Day(Date.AddDays(5), riders: 1_200, seed: 72) };
        var memory = new RollupSet();
        foreach (var day in days)
        {
            await refresher.RefreshAsync(day.Plan.Date, ByRider(day.Taps), default);
            foreach (var riderDay in day.RiderDays)
            {
                memory.Add(riderDay.Rider, RollupProjection.Project(riderDay, city.Options));
            }
        }

        var pg = new PostgresRollupReader(postgres.DataSource);
        var mem = new InMemoryRollupReader(memory.Cells);
        var policy = new SmallCellPolicy(10);
        var filter = new AnalyticsFilter(Date, Date.AddDays(5));
        (RollupTable, AnalyticsFilter, Dimension[])[] queries =
        [
            (RollupTable.Od, filter, [Dimension.Mode, Dimension.Stop, Dimension.ToStop]),
            (RollupTable.Od, filter with { Mode = "bus", HourFrom = 7, HourTo = 9 }, [Dimension.Stop, Dimension.ToStop, Dimension.Category]),
            (RollupTable.StopHour, filter with { Operator = "bus", Category = "child" }, [Dimension.Hour]),
            (RollupTable.Taps, filter, [Dimension.Reason]),
            (RollupTable.Transfers, filter, [Dimension.Route, Dimension.ToRoute]),
            (RollupTable.Journeys, filter, []),
            (RollupTable.Journeys, filter with { Operator = "bus" }, []),
            (RollupTable.StopHour, filter with { DayType = "weekday" }, [Dimension.Day, Dimension.Mode]),
            (RollupTable.StopHour, filter with { DayType = "sunday" }, [Dimension.Mode]),
        ];
        foreach (var (table, f, by) in queries)
        {
            var expected = (await mem.GroupAsync(table, f, by, default)).OrderBy(r => string.Join('|', r.Key), StringComparer.Ordinal).ToList();
            var actual = (await pg.GroupAsync(table, f, by, default)).OrderBy(r => string.Join('|', r.Key), StringComparer.Ordinal).ToList();
            Assert.True(expected.Count > 0 || f.Operator is not null, $"{table} by {string.Join(",", by)} has rows");
            Assert.Equal(expected.Count, actual.Count);
            foreach (var (e, a) in expected.Zip(actual))
            {
                Assert.Equal(e.Key, a.Key);
                Assert.Equal(e.Measures, a.Measures);
                Assert.Equal(policy.IsSuppressed(e), policy.IsSuppressed(a));
                Assert.Equal(e.DistinctRiders, a.DistinctRiders);
            }
        }
    }

    private static Dictionary<long, List<AnalyticsTap>> ByRider(IEnumerable<AnalyticsTap> taps) =>
        taps.GroupBy(t => t.Rider).ToDictionary(g => g.Key, g => g.ToList());

    private async Task<Dictionary<CellKey, CellValue>> LoadCellsAsync()
    {
        var cells = new Dictionary<CellKey, CellValue>();
        await using var command = postgres.DataSource.CreateCommand($"SELECT {PostgresRollupStore.KeyColumns}, m0, m1, m2, m3, riders, small_riders FROM analytics_cells");
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var key = new CellKey((RollupTable)reader.GetInt16(0), reader.GetFieldValue<DateOnly>(1), reader.GetInt16(2), reader.GetString(3), reader.GetString(4),
                reader.GetString(5), reader.GetString(6), reader.GetString(7), reader.GetString(8), reader.GetString(9), reader.GetString(10), reader.GetString(11),
                reader.GetString(12), reader.GetInt32(13), reader.GetString(14));
            cells[key] = new CellValue
            {
                Measures = new Measures(reader.GetInt64(15), reader.GetInt64(16), reader.GetInt64(17), reader.GetInt64(18)),
                Riders = reader.GetInt64(19),
                SmallRiders = reader.IsDBNull(20) ? null : [.. reader.GetFieldValue<long[]>(20)],
            };
        }

        return cells;
    }
}

