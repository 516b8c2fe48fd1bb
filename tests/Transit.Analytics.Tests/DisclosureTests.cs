using System.Globalization;
using Transit.Analytics.Exports;
using Transit.Analytics.Privacy;
using Transit.Analytics.Rollups;
using Transit.Analytics.Web;
using Transit.Gtfs;

namespace Transit.Analytics.Tests;

/// <summary>
/// What a planner can work out from what it is shown: withheld cells recomputed from totals (the differencing
/// attack), and export fields that a spreadsheet would run as formulas (CSV injection).
/// </summary>
public sealed class DisclosureTests(SimulatedCity city) : IClassFixture<SimulatedCity>
{
    private static readonly DateOnly Date = new(2026, 11, 25);

    public static TheoryData<string> ViewNames() => [.. AnalyticsEndpoints.Views.Keys];

    [Theory]
    [MemberData(nameof(ViewNames))]
    public async Task Answer_ForPlanners_NoWithheldCellIsItsLineTotalLessTheShownCells(string view)
    {
        var (truth, planner, by) = await AnswersAsync(view, complementary: true);

        Assert.Empty(DifferencingAttack(truth, planner, by, AnalyticsEndpoints.Views[view].Measures[0]));
    }

    /// <summary>The control: on the same day, small-cell suppression alone lets the attack recover withheld cells.</summary>
    [Fact]
    public async Task Answer_SmallCellSuppressionAlone_LetsTheDifferencingAttackRecoverCells()
    {
        var recovered = new List<string>();
        foreach (var view in AnalyticsEndpoints.Views.Keys)
        {
            var (truth, planner, by) = await AnswersAsync(view, complementary: false);
            recovered.AddRange(DifferencingAttack(truth, planner, by, AnalyticsEndpoints.Views[view].Measures[0]).Select(r => $"{view}: {r}"));
        }

        Assert.NotEmpty(recovered);
    }

    [Fact]
    public async Task Ridership_ForPlanners_NoWithheldStopIsItsRouteTotalLessTheShownStops()
    {
        var day = city.Day(Date, riders: 300, seed: 62);
        var reader = new InMemoryRollupReader(day.Rollups.Cells);
        var filter = new AnalyticsFilter(Date, Date);
        var all = Rows(await StandardExports.RidershipAsync(reader, filter, policy: null, [], default));
        var shown = Rows(await StandardExports.RidershipAsync(reader, filter, new SmallCellPolicy(10), [], default));
        var withheldStops = 0;
        var derived = new List<string>();
        foreach (var route in shown.Where(r => r["stop_id"] == ""))
        {
            var stopsOf = (List<Dictionary<string, string>> rows) => rows.Where(r => r["agency_id"] == route["agency_id"] && r["route_id"] == route["route_id"] && r["stop_id"] != "").ToList();
            var visible = stopsOf(shown).Select(r => r["stop_id"]).ToHashSet();
            var hidden = stopsOf(all).Where(r => !visible.Contains(r["stop_id"])).ToList();
            withheldStops += hidden.Count;
            if (hidden.Count == 1)
            {
                var recovered = long.Parse(route["total_boardings"], CultureInfo.InvariantCulture) - stopsOf(shown).Sum(r => long.Parse(r["total_boardings"], CultureInfo.InvariantCulture));
                derived.Add($"{route["route_id"]} stop {hidden[0]["stop_id"]}: {recovered} boardings (true {hidden[0]["total_boardings"]})");
            }
        }

        Assert.True(withheldStops > 0, "the day has withheld stops to attack");
        Assert.Empty(derived);
    }

