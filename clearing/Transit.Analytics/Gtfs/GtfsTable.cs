using System.Globalization;

namespace Transit.Analytics.Gtfs;

/// <summary>
/// Reads one GTFS text file row by row. Real feeds carry extra columns, stray spaces, byte-order marks and quoted
/// fields; all of that is accepted, and a missing optional column reads as null.
/// </summary>
internal sealed class GtfsTable : IDisposable
{
    private readonly TextReader _reader;
    private readonly IEnumerator<string[]> _records;
    private readonly Dictionary<string, int> _columns = new(StringComparer.Ordinal);
    private string[] _row = [];

    private GtfsTable(TextReader reader)
    {
        _reader = reader;
        _records = CsvRecords.Read(_reader).GetEnumerator();
        if (_records.MoveNext())
        {
            var header = _records.Current;
            for (var i = 0; i < header.Length; i++)
            {
                _columns.TryAdd(header[i].Trim().TrimStart('\uFEFF'), i);
            }
        }
    }

    /// <summary>Opens <paramref name="file"/> of a feed, or returns null when the feed lacks it.</summary>
    public static GtfsTable? Open(Func<string, TextReader?> feed, string file) => feed(file) is { } reader ? new GtfsTable(reader) : null;

    public bool Has(string column) => _columns.ContainsKey(column);

    /// <summary>Moves to the next row, skipping blank lines.</summary>
    public bool Read()
    {
        while (_records.MoveNext())
        {
            _row = _records.Current;
            if (_row.Length > 1 || _row[0].Trim().Length > 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The trimmed value of <paramref name="column"/> in the current row; null when absent or empty.</summary>
    public string? Get(string column)
    {
        if (!_columns.TryGetValue(column, out var index) || index >= _row.Length)
        {
            return null;
        }

        var value = _row[index].Trim();
        return string.IsNullOrEmpty(value) ? null : value;
    }

    public int? GetInt(string column) =>
        int.TryParse(Get(column), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;

    public double? GetDouble(string column) =>
        double.TryParse(Get(column), NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : null;

    /// <summary>A GTFS time (H:MM:SS, hours may pass 24) as seconds after the service day's noon minus 12 h.</summary>
    public int? GetTime(string column) => ParseTime(Get(column));

    public static int? ParseTime(string? text)
    {
        if (text is null)
        {
            return null;
        }

        var parts = text.Split(':');
        if (parts.Length != 3
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var h)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var m)
            || !int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var s)
            || m > 59 || s > 59)
        {
            return null;
        }

        return (h * 3600) + (m * 60) + s;
    }

    public void Dispose()
    {
        _records.Dispose();
        _reader.Dispose();
    }
}
