using Transit.Analytics.Exports;
using Transit.Analytics.Privacy;
using Transit.Analytics.Rollups;
using Transit.DeviceApi;

namespace Transit.Analytics.Tests;

/// <summary>Every TIDES file Transit exports, checked against the TIDES v1.0 table schemas kept in tests/data/tides-v1.0.</summary>
public sealed class TidesConformanceTests(SimulatedCity city) : IClassFixture<SimulatedCity>
{
    private static readonly DateOnly Date = new(2026, 11, 24);

    private static TableSchemaChecker Schema(string table) => TableSchemaChecker.TidesV1(table);

    /// <summary>Every TIDES file of every audience's export passes the v1.0 schemas (admins get fare_transactions too).</summary>
    [Theory]
    [InlineData(ExportAudience.Planner)]
    [InlineData(ExportAudience.Operator)]
    [InlineData(ExportAudience.Admin)]
    public async Task TidesFiles_OfEachAudiencesExport_ConformToTidesV1(ExportAudience audience)
    {
        var day = city.Day(Date, riders: 2_000, seed: 61);
        var filter = new AnalyticsFilter(Date, Date) { Operator = audience == ExportAudience.Operator ? Simulation.SyntheticCity.MetroOperator : null };
        var files = await new StandardExports(city.Options, "EUR").ForAudienceAsync(
            audience, new InMemoryRollupReader(day.Rollups.Cells), filter, "1",
            _ => Task.FromResult(new RiderLevel(day.RiderDays, t => t.Mode.IsExit() ? null : new FarePrice(160, t.Sequence % 7 == 0, "single"))),
            default);

        var tides = files.Where(f => f.Name.EndsWith(".csv", StringComparison.Ordinal)).ToList();
        Assert.Equal(audience == ExportAudience.Admin ? ["station_activities.csv", "fare_transactions.csv"] : ["station_activities.csv"], tides.Select(f => f.Name));
        foreach (var file in tides)
        {
            Assert.Empty(Schema(file.Name[..^".csv".Length]).Check(file.Content));
            Assert.True(file.Content.Count(c => c == '\n') > 1, $"{file.Name} has rows");
        }

        if (audience == ExportAudience.Admin)
        {
            var transactions = tides.Single(f => f.Name == "fare_transactions.csv").Content;
            Assert.Equal(day.Taps.Count(t => t.Accepted) + 1, transactions.Count(c => c == '\n'));
            Assert.Contains(",true,", transactions, StringComparison.Ordinal);
        }
    }

    /// <summary>The checker fails headers that are not the schema's fields in the schema's order.</summary>
    [Theory]
    [InlineData("station_activities", "date,stop_id,time_period_start,time_period_end", "column 1 is 'date' where the schema has 'service_date'")]
    [InlineData("station_activities", "stop_id,service_date,time_period_start,time_period_end,time_period_category,total_entries,total_exits,number_of_transactions,bike_entries,bike_exits,ramp_entries,ramp_exits", "column 1 is 'stop_id' where the schema has 'service_date'")]
    [InlineData("station_activities", "service_date,stop_id,time_period_start,time_period_end,time_period_category,total_entries,total_exits,number_of_transactions,bike_entries,bike_exits,ramp_entries,ramp_exits,transaction_count_5", "column 13 'transaction_count_5' is not a field")]
    [InlineData("station_activities", "service_date,stop_id,time_period_start,time_period_end,time_period_category,total_entries,total_exits,number_of_transactions,bike_entries,bike_exits,ramp_entries", "field 'ramp_exits' (column 12) is missing")]
    // The shared GTFS reader skips blank lines, so an empty header line leaves a file without one.
    [InlineData("fare_transactions", "", "fare_transactions.schema.json: the file has no header")]
    public void Checker_HeaderNotTheSchemas_IsReported(string table, string header, string expected) =>
        Assert.Contains(Schema(table).Check(header + "\n"), e => e.Contains(expected, StringComparison.Ordinal));

