using System.Text;

namespace Transit.FareRules.Csv;

/// <summary>One record of a CSV file: its fields and the line (1-based, the header is line 1) where it starts.</summary>
internal readonly record struct CsvRecord(int Line, string[] Fields)
{
    /// <summary>The trimmed field at <paramref name="column"/>, or "" when the column is absent or the row is short.</summary>
    public string Get(int column) => column >= 0 && column < Fields.Length ? Fields[column] : "";
}

/// <summary>A problem in the CSV syntax of a file, with the line where it was seen.</summary>
internal readonly record struct CsvProblem(int Line, string Code, string Message);

/// <summary>
/// A tolerant RFC 4180 reader for GTFS files: UTF-8 with or without BOM, LF, CRLF or CR line ends, quoted fields with
/// doubled quotes and embedded line breaks, surrounding spaces trimmed, blank lines skipped. Syntax problems are
/// collected, never thrown.
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

    /// <summary>Parses CSV text; a leading BOM character is dropped.</summary>
    public static CsvFile Parse(string name, string text)
    {
        var problems = new List<CsvProblem>();
        var records = new List<CsvRecord>();
        var position = text.Length > 0 && text[0] == '\uFEFF' ? 1 : 0;
        var line = 1;
        var fields = new List<string>(32);
        var field = new StringBuilder();
        string[]? header = null;
        while (position < text.Length)
        {
            var recordLine = line;
            fields.Clear();
            var endOfRecord = false;
            while (!endOfRecord)
            {
                field.Clear();
                var quoted = false;
                while (position < text.Length && text[position] is ' ' or '\t')
                {
                    position++;
                }

                if (position < text.Length && text[position] == '"')
                {
                    quoted = true;
                    position++;
                    var closed = false;
                    while (position < text.Length)
                    {
                        var c = text[position++];
                        if (c == '"')
                        {
                            if (position < text.Length && text[position] == '"')
                            {
                                field.Append('"');
                                position++;
                                continue;
                            }

                            closed = true;
                            break;
                        }

                        if (c == '\n' || (c == '\r' && (position >= text.Length || text[position] != '\n')))
                        {
                            line++;
                        }

                        field.Append(c);
                    }

                    if (!closed)
                    {
                        problems.Add(new CsvProblem(recordLine, NoticeCodes.CsvParsingFailed, "a quoted field is not closed before the end of the file"));
                    }
                }

                var strayStart = field.Length;
                while (position < text.Length && text[position] is not (',' or '\r' or '\n'))
                {
                    field.Append(text[position++]);
                }

                if (quoted && field.Length > strayStart && field.ToString(strayStart, field.Length - strayStart).Trim().Length > 0)
                {
                    problems.Add(new CsvProblem(recordLine, NoticeCodes.CsvParsingFailed, "characters follow the closing quote of a field"));
                }

                fields.Add(quoted ? field.ToString() : field.ToString().Trim());
                if (position >= text.Length)
                {
                    endOfRecord = true;
                }
                else if (text[position] == ',')
                {
                    position++;
                }
                else
                {
                    position += text[position] == '\r' && position + 1 < text.Length && text[position + 1] == '\n' ? 2 : 1;
                    line++;
                    endOfRecord = true;
                }
            }

            if (fields.Count == 1 && fields[0].Length == 0)
            {
                continue;
            }

            if (header is null)
            {
                header = [.. fields.Select(f => f.Trim())];
                continue;
            }

            if (fields.Count != header.Length)
            {
                problems.Add(new CsvProblem(
                    recordLine,
                    NoticeCodes.InvalidRowLength,
                    $"the row has {fields.Count} fields but the header has {header.Length}"));
            }

            records.Add(new CsvRecord(recordLine, [.. fields]));
        }

        return new CsvFile(name, header ?? [], records, problems);
    }
}
