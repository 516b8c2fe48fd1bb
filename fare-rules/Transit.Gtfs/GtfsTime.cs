using System.Globalization;

namespace Transit.Gtfs;

/// <summary>
/// The GTFS time H:MM:SS as seconds after the service day's "noon minus 12 h": hours have one to three digits and
/// may pass 24 (25:10:00 is 1:10 the next morning on the same service day); minutes and seconds two digits, at most 59.
/// </summary>
public static class GtfsTime
{
    /// <summary>Parses <paramref name="text"/>; false (and 0) when it is not an H:MM:SS time.</summary>
    public static bool TryParse(string? text, out int seconds)
    {
        seconds = 0;
        var parts = (text ?? "").Split(':');
        if (parts.Length != 3 || parts[0].Length is < 1 or > 3 || parts[1].Length != 2 || parts[2].Length != 2
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var h)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var m)
            || !int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var s)
            || m > 59 || s > 59)
        {
            return false;
        }

        seconds = (h * 3600) + (m * 60) + s;
        return true;
    }

    /// <summary>The message for a field that is not a time, naming the column and the value.</summary>
    public static string NotATime(string column, string text) => $"{column} '{text}' is not a time (H:MM:SS)";

    /// <summary>Parses the time in <paramref name="column"/> of line <paramref name="line"/> of <paramref name="file"/>.</summary>
    /// <exception cref="InvalidDataException">It is not a time; the message names the file, line, column and value.</exception>
    public static int Parse(string text, string file, int line, string column) =>
        TryParse(text, out var seconds) ? seconds : throw new InvalidDataException($"{file}:{line}: {NotATime(column, text)}");
}
