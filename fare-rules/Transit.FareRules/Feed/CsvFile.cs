using System.Text;
using Transit.Gtfs;

namespace Transit.FareRules;

/// <summary>One record of a CSV file: its fields and the line (1-based, the header is line 1) where it starts.</summary>
internal readonly record struct CsvRecord(int Line, string[] Fields)
{
    /// <summary>The trimmed field at <paramref name="column"/>, or "" when the column is absent or the row is short.</summary>
    public string Get(int column) => column >= 0 && column < Fields.Length ? Fields[column] : "";
}

/// <summary>A problem in the CSV syntax of a file, with the line where it was seen.</summary>
internal readonly record struct CsvProblem(int Line, string Code, string Message);

/// <summary>
/// One GTFS file in memory, read by the shared <see cref="CsvReader"/> (tolerant RFC 4180), with its columns by name
/// and every syntax problem collected with its line, never thrown.
/// </summary>
internal sealed class CsvFile
{
    private readonly Dictionary<string, int> _columns;

    private CsvFile(string name, string[] header, List<CsvRecord> records, List<CsvProblem> problems)
    {
        Name = name;
        Header = header;
        Records = records;
        Problems = problems;
        _columns = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < header.Length; i++)
        {
            if (!_columns.TryAdd(header[i], i))
            {
                problems.Add(new CsvProblem(1, NoticeCodes.DuplicatedColumn, $"column '{header[i]}' appears more than once; the first is used"));
            }
        }
    }

    /// <summary>The file name, e.g. <c>stops.txt</c>.</summary>
    public string Name { get; }

    /// <summary>The column names of the header line.</summary>
    public string[] Header { get; }

    /// <summary>The data records, in file order.</summary>
    public List<CsvRecord> Records { get; }

    /// <summary>Syntax problems found while reading.</summary>
    public List<CsvProblem> Problems { get; }

    /// <summary>The index of column <paramref name="name"/>, or -1 when the file has no such column.</summary>
    public int Column(string name) => _columns.TryGetValue(name, out var index) ? index : -1;

    /// <summary>Whether the header has column <paramref name="name"/>.</summary>
    public bool HasColumn(string name) => _columns.ContainsKey(name);

    /// <summary>Decodes UTF-8 bytes (dropping a BOM) and parses them.</summary>
    public static CsvFile Parse(string name, byte[] bytes)
    {
        var text = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false).GetString(bytes);
        return Parse(name, text);
    }

    /// <summary>Parses CSV text with the shared GTFS reader (<see cref="CsvReader"/>); a leading BOM character is dropped.</summary>
    public static CsvFile Parse(string name, string text)
    {
        var problems = new List<CsvProblem>();
        var records = new List<CsvRecord>();
        string[]? header = null;
        using var reader = new StringReader(text);
        foreach (var row in CsvReader.Read(reader, (line, problem) => problems.Add(new CsvProblem(line, NoticeCodes.CsvParsingFailed, CsvReader.Describe(problem)))))
        {
            if (header is null)
            {
                header = [.. row.Fields.Select(f => f.Trim())];
                continue;
            }

            if (row.Fields.Length != header.Length)
            {
                problems.Add(new CsvProblem(
                    row.Line,
                    NoticeCodes.InvalidRowLength,
                    $"the row has {row.Fields.Length} fields but the header has {header.Length}"));
            }

            records.Add(new CsvRecord(row.Line, row.Fields));
        }

        return new CsvFile(name, header ?? [], records, problems);
    }
}
