using Npgsql;
using Transit.Analytics.Chaining;
using Transit.Analytics.Privacy;
using Transit.Analytics.Rollups;
using Transit.Analytics.Web.Store;

namespace Transit.Analytics.Tests;

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<TemporaryPostgres>, ICollectionFixture<SimulatedCity>
{
    public const string Name = "postgres";
}

[Collection(PostgresCollection.Name)]
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
    public async Task GroupAsync_OverTwoDays_AnswersLikeTheInMemoryReader()
    {
        await postgres.ResetAsync();
        var refresher = new RollupRefresher(postgres.DataSource, new TripChainer(city.Network, city.Options));
        var days = new[] { city.Day(Date, riders: 1_200, seed: 72), city.Day(Date.AddDays(1), riders: 1_200, seed: 72) };
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
        var filter = new AnalyticsFilter(Date, Date.AddDays(1));
        (RollupTable, AnalyticsFilter, Dimension[])[] queries =
        [
            (RollupTable.Od, filter, [Dimension.Mode, Dimension.Stop, Dimension.ToStop]),
            (RollupTable.Od, filter with { Mode = "bus", HourFrom = 7, HourTo = 9 }, [Dimension.Stop, Dimension.ToStop, Dimension.Category]),
            (RollupTable.StopHour, filter with { Operator = "bus", Category = "child" }, [Dimension.Hour]),
            (RollupTable.Taps, filter, [Dimension.Reason]),
            (RollupTable.Transfers, filter, [Dimension.Route, Dimension.ToRoute]),
            (RollupTable.Journeys, filter, []),
        ];
        foreach (var (table, f, by) in queries)
        {
            var expected = (await mem.GroupAsync(table, f, by, default)).OrderBy(r => string.Join('|', r.Key), StringComparer.Ordinal).ToList();
            var actual = (await pg.GroupAsync(table, f, by, default)).OrderBy(r => string.Join('|', r.Key), StringComparer.Ordinal).ToList();
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

[Collection(PostgresCollection.Name)]
public sealed class RefreshServiceTests(TemporaryPostgres postgres, SimulatedCity city)
{
    private static readonly DateOnly Date = new(2026, 11, 25);

    [Fact]
    public async Task RefreshDayAsync_TapsArrivingOutOfOrder_KeepsTheRollupsExact()
    {
        await postgres.ResetAsync();
        await ExecAsync("""
            DROP TABLE IF EXISTS taps;
            CREATE TABLE taps (service_day date, device_id text, seq bigint, at timestamptz, received_at timestamptz, mode smallint, accepted boolean,
              gate_reason text, operator_id text, station_id text, stop_id text, route_id text, account text, category text)
            """);
        var day = city.Day(Date, riders: 800, seed: 81);
        var pseudonyms = SimulatedCity.Pseudonyms;
        var service = new AnalyticsRefreshService(postgres.DataSource, new RollupRefresher(postgres.DataSource, new TripChainer(city.Network, city.Options)), pseudonyms);
        var noon = day.Plan.Taps[day.Plan.Taps.Count / 2].At;

        // Morning taps arrive at noon, except every tenth, which a bus without a network uploads in the evening.
        var morning = day.Plan.Taps.Select((t, i) => (Tap: t, Index: i)).Where(x => x.Tap.At < noon).ToList();
        await InsertAsync(morning.Where(x => x.Index % 10 != 0).Select(x => x.Index), day, new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
        var first = await service.RefreshDayAsync(Date, full: false, default);
        await InsertAsync(Enumerable.Range(0, day.Plan.Taps.Count).Where(i => day.Plan.Taps[i].At >= noon || i % 10 == 0 && day.Plan.Taps[i].At < noon), day, new DateTimeOffset(2026, 11, 25, 22, 0, 0, TimeSpan.Zero));
        var second = await service.RefreshDayAsync(Date, full: false, default);
        var closing = await service.RefreshDayAsync(Date, full: true, default);

        Assert.True(first.Changed > 0);
        Assert.True(second.Changed > 0);
        Assert.Equal(0, closing.Changed);
        var reader = new PostgresRollupReader(postgres.DataSource);
        var memory = new InMemoryRollupReader(day.Rollups.Cells);
        foreach (var table in Enum.GetValues<RollupTable>())
        {
            Dimension[] by = [Dimension.Hour, Dimension.Operator, Dimension.Mode, Dimension.Route, Dimension.Stop, Dimension.ToStop, Dimension.Category, Dimension.Reason, Dimension.Trip, Dimension.Value];
            var expected = (await memory.GroupAsync(table, new AnalyticsFilter(Date, Date), by, default)).Select(r => (string.Join("|", r.Key), r.Measures.M0, r.Measures.M1, r.Measures.M2, r.Measures.M3, r.RiderSum)).Order().ToList();
            var actual = (await reader.GroupAsync(table, new AnalyticsFilter(Date, Date), by, default)).Select(r => (string.Join("|", r.Key), r.Measures.M0, r.Measures.M1, r.Measures.M2, r.Measures.M3, r.RiderSum)).Order().ToList();
            Assert.Equal(expected, actual);
        }
    }

    [Fact]
    public async Task ExecuteAsync_CloseDayJob_BuildsTheDaysRollupsFromTheImportedFeed()
    {
        await postgres.ResetAsync();
        var feed = Directory.CreateTempSubdirectory("analytics-feed").FullName;
        Transit.Simulation.SyntheticCity.Write(feed);
        var files = Directory.GetFiles(feed).ToDictionary(f => Path.GetFileName(f), File.ReadAllText);
        Directory.Delete(feed, recursive: true);
        await ExecAsync("""
            DROP TABLE IF EXISTS taps, gtfs_feeds, journey_legs, journeys;
            CREATE TABLE taps (service_day date, device_id text, seq bigint, at timestamptz, received_at timestamptz, mode smallint, accepted boolean,
              gate_reason text, operator_id text, station_id text, stop_id text, route_id text, account text, category text);
            CREATE TABLE gtfs_feeds (feed_id bigserial PRIMARY KEY, valid_from date NOT NULL UNIQUE, files jsonb NOT NULL);
            CREATE TABLE journeys (account text, service_day date, journey_no int, category text);
            CREATE TABLE journey_legs (account text, service_day date, journey_no int, leg_no int, operator_id text, route_id text, share bigint);
            """);
        await using (var insert = postgres.DataSource.CreateCommand("INSERT INTO gtfs_feeds (valid_from, files) VALUES ('2026-01-01', $1::jsonb)"))
        {
            insert.Parameters.AddWithValue(System.Text.Json.JsonSerializer.Serialize(files));
            await insert.ExecuteNonQueryAsync();
        }

        var day = city.Day(Date, riders: 600, seed: 82);
        await InsertAsync(Enumerable.Range(0, day.Taps.Count), day, new DateTimeOffset(2026, 11, 25, 23, 0, 0, TimeSpan.Zero));
        var jobs = new AnalyticsJobs(postgres.DataSource, new FeedNetworks(postgres.DataSource), SimulatedCity.Pseudonyms, city.Options);
        var result = await jobs.ExecuteAsync(AnalyticsJobs.CloseDay, "2026-11-25", default);

        Assert.Contains($"{day.RiderDays.Count} changed", result, StringComparison.Ordinal);
        var od = await new PostgresRollupReader(postgres.DataSource).GroupAsync(RollupTable.Od, new AnalyticsFilter(Date, Date), [], default);
        Assert.Equal(day.Legs.Count, Assert.Single(od).Measures.M0);
    }

    private async Task InsertAsync(IEnumerable<int> indexes, SimulatedDay day, DateTimeOffset receivedAt)
    {
        var categories = day.Plan.Riders.ToDictionary(r => r.Account, r => r.Category);
        await using var connection = await postgres.DataSource.OpenConnectionAsync();
        await using var copy = await connection.BeginBinaryImportAsync("COPY taps (service_day, device_id, seq, at, received_at, mode, accepted, gate_reason, operator_id, station_id, stop_id, route_id, account, category) FROM STDIN (FORMAT BINARY)");
        foreach (var i in indexes)
        {
            var planned = day.Plan.Taps[i];
            var tap = day.Taps[i];
            await copy.StartRowAsync();
            await copy.WriteAsync(Date, NpgsqlTypes.NpgsqlDbType.Date);
            await copy.WriteAsync(tap.DeviceId, NpgsqlTypes.NpgsqlDbType.Text);
            await copy.WriteAsync(tap.Sequence, NpgsqlTypes.NpgsqlDbType.Bigint);
            await copy.WriteAsync(tap.At.ToUniversalTime(), NpgsqlTypes.NpgsqlDbType.TimestampTz);
            await copy.WriteAsync(receivedAt, NpgsqlTypes.NpgsqlDbType.TimestampTz);
            await copy.WriteAsync((short)tap.Kind, NpgsqlTypes.NpgsqlDbType.Smallint);
            await copy.WriteAsync(tap.Accepted, NpgsqlTypes.NpgsqlDbType.Boolean);
            await copy.WriteAsync(tap.Reason, NpgsqlTypes.NpgsqlDbType.Text);
            await copy.WriteAsync(tap.OperatorId, NpgsqlTypes.NpgsqlDbType.Text);
            await copy.WriteAsync(tap.Kind == TapKind.Bus ? null : tap.StopId, NpgsqlTypes.NpgsqlDbType.Text);
            await copy.WriteAsync(tap.Kind == TapKind.Bus ? tap.StopId : null, NpgsqlTypes.NpgsqlDbType.Text);
            await copy.WriteAsync(tap.RouteId, NpgsqlTypes.NpgsqlDbType.Text);
            await copy.WriteAsync(planned.Account, NpgsqlTypes.NpgsqlDbType.Text);
            await copy.WriteAsync(categories[planned.Account], NpgsqlTypes.NpgsqlDbType.Text);
        }

        await copy.CompleteAsync();
    }

    private async Task ExecAsync(string sql)
    {
        await using var command = postgres.DataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}

[Collection(PostgresCollection.Name)]
public sealed class RevenueRefreshTests(TemporaryPostgres postgres)
{
    private static readonly DateOnly Date = new(2026, 11, 26);

    [Fact]
    public async Task RefreshDayAsync_PricedLegs_ReplaceTheDaysRevenueCells()
    {
        await postgres.ResetAsync();
        await using (var setup = postgres.DataSource.CreateCommand("""
            DROP TABLE IF EXISTS journey_legs, journeys;
            CREATE TABLE journeys (account text, service_day date, journey_no int, category text);
            CREATE TABLE journey_legs (account text, service_day date, journey_no int, leg_no int, operator_id text, route_id text, share bigint);
            INSERT INTO journeys SELECT 'r' || i, '2026-11-26', 0, CASE WHEN i % 4 = 0 THEN 'child' ELSE 'adult' END FROM generate_series(1, 40) i;
            INSERT INTO journey_legs SELECT 'r' || i, '2026-11-26', 0, 0, 'bus', 'B1', 160 FROM generate_series(1, 40) i;
            INSERT INTO journey_legs SELECT 'r' || i, '2026-11-26', 0, 1, 'metro', NULL, 100 FROM generate_series(1, 12) i;
            """))
        {
            await setup.ExecuteNonQueryAsync();
        }

        var refresh = new RevenueRefresh(postgres.DataSource, SimulatedCity.Pseudonyms);
        await refresh.RefreshDayAsync(Date, default);
        await refresh.RefreshDayAsync(Date, default);

        var rows = await new PostgresRollupReader(postgres.DataSource).GroupAsync(RollupTable.Revenue, new AnalyticsFilter(Date, Date), [Dimension.Operator, Dimension.Category], default);
        var byKey = rows.ToDictionary(r => string.Join('/', r.Key));
        Assert.Equal(30 * 160, byKey["bus/adult"].Measures.M0);
        Assert.Equal(10 * 160, byKey["bus/child"].Measures.M0);
        Assert.Equal(10, byKey["bus/child"].DistinctRiders);
        Assert.Equal(12 * 100, rows.Where(r => r.Key[0] == "metro").Sum(r => r.Measures.M0));
        var policy = new SmallCellPolicy(10);
        Assert.False(policy.IsSuppressed(byKey["bus/child"]));
        Assert.True(policy.IsSuppressed(byKey["metro/child"]));
    }
}
