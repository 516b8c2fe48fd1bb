namespace Transit.FareRules.Tests;

public class LegsFileTests
{
    private const string Header = "journey_id,rider_id,rider_category,fare_media,route_id,from_stop_id,to_stop_id,start,end\n";

    private static readonly Lazy<FareFeed> Feed = new(() => FareFeed.Load(Paths.TestFeed("metro-city")));

    [Fact]
    public void Parse_ValidFile_GroupsConsecutiveLegsIntoJourneys()
    {
        var journeys = LegsFile.Parse(File.ReadAllText(Path.Combine(Paths.Root, "tests", "data", "legs", "metro-city.csv")), Feed.Value);

        Assert.Equal(["j1", "j2", "j3", "j4", "j5", "j6"], journeys.Select(j => j.JourneyId));
        Assert.Equal(2, journeys[1].Legs.Count);
        Assert.Equal("alice", journeys[1].RiderId);
        var missingExit = journeys[4].Legs[0];
        Assert.Null(missingExit.ToStopId);
        Assert.Equal(missingExit.Start, missingExit.End);
        Assert.Equal(("child", "app"), (missingExit.RiderCategoryId, missingExit.FareMediaId));
    }

    [Fact]
    public void Parse_LocalTime_IsTakenInTheFeedsTimezone()
    {
        var journeys = LegsFile.Parse(Header + "j,r,,,M1,NOR1,CEN1,2024-10-01T10:00:00,2024-10-01T10:10\nk,r,,,M1,NOR1,CEN1,2024-12-01T10:00:00,2024-12-01T10:10:00+01:00\n", Feed.Value);

        Assert.Equal(TimeSpan.FromHours(2), journeys[0].Legs[0].Start.Offset);
        Assert.Equal(new DateTimeOffset(2024, 10, 1, 8, 0, 0, TimeSpan.Zero), journeys[0].Legs[0].Start);
        Assert.Equal(TimeSpan.FromHours(1), journeys[1].Legs[0].Start.Offset);
    }

    [Theory]
    [InlineData("journey_id,rider_id,route_id,start\nj,r,M1,2024-10-01T10:00:00\n", 1, "rider_category")]
    [InlineData("j,r,,,M1,NOR1,CEN1,yesterday,\n", 2, "start")]
    [InlineData("j,r,,,M1,NOR1,CEN1,2024-10-01T10:00:00,2024-10-01T09:00:00\n", 2, "end")]
    [InlineData("j,r,,,,NOR1,CEN1,2024-10-01T10:00:00,\n", 2, "route_id")]
    [InlineData("j,r,,,M1,NOR1,CEN1,2024-10-01T10:00:00,\nj,s,,,M1,NOR1,CEN1,2024-10-01T11:00:00,\n", 3, "rider_id")]
    [InlineData("j,r,,,M1,NOR1,CEN1,2024-10-01T10:00:00,\nk,r,,,M1,NOR1,CEN1,2024-10-01T11:00:00,\nj,r,,,M1,NOR1,CEN1,2024-10-01T12:00:00,\n", 4, "journey_id")]
    [InlineData("j,r,,,M1,NOR1,CEN1,2024-10-01T10:00:00\n", 2, null)]
    public void Parse_BadFile_NamesLineAndColumn(string body, int line, string? column)
    {
        var text = body.StartsWith("journey_id", StringComparison.Ordinal) ? body : Header + body;

        var ex = Assert.Throws<LegsFileException>(() => LegsFile.Parse(text, Feed.Value));

        Assert.Equal(line, ex.Line);
        Assert.Equal(column, ex.Column);
        Assert.StartsWith($"line {line}", ex.Message, StringComparison.Ordinal);
    }
}
