using Transit.Analytics.Exports;
using Transit.Analytics.Privacy;
using Transit.Analytics.Rollups;
using Transit.DeviceApi;

namespace Transit.Analytics.Tests;

public sealed class ExportTests(SimulatedCity city) : IClassFixture<SimulatedCity>
{
    private static readonly DateOnly Date = new(2026, 11, 24);

    [Fact]
    public async Task Bundle_PlannerExportOfADay_PassesTheStandardsFieldDefinitions()
    {
        var day = city.Day(Date, riders: 3_000, seed: 51);
        var exports = new StandardExports(city.Options, "EUR");
        var files = await exports.BundleAsync(new InMemoryRollupReader(day.Rollups.Cells), new AnalyticsFilter(Date, Date), new SmallCellPolicy(10), "1", default);

        foreach (var file in files.Where(f => f.Name != "suppressed.txt"))
        {
            var spec = ExportSpecs.All.Single(s => s.FileName == file.Name);
            Assert.Empty(ExportValidator.Validate(spec, file.Content));
            Assert.True(file.Content.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length > 1, $"{file.Name} has rows");
        }

        Assert.Contains(files, f => f.Name == "suppressed.txt" && f.Content.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length > 1);
    }

    [Fact]
    public async Task Bundle_ForPlanners_LeavesOutEverySmallCellAndListsEachLargeOneLeftOutAsComplementary()
    {
        var day = city.Day(Date, riders: 3_000, seed: 51);
        var files = await new StandardExports(city.Options, "EUR").BundleAsync(new InMemoryRollupReader(day.Rollups.Cells), new AnalyticsFilter(Date, Date), new SmallCellPolicy(10), "1", default);
        var boardAlight = Rows(files.Single(f => f.Name == "board_alight.txt").Content);
        var complementary = Rows(files.Single(f => f.Name == "suppressed.txt").Content)
            .Where(r => r["file"] == "board_alight.txt" && r["reason"] == StandardExports.ComplementaryReason)
            .Select(r => r["cell"].Split(' ')).Select(k => (k[1], k[2])).ToHashSet();

        var riders = day.Rollups.Cells.Where(c => c.Key.Table == RollupTable.TripStop)
            .GroupBy(c => (c.Key.Trip, c.Key.Stop))
            .ToDictionary(g => g.Key, g => g.Sum(c => c.Value.Riders));
        var shown = boardAlight.Select(r => (r["trip_id"], r["stop_id"])).ToHashSet();
        Assert.NotEmpty(shown);
        foreach (var ((trip, stop), count) in riders)
        {
            Assert.Equal(count >= 10 && !complementary.Contains((trip, stop)), shown.Contains((trip, stop)));
        }
    }