    /// <summary>The checker fails a value that breaks its field's definition: a valid row with one value changed.</summary>
    [Theory]
    [InlineData("station_activities", "stop_id=", "stop_id: a required value is missing")]
    [InlineData("station_activities", "stop_id=NA", "stop_id: a required value is missing")]
    [InlineData("station_activities", "service_date=20261124", "service_date: '20261124' is not a date")]
    [InlineData("station_activities", "service_date=2026-02-30", "service_date: '2026-02-30' is not a date")]
    [InlineData("station_activities", "time_period_start=2026-11-24 08:00", "time_period_start: '2026-11-24 08:00' is not a date and time")]
    [InlineData("station_activities", "total_entries=1.5", "total_entries: '1.5' is not an integer")]
    [InlineData("station_activities", "total_exits=-1", "total_exits: -1 is outside [0, inf]")]
    [InlineData("fare_transactions", "fare_action=Tap", "fare_action: 'Tap' is not one of")]
    [InlineData("fare_transactions", "fare_capped=", "fare_capped: a required value is missing")]
    [InlineData("fare_transactions", "fare_capped=no", "fare_capped: 'no' is not a boolean")]
    [InlineData("fare_transactions", "amount=1.6.0", "amount: '1.6.0' is not a number")]
    [InlineData("fare_transactions", "trip_stop_sequence=0", "trip_stop_sequence: 0 is outside [1, inf]")]
    [InlineData("fare_transactions", "scheduled_stop_sequence=x", "scheduled_stop_sequence: 'x' is not an integer")]
    [InlineData("fare_transactions", "fare_media_id=Paper", "fare_media_id: 'Paper' is not one of")]
    public void Checker_ValueBreakingTheSchema_IsReported(string table, string change, string expected)
    {
        var schema = Schema(table);
        var (name, value) = (change[..change.IndexOf('=', StringComparison.Ordinal)], change[(change.IndexOf('=', StringComparison.Ordinal) + 1)..]);
        var row = ValidRow(table).ToDictionary();
        row[name] = value;

        Assert.Contains(schema.Check(Csv(schema, row)), e => e.Contains(expected, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("station_activities", "primary key (service_date, stop_id, time_period_start, time_period_end) = (2026-11-24, CEN, 2026-11-24T08:00:00Z, 2026-11-24T09:00:00+01:00) repeats an earlier row")]
    [InlineData("fare_transactions", "transaction_id 't1' is not unique")]
    public void Checker_RowRepeatingAKey_IsReported(string table, string expected)
    {
        var schema = Schema(table);
        var row = ValidRow(table);

        Assert.Contains(schema.Check(Csv(schema, row, row)), e => e.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Checker_RowShorterThanTheHeader_IsReported()
    {
        var schema = Schema("station_activities");
        var csv = Csv(schema, ValidRow("station_activities"));

        Assert.Contains(schema.Check(csv.TrimEnd('\n') + "\n2026-11-24,CEN\n"), e => e.Contains("row 3: 2 cells where the header has 12", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("station_activities")]
    [InlineData("fare_transactions")]
    public void Checker_ValidRow_HasNoErrors(string table)
    {
        var schema = Schema(table);
        Assert.Empty(schema.Check(Csv(schema, ValidRow(table))));
    }

    private static Dictionary<string, string> ValidRow(string table) => table switch
    {
        "station_activities" => new()
        {
            ["service_date"] = "2026-11-24", ["stop_id"] = "CEN", ["time_period_start"] = "2026-11-24T08:00:00Z",
            ["time_period_end"] = "2026-11-24T09:00:00+01:00", ["time_period_category"] = "Peak", ["total_entries"] = "1", ["total_exits"] = "NA",
            ["number_of_transactions"] = "2", ["ramp_exits"] = "0",
        },
        _ => new()
        {
            ["transaction_id"] = "t1", ["service_date"] = "2026-11-24", ["event_timestamp"] = "2026-11-24T08:00:00.250+01:00", ["amount"] = "1.6",
            ["currency_type"] = "EUR", ["fare_action"] = "Transfer entrance", ["scheduled_stop_sequence"] = "0", ["num_riders"] = "1",
            ["fare_media_id"] = "Optical scan", ["fare_capped"] = "False", ["balance"] = "-2.5E1",
        },
    };

    private static string Csv(TableSchemaChecker schema, params Dictionary<string, string>[] rows) =>
        string.Join(',', schema.FieldNames) + "\n" + string.Concat(rows.Select(r => string.Join(',', schema.FieldNames.Select(f => r.GetValueOrDefault(f, ""))) + "\n"));
}
