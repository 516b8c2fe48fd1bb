using System.Text;

namespace Transit.Gtfs;

/// <summary>One record of a CSV file: its fields and the line (1-based, the header is line 1) where it starts.</summary>
public readonly record struct CsvRow(int Line, string[] Fields)
{
    /// <summary>The field at <paramref name="column"/>, or "" when the column is absent or the row is short.</summary>
    public string Get(int column) => column >= 0 && column < Fields.Length ? Fields[column] : "";
}

/// <summary>What is wrong with the CSV syntax at a line; the reader goes on after it.</summary>
public enum CsvSyntaxProblem
{
    /// <summary>A quoted field is not closed before the end of the file.</summary>
    UnclosedQuote,

    /// <summary>Characters follow the closing quote of a field (they are kept in the field).</summary>
    TextAfterQuote,
}

/// <summary>
/// The one CSV reader of GTFS files (fare rules, analytics, simulation): RFC 4180 read tolerantly, record by record
/// from any <see cref="TextReader"/> (a feed's stop_times.txt need not fit in memory). UTF-8 with or without a BOM,
/// LF, CRLF or CR line ends, quoted fields with doubled quotes, commas and line breaks, spaces around unquoted fields
/// trimmed (inside quotes kept), blank lines skipped. Syntax problems go to a callback with their line, never thrown.
/// </summary>
public static class CsvReader
{
    /// <summary>The message of each problem, for whoever reports it.</summary>
    public static string Describe(CsvSyntaxProblem problem) => problem switch
    {
        CsvSyntaxProblem.UnclosedQuote => "a quoted field is not closed before the end of the file",
        _ => "characters follow the closing quote of a field",
    };

    /// <summary>The records of <paramref name="reader"/>, the header first; blank lines are skipped.</summary>
    /// <param name="problem">Told of each syntax problem with the line of the record it is in; null ignores them.</param>
    public static IEnumerable<CsvRow> Read(TextReader reader, Action<int, CsvSyntaxProblem>? problem = null)
    {
        var line = 1;
        var fields = new List<string>(32);
        var field = new StringBuilder();
        if (reader.Peek() == '\uFEFF')
        {
            reader.Read();
        }

        while (reader.Peek() >= 0)
        {
            var recordLine = line;
            fields.Clear();
            var endOfRecord = false;
            while (!endOfRecord)
            {
                field.Clear();
                var quoted = false;
                while (reader.Peek() is ' ' or '\t')
                {
                    reader.Read();
                }

                if (reader.Peek() == '"')
                {
                    quoted = true;
                    reader.Read();
                    var closed = false;
                    int c;
                    while ((c = reader.Read()) >= 0)
                    {
                        if (c == '"')
                        {
                            if (reader.Peek() == '"')
                            {
                                field.Append('"');
                                reader.Read();
                                continue;
                            }

                            closed = true;
                            break;
                        }

                        if (c == '\n' || (c == '\r' && reader.Peek() != '\n'))
                        {
                            line++;
                        }

                        field.Append((char)c);
                    }

                    if (!closed)
                    {
                        problem?.Invoke(recordLine, CsvSyntaxProblem.UnclosedQuote);
                    }
                }

                var strayStart = field.Length;
                while (reader.Peek() is >= 0 and not (',' or '\r' or '\n'))
                {
                    field.Append((char)reader.Read());
                }

                if (quoted && field.Length > strayStart && field.ToString(strayStart, field.Length - strayStart).Trim().Length > 0)
                {
                    problem?.Invoke(recordLine, CsvSyntaxProblem.TextAfterQuote);
                }

                fields.Add(quoted ? field.ToString() : field.ToString().Trim());
                var next = reader.Read();
                if (next < 0)
                {
                    endOfRecord = true;
                }
                else if (next != ',')
                {
                    if (next == '\r' && reader.Peek() == '\n')
                    {
                        reader.Read();
                    }

                    line++;
                    endOfRecord = true;
                }
            }

            if (fields.Count == 1 && fields[0].Length == 0)
            {
                continue;
            }

            yield return new CsvRow(recordLine, [.. fields]);
        }
    }
}