    [Theory]
    [InlineData("=1+2", "\"'=1+2\"")]
    [InlineData("+41 22 000", "\"'+41 22 000\"")]
    [InlineData("-2+3", "\"'-2+3\"")]
    [InlineData("@SUM(A1:A9)", "\"'@SUM(A1:A9)\"")]
    [InlineData("\tcmd", "\"'\tcmd\"")]
    [InlineData("\rcmd", "\"'\rcmd\"")]
    [InlineData("=HYPERLINK(\"http://x\",\"y\")", "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"")]
    [InlineData("a,b", "\"a,b\"")]
    [InlineData("say \"hi\"", "\"say \"\"hi\"\"\"")]
    [InlineData("CEN", "CEN")]
    [InlineData("", "")]
    public void Csv_TextField_IsQuotedAndNeutralisedWhenItCouldStartAFormula(string value, string expected) =>
        Assert.Equal(expected, Csv.Field(value));

    [Fact]
    public void Csv_Numbers_StayNumbersEvenWhenNegative() =>
        Assert.Equal("-150,0,1.5,-1.50,\"'-150\",true,2026-11-25\n", Csv.Line([-150L, 0, 1.5m, new CsvNumber("-1.50"), "-150", true, Date]));

    [Theory]
    [InlineData("=1")]
    [InlineData("-")]
    [InlineData("1.")]
    [InlineData("1e5")]
    public void CsvNumber_NotAPlainNumber_IsRefused(string text) =>
        Assert.Throws<ArgumentException>(() => new CsvNumber(text));

    [Fact]
    public void Suppressed_CellKeyFromAHostileDevice_IsNeutralisedAndStaysOneField()
    {
        var text = StandardExports.Suppressed([new SuppressedCell("board_alight.txt", "2026-11-25 T1 =cmd|' /C calc'!A0 3"), new SuppressedCell("board_alight.txt", "@x,\"y\"")], 10);

        var records = CsvReader.Read(new StringReader(text)).Select(r => r.Fields).ToList();
        Assert.All(records, r => Assert.Equal(3, r.Length));
        Assert.Equal("2026-11-25 T1 =cmd|' /C calc'!A0 3", records[1][1]);
        Assert.Equal("'@x,\"y\"", records[2][1]);
        Assert.Contains("\"'@x,\"\"y\"\"\"", text, StringComparison.Ordinal);
    }

    [Fact]
    public void AnswerCsv_HostileStopAndNegativeMeasure_TextNeutralisedNumberKept()
    {
        var answer = new AnalyticsAnswer(["stop", "boardings", "suppressed"], [new(StringComparer.Ordinal) { ["stop"] = "=cmd|'/C calc'!A0", ["boardings"] = -3L, ["suppressed"] = false }], 10, 0);

        Assert.Equal("stop,boardings,suppressed\n\"'=cmd|'/C calc'!A0\",-3,false\n", AnalyticsEndpoints.ToCsv(answer));
    }

    private async Task<(AnalyticsAnswer Truth, AnalyticsAnswer Planner, int Dimensions)> AnswersAsync(string view, bool complementary)
    {
        var day = city.Day(Date, riders: 300, seed: 62);
        var reader = new InMemoryRollupReader(day.Rollups.Cells);
        var (table, by, measures) = AnalyticsEndpoints.Views[view];
        var filter = new AnalyticsFilter(Date, Date);
        var truth = await AnalyticsEndpoints.AnswerAsync(reader, table, filter, by, measures, new CallerScope(null, null, true), default);
        var policy = new SmallCellPolicy(10);
        var planner = complementary
            ? await AnalyticsEndpoints.AnswerAsync(reader, table, filter, by, measures, new CallerScope(policy, null, false), default)
            : truth with
            {
                // The answer's own order (largest first, then by key), so that each group row meets its answer row.
                Rows = [.. (await reader.GroupAsync(table, filter, by, default))
                    .OrderByDescending(r => r.Measures.M0).ThenBy(r => string.Join(',', r.Key), StringComparer.Ordinal)
                    .Zip(truth.Rows, (group, row) => policy.IsSuppressed(group) ? new Dictionary<string, object?>(row) { [measures[0]] = null, ["suppressed"] = true } : row)],
            };
        return (truth, planner, by.Length);
    }

    /// <summary>
    /// The attack: for every line of the answer (rows sharing the values of some of its dimensions, down to the grand
    /// total), a planner who knows the line's total (from a coarser view, the overview or another export) and sees all
    /// but one of its cells has that one cell. Returns each cell recovered so.
    /// </summary>
    private static List<string> DifferencingAttack(AnalyticsAnswer truth, AnalyticsAnswer planner, int dimensions, string measure)
    {
        var keyColumns = planner.Columns.Take(dimensions).ToArray();
        string Key(Dictionary<string, object?> row, int kept) =>
            string.Join('\u0001', keyColumns.Select((c, d) => (kept & (1 << d)) != 0 ? Text(row[c]) : "*"));
        var all = (1 << dimensions) - 1;
        var truthByKey = truth.Rows.ToDictionary(r => Key(r, all), StringComparer.Ordinal);
        var recovered = new List<string>();
        for (var kept = 0; kept < all; kept++)
        {
            foreach (var line in planner.Rows.GroupBy(r => Key(r, kept), StringComparer.Ordinal).Select(g => g.ToList()))
            {
                var hidden = line.Where(r => r["suppressed"] is true).ToList();
                if (line.Count < 2 || hidden.Count != 1)
                {
                    continue;
                }

                var total = line.Sum(r => Convert.ToInt64(truthByKey[Key(r, all)][measure], CultureInfo.InvariantCulture));
                var value = total - line.Where(r => r["suppressed"] is false).Sum(r => Convert.ToInt64(r[measure], CultureInfo.InvariantCulture));
                Assert.Equal(Convert.ToInt64(truthByKey[Key(hidden[0], all)][measure], CultureInfo.InvariantCulture), value);
                recovered.Add($"{Key(hidden[0], all)} = {value}");
            }
        }

        return recovered;
    }

    private static string Text(object? value) => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";

    private static List<Dictionary<string, string>> Rows(string csv)
    {
        var records = CsvReader.Read(new StringReader(csv)).Select(r => r.Fields).ToList();
        return [.. records.Skip(1).Select(r => records[0].Zip(r).ToDictionary(p => p.First, p => p.Second, StringComparer.Ordinal))];
    }
}
