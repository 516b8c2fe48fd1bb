using System.Globalization;
using Transit.Gtfs;

namespace Transit.FareRules;

/// <summary>
/// Reads typed fields from the records of one GTFS file, adding a notice (with file and line) for every field that is
/// missing or malformed. A method returns null for an empty or malformed field.
/// </summary>
internal sealed class TableReader
{
    private readonly List<FeedNotice> _notices;

    public TableReader(CsvFile file, List<FeedNotice> notices, params string[] requiredColumns)
    {
        File = file;
        _notices = notices;
        foreach (var problem in file.Problems)
        {
            Add(problem.Line, problem.Code, NoticeSeverity.Error, problem.Message);
        }

        if (file.Header.Length == 0 || file.Records.Count == 0)
        {
            Add(0, NoticeCodes.EmptyFile, NoticeSeverity.Warning, file.Header.Length == 0 ? "the file has no header" : "the file has no data rows");
        }

        Usable = true;
        foreach (var column in requiredColumns)
        {
            if (!file.HasColumn(column))
            {
                Usable = false;
                if (file.Header.Length > 0)
                {
                    Add(1, NoticeCodes.MissingRequiredColumn, NoticeSeverity.Error, $"required column '{column}' is missing");
                }
            }
        }
    }

    public CsvFile File { get; }

    /// <summary>False when a required column is missing: the rows are then not loaded.</summary>
    public bool Usable { get; }

    public IEnumerable<CsvRecord> Records => Usable ? File.Records : [];

    public void Add(int line, string code, NoticeSeverity severity, string message) =>
        _notices.Add(new FeedNotice(File.Name, line, code, severity, message));

    /// <summary>The field, or null when the column is absent or the field empty.</summary>
    public string? Text(CsvRecord record, string column)
    {
        var value = record.Get(File.Column(column));
        return value.Length == 0 ? null : value;
    }

    /// <summary>The field; an empty field adds <c>missing_required_field</c>.</summary>
    public string? Required(CsvRecord record, string column)
    {
        var value = Text(record, column);
        if (value is null)
        {
            Add(record.Line, NoticeCodes.MissingRequiredField, NoticeSeverity.Error, $"required field '{column}' is empty");
        }

        return value;
    }

    /// <summary>An integer field in [min, max]; malformed or out of range adds a notice and gives null.</summary>
    public int? Integer(CsvRecord record, string column, int min, int max, bool required = false)
    {
        var text = required ? Required(record, column) : Text(record, column);
        if (text is null)
        {
            return null;
        }

        if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            Add(record.Line, NoticeCodes.InvalidInteger, NoticeSeverity.Error, $"{column} '{text}' is not an integer");
            return null;
        }

        if (value < min || value > max)
        {
            Add(record.Line, NoticeCodes.NumberOutOfRange, NoticeSeverity.Error, $"{column} {value} is outside {min}..{max}");
            return null;
        }

        return value;
    }

    /// <summary>An enumerated field whose valid values are 0..<paramref name="max"/>.</summary>
    public int? Enum(CsvRecord record, string column, int max, bool required, NoticeSeverity severity)
    {
        var text = required ? Required(record, column) : Text(record, column);
        if (text is null)
        {
            return null;
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value > max)
        {
            Add(record.Line, NoticeCodes.UnexpectedEnumValue, severity, $"{column} '{text}' is not one of 0..{max}");
            return null;
        }

        return value;
    }

    /// <summary>A GTFS time H:MM:SS as seconds after midnight (may exceed 24 hours).</summary>
    public int? Time(CsvRecord record, string column)
    {
        var text = Text(record, column);
        if (text is null)
        {
            return null;
        }

        if (!GtfsTime.TryParse(text, out var seconds))
        {
            Add(record.Line, NoticeCodes.InvalidTime, NoticeSeverity.Error, GtfsTime.NotATime(column, text));
            return null;
        }

        return seconds;
    }

    /// <summary>A GTFS date YYYYMMDD.</summary>
    public DateOnly? Date(CsvRecord record, string column, bool required)
    {
        var text = required ? Required(record, column) : Text(record, column);
        if (text is null)
        {
            return null;
        }

        if (!DateOnly.TryParseExact(text, "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            Add(record.Line, NoticeCodes.InvalidDate, NoticeSeverity.Error, $"{column} '{text}' is not a date (YYYYMMDD)");
            return null;
        }

        return date;
    }
}
