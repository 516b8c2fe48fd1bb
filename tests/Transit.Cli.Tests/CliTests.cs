namespace Transit.Cli.Tests;

[CollectionDefinition(nameof(ConsoleCollection), DisableParallelization = true)]
public class ConsoleCollection;

/// <summary><c>transit fares check</c> and <c>transit fares price</c>, run in-process with the console captured.</summary>
[Collection(nameof(ConsoleCollection))]
public class CliTests
{
    private static (int Exit, string Output, string Error) Run(params string[] args)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        var (previousOut, previousError) = (Console.Out, Console.Error);
        Console.SetOut(output);
        Console.SetError(error);
        try
        {
            var exit = CliApp.RunAsync(args).GetAwaiter().GetResult();
            return (exit, output.ToString(), error.ToString());
        }
        finally
        {
            Console.SetOut(previousOut);
            Console.SetError(previousError);
        }
    }

    [Fact]
    public void FaresCheck_BrokenFeed_ReportsEachProblemWithFileAndLineAndExitsOne()
    {
        var (exit, output, _) = Run("fares", "check", "--feed", Repository.PathOf("tests", "data", "gtfs", "broken"));

        Assert.Equal(1, exit);
        string[] expected =
        [
            "ERROR fare_products.txt:2 invalid_currency_amount",
            "ERROR rider_categories.txt:3 more_than_one_default_rider_category",
            "ERROR route_networks.txt route_networks_specified_in_more_than_one_file",
            "ERROR timeframes.txt:3 timeframe_overlap",
            "ERROR timeframes.txt:4 timeframe_time_greater_than_twenty_four_hours",
            "ERROR timeframes.txt:5 timeframe_only_start_or_end_time",
            "ERROR fare_leg_rules.txt:3 foreign_key_violation",
            "ERROR fare_transfer_rules.txt:3 fare_transfer_rule_forbidden_transfer_count",
            "ERROR fare_transfer_rules.txt:4 fare_transfer_rule_invalid_transfer_count",
            "ERROR fare_transfer_rules.txt:5 fare_transfer_rule_duration_limit_without_type",
            "ERROR fare_transfer_rules.txt:6 fare_transfer_rule_duration_limit_type_without_duration_limit",
        ];
        Assert.All(expected, line => Assert.Contains(line, output, StringComparison.Ordinal));
        Assert.Contains("error(s)", output, StringComparison.Ordinal);
    }

    [Fact]
    public void FaresCheck_ValidFeed_ExitsZero()
    {
        var (exit, output, _) = Run("fares", "check", "--feed", Repository.PathOf("tests", "data", "gtfs", "metro-city"));

        Assert.Equal(0, exit);
        Assert.StartsWith("0 error(s), 0 warning(s)", output, StringComparison.Ordinal);
    }

    [Fact]
    public void FaresCheck_MissingDirectory_IsAUsageError()
    {
        var (exit, _, error) = Run("fares", "check", "--feed", Path.Combine(Repository.Root, "no-such-feed"));

        Assert.Equal(2, exit);
        Assert.Contains("does not exist", error, StringComparison.Ordinal);
    }

    [Fact]
    public void FaresPrice_WithCaps_PrintsTheDocumentedCsv()
    {
        var (exit, output, error) = Run("fares", "price", "--feed", Repository.PathOf("tests", "data", "gtfs", "metro-city"), "--legs", Path.Combine(Repository.Root, "tests", "data", "legs", "metro-city.csv"), "--caps");

        Assert.True(exit == 0, error);
        Assert.Equal(
            """
            journey_id,rider_id,amount,currency,products,flags,charged
            j1,alice,3.40,PLN,metro_1,,3.40
            j2,alice,3.00,PLN,bus_single;metro_12+bus_to_metro,,3.00
            j3,alice,8.00,PLN,metro_airport;metro_airport,,3.60
            j4,bob,2.00,PLN,metro_1_peak,,2.00
            j5,bob,8.00,PLN,metro_airport,incomplete;missing_exit,8.00
            j6,carol,0.00,PLN,,unpriced,0.00

            """,
            output);
    }

    [Fact]
    public void FaresPrice_WithoutCaps_HasNoChargedColumnAndHonoursMaximumFareAndFallback()
    {
        var (exit, output, _) = Run(
            "fares", "price", "--feed", Repository.PathOf("tests", "data", "gtfs", "metro-city"), "--legs", Path.Combine(Repository.Root, "tests", "data", "legs", "metro-city.csv"),
            "--max-fare", "metro=12.50", "--category-fallback");

        Assert.Equal(0, exit);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("journey_id,rider_id,amount,currency,products,flags", lines[0]);
        Assert.Equal("j5,bob,12.50,PLN,,incomplete;missing_exit", lines[5]);
        Assert.Equal("j6,carol,2.50,PLN,bus_single,category_fallback", lines[6]);
    }

    [Fact]
    public void FaresPrice_BadLegsFile_NamesLineAndColumnAndExitsTwo()
    {
        var legs = Path.Combine(Path.GetTempPath(), $"legs-{Guid.NewGuid():N}.csv");
        File.WriteAllText(legs, "journey_id,rider_id,rider_category,fare_media,route_id,from_stop_id,to_stop_id,start,end\nj,r,,,M1,NOR1,CEN1,2024-10-01T10:00:00,\nk,r,,,M1,NOR1,CEN1,soon,\n");
        try
        {
            var (exit, _, error) = Run("fares", "price", "--feed", Repository.PathOf("tests", "data", "gtfs", "metro-city"), "--legs", legs);

            Assert.Equal(2, exit);
            Assert.Contains("line 3, column start", error, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(legs);
        }
    }

    [Theory]
    [InlineData("metro", "metro=abc")]
    [InlineData("nowhere", "nowhere=1.00")]
    public void FaresPrice_BadMaximumFare_IsAUsageError(string expected, string value)
    {
        var (exit, _, error) = Run("fares", "price", "--feed", Repository.PathOf("tests", "data", "gtfs", "metro-city"), "--legs", Path.Combine(Repository.Root, "tests", "data", "legs", "metro-city.csv"), "--max-fare", value);

        Assert.Equal(2, exit);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void FaresPrice_MissingOption_IsAUsageError()
    {
        var (exit, _, error) = Run("fares", "price", "--feed", Repository.PathOf("tests", "data", "gtfs", "metro-city"));

        Assert.Equal(2, exit);
        Assert.Contains("--legs", error, StringComparison.Ordinal);
    }
}