    [Fact]
    public async Task StationActivities_ForAdmins_CountsEveryAcceptedEntryAndExit()
    {
        var day = city.Day(Date, riders: 1_000, seed: 52);
        var csv = await new StandardExports(city.Options, "EUR").StationActivitiesAsync(new InMemoryRollupReader(day.Rollups.Cells), new AnalyticsFilter(Date, Date), policy: null, [], default);
        Assert.Empty(ExportValidator.Validate(ExportSpecs.TidesStationActivities, csv));
        var rows = Rows(csv);
        Assert.Equal(day.Taps.Count(t => t.Accepted && t.Mode == TapMode.MetroEntry), rows.Sum(r => long.Parse(r["total_entries"], System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal(day.Taps.Count(t => t.Accepted && t.Mode == TapMode.MetroExit), rows.Sum(r => long.Parse(r["total_exits"], System.Globalization.CultureInfo.InvariantCulture)));
        Assert.All(rows, r => Assert.EndsWith("Z", r["time_period_start"], StringComparison.Ordinal));
    }

    [Fact]
    public void FareTransactions_AcceptedTapsOfADay_PassTheTidesDefinitions()
    {
        var day = city.Day(Date, riders: 500, seed: 53);
        var exports = new StandardExports(city.Options, "EUR");
        var csv = exports.FareTransactions(day.RiderDays.SelectMany(d => StandardExports.TransactionsOf(d, t => t.Mode.IsExit() ? null : new FarePrice(160, false, null))));
        Assert.Empty(ExportValidator.Validate(ExportSpecs.TidesFareTransactions, csv));
        var rows = Rows(csv);
        Assert.Equal(day.Taps.Count(t => t.Accepted), rows.Count);
        Assert.Equal(day.Legs.Count(l => l.IsTransfer), rows.Count(r => r["fare_action"] == "Transfer entrance"));
        Assert.All(rows, r => Assert.Matches("^[0-9a-f]{16}$", r["token_id"]));
        Assert.Contains(rows, r => r["amount"] == "1.6");
    }

    [Theory]
    [InlineData(ExportAudience.Planner)]
    [InlineData(ExportAudience.Operator)]
    public async Task ForAudience_PlannerOrOperator_GetsNoRiderLevelFile(ExportAudience audience)
    {
        var day = city.Day(Date, riders: 500, seed: 54);
        var riderLevelRead = false;
        var filter = new AnalyticsFilter(Date, Date) { Operator = audience == ExportAudience.Operator ? Simulation.SyntheticCity.BusOperator : null };
        var files = await new StandardExports(city.Options, "EUR").ForAudienceAsync(audience, new InMemoryRollupReader(day.Rollups.Cells), filter, "1", _ =>
        {
            riderLevelRead = true;
            return Task.FromResult(new RiderLevel(day.RiderDays, _ => null));
        }, default);

        Assert.False(riderLevelRead, "rider-level data was read for a planner or operator export");
        Assert.Equal(["board_alight.txt", "ridership.txt", "ride_feed_info.txt", "station_activities.csv", "suppressed.txt"], files.Select(f => f.Name));
        Assert.DoesNotContain(files, f => ExportSpecs.RiderLevel.Any(s => s.FileName == f.Name));
        Assert.Equal("4", Rows(files.Single(f => f.Name == "ride_feed_info.txt").Content).Single()["ride_files"]);
    }

    [Fact]
    public async Task ForAudience_OperatorWithoutItsOperator_IsRefused()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => new StandardExports(city.Options, "EUR").ForAudienceAsync(
            ExportAudience.Operator, new InMemoryRollupReader([]), new AnalyticsFilter(Date, Date), "1", _ => throw new InvalidOperationException("read"), default));
        Assert.Contains("operator", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ForAudience_Admin_AddsRiderTripWithOneRowPerLegAndOnlyWhatTheTapsProve()
    {
        var day = city.Day(Date, riders: 800, seed: 55);
        var files = await new StandardExports(city.Options, "EUR").ForAudienceAsync(
            ExportAudience.Admin, new InMemoryRollupReader(day.Rollups.Cells), new AnalyticsFilter(Date, Date), "1",
            _ => Task.FromResult(new RiderLevel(day.RiderDays, t => t.Mode.IsExit() ? null : new FarePrice(t.Mode == TapMode.Bus ? 150 : 230, false, null))),
            default);

        Assert.Equal(["board_alight.txt", "ridership.txt", "ride_feed_info.txt", "station_activities.csv", "fare_transactions.csv", "rider_trip.txt"], files.Select(f => f.Name));
        Assert.Equal("6", Rows(files.Single(f => f.Name == "ride_feed_info.txt").Content).Single()["ride_files"]);
        var csv = files.Single(f => f.Name == "rider_trip.txt").Content;
        Assert.Empty(ExportValidator.Validate(ExportSpecs.GtfsRideRiderTrip, csv));
        Assert.Equal(string.Join(',', ExportSpecs.GtfsRideRiderTrip.Fields.Select(f => f.Name)), csv[..csv.IndexOf('\n', StringComparison.Ordinal)]);

        var rows = Rows(csv);
        Assert.Equal(day.Legs.Count, rows.Count);
        Assert.All(rows, r => Assert.Matches("^[0-9a-f]{16}$", r["rider_id"]));
        Assert.DoesNotContain(rows, r => day.Plan.Riders.Any(p => r["rider_id"] == p.Account));
        Assert.Equal(day.Legs.Select(l => Pseudonymizer.Text(l.Rider)).Distinct().Order(StringComparer.Ordinal), rows.Select(r => r["rider_id"]).Distinct().Order(StringComparer.Ordinal));
        Assert.Equal(day.Legs.Count(l => l.IsTransfer), rows.Count(r => r["transfer_status"] == "1"));

        // Alightings only where an exit gate recorded them; no schedule-matched trips or sequences; prices as charged.
        var exact = day.Legs.Where(l => l.Level == Chaining.InferenceLevel.Exact).ToList();
        Assert.NotEmpty(exact);
        Assert.Equal(exact.Count, rows.Count(r => r["alighting_stop_id"].Length > 0));
        Assert.Equal(exact.Count, rows.Count(r => r["alighting_time"].Length > 0));
        Assert.Equal(
            exact.Select(l => (Pseudonymizer.Text(l.Rider), l.Origin, l.Destination)).Order(),
            rows.Where(r => r["alighting_stop_id"].Length > 0).Select(r => (r["rider_id"], (string?)r["boarding_stop_id"], (string?)r["alighting_stop_id"])).Order());
        Assert.All(rows, r => Assert.Equal("", r["trip_id"] + r["boarding_stop_sequence"] + r["alighting_stop_sequence"] + r["rider_type"] + r["transaction_type"] + r["fare_media"]));
        Assert.All(rows, r => Assert.Matches("^[0-9]{2}:[0-5][0-9]:[0-5][0-9]$", r["boarding_time"]));
        Assert.Equal(day.Legs.Count(l => l.Mode == Chaining.LegMode.Bus), rows.Count(r => r["fare_paid"] == "1.5"));
        Assert.Equal(day.Legs.Count(l => l.Mode == Chaining.LegMode.Metro), rows.Count(r => r["fare_paid"] == "2.3"));
    }

    [Theory]
    [InlineData("board_alight.txt", "trip_id,stop_id,stop_sequence,record_use,boardings\nt1,s1,-1,0,3\n", "stop_sequence: -1 is outside")]
    [InlineData("board_alight.txt", "trip_id,stop_id,stop_sequence,record_use,boardings\nt1,s1,1,2,3\n", "record_use: 2 is outside")]
    [InlineData("board_alight.txt", "trip_id,stop_sequence,record_use\nt1,1,0\n", "required column 'stop_id' is missing")]
    [InlineData("board_alight.txt", "trip_id,stop_id,stop_sequence,record_use,boardings,riders\nt1,s1,1,0,3,2\n", "unknown column 'riders'")]
    [InlineData("board_alight.txt", "trip_id,stop_id,stop_sequence,record_use,service_date\nt1,s1,1,0,2026-11-24\n", "is not a date (YYYYMMDD)")]
    [InlineData("ridership.txt", "total_boardings,total_alightings,ridership_start_date,ridership_end_date,route_id\n5,4,20261124,20261124,B1\n", "equal total_boardings and total_alightings")]
    [InlineData("ridership.txt", "total_boardings,total_alightings,ridership_start_date,ridership_end_date\n5,5,20261124,20261123\n", "ridership_end_date is before")]
    [InlineData("ride_feed_info.txt", "ride_files,ride_start_date\n7,20261124\n", "ride_files: 7 is outside")]
    [InlineData("fare_transactions.csv", "transaction_id,service_date,event_timestamp,amount,fare_action\na,2026-11-24,2026-11-24T08:00:00Z,1,Tap\n", "'Tap' is not one of the allowed values")]
    [InlineData("fare_transactions.csv", "transaction_id,service_date,event_timestamp,amount,fare_action\na,2026-11-24,2026-11-24T08:00:00Z,1,Enter\na,2026-11-24,2026-11-24T08:00:00Z,1,Enter\n", "is not unique")]
    [InlineData("fare_transactions.csv", "transaction_id,service_date,event_timestamp,amount,fare_action\na,2026-11-24,2026-11-24 08:00,,Enter\n", "event_timestamp: '2026-11-24 08:00' is not a date and time")]
    [InlineData("station_activities.csv", "service_date,stop_id,time_period_start,time_period_end,total_entries\n2026-11-24,CEN,2026-11-24T08:00:00Z,2026-11-24T07:00:00Z,3\n", "time_period_end is not after")]
    [InlineData("station_activities.csv", "service_date,stop_id,time_period_start,time_period_end,total_entries\n2026-11-24,CEN,2026-11-24T08:00:00Z,2026-11-24T09:00:00Z,x\n", "'x' is not an integer")]
    public void Validate_ValueAgainstTheDefinition_IsReported(string file, string csv, string expected)
    {
        var errors = ExportValidator.Validate(ExportSpecs.All.Single(s => s.FileName == file), csv);
        Assert.Contains(errors, e => e.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Exports_BusTapOff_IsAnExitWithItsExactAlighting()
    {
        var (board, alight) = city.BusRide("B1");
        AnalyticsTap[] taps = [SimulatedCity.Tap(TapMode.Bus, 0, board, "B1", sequence: 1), SimulatedCity.Tap(TapMode.BusExit, 9, alight, "B1", sequence: 2)];
        var day = new RiderDay(42, Date, taps, new Chaining.TripChainer(city.Network, city.Options).Chain(42, Date, taps), []);
        var exports = new StandardExports(city.Options, "EUR");

        var transactions = Rows(exports.FareTransactions(StandardExports.TransactionsOf(day, t => t.Mode.IsExit() ? null : new FarePrice(150, false, null))));
        Assert.Equal([("Enter", "1.5"), ("Exit", "0")], transactions.Select(r => (r["fare_action"], r["amount"])));
        Assert.Equal("", transactions[1]["scheduled_stop_sequence"]);

        var riderTrip = Rows(exports.RiderTrips(new RiderLevel([day], t => t.Mode.IsExit() ? null : new FarePrice(150, false, null)))).Single();
        Assert.Equal((board, alight, "1.5"), (riderTrip["boarding_stop_id"], riderTrip["alighting_stop_id"], riderTrip["fare_paid"]));

        // A tapped alighting is counted from fare collection, not estimated (GTFS-ride source 2), and taps it as a bus tap.
        var rollups = new RollupSet();
        rollups.Add(42, RollupProjection.Project(day, city.Options));
        var boardAlight = Rows(await StandardExports.BoardAlightAsync(new InMemoryRollupReader(rollups.Cells), new AnalyticsFilter(Date, Date), policy: null, [], default));
        Assert.Equal([("1", "0", "2"), ("0", "1", "2")], boardAlight.Select(r => (r["boardings"], r["alightings"], r["source"])));
        Assert.Equal(["bus", "bus-exit"], rollups.Cells.Where(c => c.Key.Table == RollupTable.Taps).Select(c => c.Key.Mode).Order(StringComparer.Ordinal));
    }

    private static List<Dictionary<string, string>> Rows(string csv)
    {
        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var header = lines[0].Split(',');
        return [.. lines.Skip(1).Select(l => header.Zip(l.Split(',')).ToDictionary(p => p.First, p => p.Second))];
    }
}
