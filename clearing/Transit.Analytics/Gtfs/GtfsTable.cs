using System.Globalization;
using Transit.Gtfs;

namespace Transit.Analytics.Gtfs;

/// <summary>
/// Reads one GTFS text file row by row with the shared <see cref="CsvReader"/>. Real feeds carry extra columns, stray
/// spaces, byte-order marks and quoted fields; all of that is accepted, and a missing optional column reads as null.
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
        _records = CsvReader.Read(_reader).Select(r => r.Fields).GetEnumerator();
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

    /// <summary>A GTFS time (<see cref="GtfsTime"/>) as seconds; null when absent, empty or not a time.</summary>
    public int? GetTime(string column) => GtfsTime.TryParse(Get(column), out var seconds) ? seconds : null;

    public void Dispose()
    {
        _records.Dispose();
        _reader.Dispose();
    }
}
