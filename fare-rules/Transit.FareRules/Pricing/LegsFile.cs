using System.Globalization;

namespace Transit.FareRules;

/// <summary>One rider's journey read from a legs file.</summary>
/// <param name="JourneyId">journey_id.</param>
/// <param name="RiderId">rider_id (the account whose journeys caps accumulate over).</param>
/// <param name="Legs">The legs, in travel order.</param>
public sealed record RiderJourney(string JourneyId, string RiderId, IReadOnlyList<FareLeg> Legs);

/// <summary>A legs file that cannot be read, naming the line and column at fault.</summary>
public sealed class LegsFileException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="line">The line (1-based; the header is line 1).</param>
    /// <param name="column">The column name, or null for the whole line.</param>
    /// <param name="message">What is wrong.</param>
    public LegsFileException(int line, string? column, string message)
        : base($"line {line}{(column is null ? "" : $", column {column}")}: {message}")
    {
        Line = line;
        Column = column;
    }

    /// <summary>Creates the exception with a message only.</summary>
    /// <param name="message">What is wrong.</param>
    public LegsFileException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and cause.</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="inner">The cause.</param>
    public LegsFileException(string message, Exception inner)
        : base(message, inner)
    {
    }

    /// <summary>Creates the exception with no message.</summary>
    public LegsFileException()
        : this("the legs file is invalid")
    {
    }

    /// <summary>The line at fault (0 when unknown).</summary>
    public int Line { get; }

    /// <summary>The column at fault, or null.</summary>
    public string? Column { get; }
}

/// <summary>
/// Reads the legs CSV of <c>transit fares price</c>: header
/// <c>journey_id,rider_id,rider_category,fare_media,route_id,from_stop_id,to_stop_id,start,end</c>; times in ISO 8601,
/// local time of the feed unless they carry an offset; the legs of a journey are consecutive rows in travel order.
/// </summary>
public static class LegsFile
{
    /// <summary>The columns a legs file must have.</summary>
    public static readonly IReadOnlyList<string> Columns =
        ["journey_id", "rider_id", "rider_category", "fare_media", "route_id", "from_stop_id", "to_stop_id", "start", "end"];

    private static readonly string[] Formats =
        ["yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm"];

    /// <summary>Parses a legs file.</summary>
    /// <param name="text">The CSV text.</param>
    /// <param name="feed">The feed whose timezone local times are in.</param>
    /// <returns>The journeys in file order.</returns>
    /// <exception cref="LegsFileException">The file is malformed; the message names line and column.</exception>
    public static IReadOnlyList<RiderJourney> Parse(string text, FareFeed feed)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(feed);
        var file = CsvFile.Parse("legs", text);
        if (file.Problems.FirstOrDefault(p => p.Code == NoticeCodes.CsvParsingFailed) is { Line: > 0 } problem)
        {
            throw new LegsFileException(problem.Line, null, problem.Message);
        }

        foreach (var column in Columns)
        {
            if (!file.HasColumn(column))
            {
                throw new LegsFileException(1, column, $"the header has no column '{column}' (expected {string.Join(',', Columns)})");
            }
        }

        var journeys = new List<RiderJourney>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        List<FareLeg>? legs = null;
        string? currentJourney = null, currentRider = null;
        foreach (var row in file.Records)
        {
            if (row.Fields.Length != file.Header.Length)
            {
                throw new LegsFileException(row.Line, null, $"the row has {row.Fields.Length} fields but the header has {file.Header.Length}");
            }

            var journeyId = Required(file, row, "journey_id");
            var riderId = Required(file, row, "rider_id");
            if (journeyId != currentJourney)
            {
                if (!seen.Add(journeyId))
                {
                    throw new LegsFileException(row.Line, "journey_id", $"journey '{journeyId}' continues after other journeys; its legs must be consecutive rows");
                }

                legs = [];
                journeys.Add(new RiderJourney(journeyId, riderId, legs));
                (currentJourney, currentRider) = (journeyId, riderId);
            }
            else if (riderId != currentRider)
            {
                throw new LegsFileException(row.Line, "rider_id", $"journey '{journeyId}' has legs of riders '{currentRider}' and '{riderId}'");
            }

            var route = Required(file, row, "route_id");
            var from = Optional(file, row, "from_stop_id");
            var to = Optional(file, row, "to_stop_id");
            var start = Time(file, row, "start", feed, route, from) ?? throw new LegsFileException(row.Line, "start", "start is empty");
            var end = Time(file, row, "end", feed, route, to ?? from) ?? start;
            if (end < start)
            {
                throw new LegsFileException(row.Line, "end", $"end {end:s} is before start {start:s}");
            }

            legs!.Add(new FareLeg(route, from, to, start, end, Optional(file, row, "rider_category"), Optional(file, row, "fare_media")));
        }

        return journeys;
    }

    private static string Required(CsvFile file, CsvRecord row, string column) =>
        Optional(file, row, column) ?? throw new LegsFileException(row.Line, column, $"{column} is empty");

    private static string? Optional(CsvFile file, CsvRecord row, string column)
    {
        var value = row.Get(file.Column(column));
        return value.Length == 0 ? null : value;
    }

    private static DateTimeOffset? Time(CsvFile file, CsvRecord row, string column, FareFeed feed, string route, string? stop)
    {
        var text = Optional(file, row, column);
        if (text is null)
        {
            return null;
        }

        if (DateTime.TryParseExact(text, Formats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var local))
        {
            return feed.ToInstant(local, route, stop);
        }

        if (HasOffset(text) && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var instant))
        {
            return instant;
        }

        throw new LegsFileException(row.Line, column, $"'{text}' is not an ISO 8601 time (e.g. 2024-10-01T08:30:00)");
    }

    private static bool HasOffset(string text) => text.EndsWith('Z') || text.LastIndexOfAny(['+', '-']) > 10;
}
