using Transit.Gtfs;

namespace Transit.FareRules.Tests;

/// <summary>The shared GTFS reader (Transit.Gtfs) that fare rules, analytics and the simulation read feeds with.</summary>
public class GtfsReaderTests
{
    private static List<CsvRow> Read(string text, List<(int Line, CsvSyntaxProblem Problem)>? problems = null) =>
        [.. CsvReader.Read(new StringReader(text), (line, problem) => problems?.Add((line, problem)))];

    [Fact]
    public void Read_BomQuotedCommasDoubledQuotesAndCrlf_GivesTheFieldsAndTheirLines()
    {
        var rows = Read("\uFEFFstop_id,stop_name\r\nA,\"Central, North\"\r\nB,\"say \"\"hi\"\"\"\r\n");

        Assert.Equal([["stop_id", "stop_name"], ["A", "Central, North"], ["B", "say \"hi\""]], rows.Select(r => r.Fields));
        Assert.Equal([1, 2, 3], rows.Select(r => r.Line));
    }

    [Fact]
    public void Read_CrOnlyLineEndsQuotedLineBreakAndBlankLines_CountLinesAsAnEditorDoes()
    {
        var rows = Read("id,name\r1,\"two\r\nlines\"\r\r\n2,b\n\n3,c");

        Assert.Equal("two\r\nlines", rows[1].Fields[1]);
        Assert.Equal([1, 2, 5, 7], rows.Select(r => r.Line));
    }

    [Fact]
    public void Read_SpacesAroundUnquotedFieldsTrimmed_InsideQuotesKept_ShortRowReadsEmpty()
    {
        var rows = Read(" a , b ,c\n 1 ,\" 2 \"\n");

        Assert.Equal(["a", "b", "c"], rows[0].Fields);
        Assert.Equal(["1", " 2 "], rows[1].Fields);
        Assert.Equal("", rows[1].Get(2));
        Assert.Equal("", rows[1].Get(-1));
    }

    [Fact]
    public void Read_UnclosedQuoteAndTextAfterAQuote_AreReportedWithTheirLinesAndReadingGoesOn()
    {
        var problems = new List<(int Line, CsvSyntaxProblem Problem)>();

        var rows = Read("a,b\n\"x\"y,2\n3,\"open\nstill open", problems);

        Assert.Equal([(2, CsvSyntaxProblem.TextAfterQuote), (3, CsvSyntaxProblem.UnclosedQuote)], problems);
        Assert.Equal(["xy", "2"], rows[1].Fields);
        Assert.Equal(["3", "open\nstill open"], rows[2].Fields);
        Assert.Equal("a quoted field is not closed before the end of the file", CsvReader.Describe(CsvSyntaxProblem.UnclosedQuote));
    }

    [Theory]
    [InlineData("00:00:00", 0)]
    [InlineData("7:05:09", (7 * 3600) + (5 * 60) + 9)]
    [InlineData("25:10:00", (25 * 3600) + (10 * 60))]
    [InlineData("100:00:01", (100 * 3600) + 1)]
    public void Time_HoursMayPass24_GivesSecondsOfTheServiceDay(string text, int seconds)
    {
        Assert.True(GtfsTime.TryParse(text, out var parsed));
        Assert.Equal(seconds, parsed);
        Assert.Equal(seconds, GtfsTime.Parse(text, "stop_times.txt", 2, "arrival_time"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("7:5:09")]
    [InlineData("07:60:00")]
    [InlineData("07:00:60")]
    [InlineData("07:00")]
    [InlineData("1000:00:00")]
    [InlineData("-1:00:00")]
    [InlineData(" 07:00:00")]
    [InlineData("07:00:00:00")]
    public void Time_NotHMmSs_IsRefused(string text)
    {
        Assert.False(GtfsTime.TryParse(text, out var seconds));
        Assert.Equal(0, seconds);
        Assert.False(GtfsTime.TryParse(null, out _));
    }

    [Fact]
    public void Time_Bad_ErrorNamesFileLineColumnAndValue()
    {
        var error = Assert.Throws<InvalidDataException>(() => GtfsTime.Parse("7:5", "feed/stop_times.txt", 57, "departure_time"));

        Assert.Equal("feed/stop_times.txt:57: departure_time '7:5' is not a time (H:MM:SS)", error.Message);
    }
}
