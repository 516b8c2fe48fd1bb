using System.Text;

namespace Transit.FareRules.Tests;

public class CsvFileTests
{
    [Fact]
    public void Parse_BomCrlfAndQuotes_ReadsFieldsAndLines()
    {
        var bytes = Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes("id,name,extra\r\n1,\"Central, North\",x\r\n2,\"say \"\"hi\"\"\",\r\n")).ToArray();

        var file = CsvFile.Parse("t.txt", bytes);

        Assert.Equal(["id", "name", "extra"], file.Header);
        Assert.Empty(file.Problems);
        Assert.Equal(2, file.Records.Count);
        Assert.Equal("Central, North", file.Records[0].Get(file.Column("name")));
        Assert.Equal("say \"hi\"", file.Records[1].Get(file.Column("name")));
        Assert.Equal("", file.Records[1].Get(file.Column("extra")));
        Assert.Equal([2, 3], file.Records.Select(r => r.Line));
    }

    [Fact]
    public void Parse_QuotedLineBreak_KeepsLineNumbersOfLaterRecords()
    {
        var file = CsvFile.Parse("t.txt", "id,name\n1,\"two\nlines\"\n2,b\n\n3,c");

        Assert.Equal("two\nlines", file.Records[0].Get(1));
        Assert.Equal([2, 4, 6], file.Records.Select(r => r.Line));
    }

    [Fact]
    public void Parse_SpacesAroundUnquotedFields_AreTrimmed()
    {
        var file = CsvFile.Parse("t.txt", " id , name \n 1 ,  a b  \n");

        Assert.Equal(0, file.Column("id"));
        Assert.Equal("a b", file.Records[0].Get(file.Column("name")));
    }

    [Fact]
    public void Parse_RowLengthAndUnclosedQuote_AreReportedWithLine()
    {
        var file = CsvFile.Parse("t.txt", "a,b\n1,2,3\n4,\"open");

        Assert.Contains(file.Problems, p => p.Line == 2 && p.Code == NoticeCodes.InvalidRowLength);
        Assert.Contains(file.Problems, p => p.Line == 3 && p.Code == NoticeCodes.CsvParsingFailed);
    }

    [Fact]
    public void Get_MissingColumnOrShortRow_GivesEmpty()
    {
        var file = CsvFile.Parse("t.txt", "a,b\n1\n");

        Assert.Equal("", file.Records[0].Get(file.Column("b")));
        Assert.Equal("", file.Records[0].Get(file.Column("nope")));
        Assert.Equal(-1, file.Column("nope"));
    }
}
