using System.Globalization;

namespace Transit.Analytics.Gtfs;

/// <summary>Reads agency, routes, stops, trips and stop_times into a <see cref="TransitNetwork"/>.</summary>
internal static class GtfsLoader
{
    public static TransitNetwork Load(string directory)
    {
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"GTFS feed directory not found: {directory}");
        }

        return Load(file =>
        {
            var path = Path.Combine(directory, file);
            return File.Exists(path) ? new StreamReader(path, detectEncodingFromByteOrderMarks: true) : null;
        });
    }

    /// <summary>Reads a feed whose files <paramref name="feed"/> opens by name (null when the feed lacks one).</summary>
    public static TransitNetwork Load(Func<string, TextReader?> feed)
    {
        var (defaultAgency, timeZone) = ReadAgencies(feed);
        var stops = ReadStops(feed);
        var routes = ReadRoutes(feed, defaultAgency);
        var trips = ReadTrips(feed);
        var patterns = BuildPatterns(feed, trips);
        return new TransitNetwork(stops, routes, patterns, timeZone, ReadFeedVersion(feed));
    }

    private static (string Agency, string? TimeZone) ReadAgencies(Func<string, TextReader?> feed)
    {
        using var table = GtfsTable.Open(feed, "agency.txt");
        if (table is null || !table.Read())
        {
            return ("", null);
        }

        return (table.Get("agency_id") ?? table.Get("agency_name") ?? "", table.Get("agency_timezone"));
    }

    private static string? ReadFeedVersion(Func<string, TextReader?> feed)
    {
        using var table = GtfsTable.Open(feed, "feed_info.txt");
        return table is not null && table.Read() ? table.Get("feed_version") : null;
    }

    private static List<GtfsStop> ReadStops(Func<string, TextReader?> feed)
    {
        var stops = new List<GtfsStop>();
        using var table = GtfsTable.Open(feed, "stops.txt") ?? throw new InvalidDataException("the feed has no stops.txt");
        while (table.Read())
        {
            if (table.Get("stop_id") is { } id)
            {
                stops.Add(new GtfsStop(id, table.Get("stop_name"), table.GetDouble("stop_lat"), table.GetDouble("stop_lon"), table.GetInt("location_type") ?? 0, table.Get("parent_station")));
            }
        }

        return stops;
    }

    private static List<GtfsRoute> ReadRoutes(Func<string, TextReader?> feed, string defaultAgency)
    {
        var routes = new List<GtfsRoute>();
        using var table = GtfsTable.Open(feed, "routes.txt") ?? throw new InvalidDataException("the feed has no routes.txt");
        while (table.Read())
        {
            if (table.Get("route_id") is { } id)
            {
                routes.Add(new GtfsRoute(id, table.Get("agency_id") ?? defaultAgency, table.GetInt("route_type") ?? 3, table.Get("route_short_name"), table.Get("route_long_name")));
            }
        }

        return routes;
    }

    private static Dictionary<string, (string RouteId, int? Direction)> ReadTrips(Func<string, TextReader?> feed)
    {
        var trips = new Dictionary<string, (string, int?)>(StringComparer.Ordinal);
        using var table = GtfsTable.Open(feed, "trips.txt");
        while (table is not null && table.Read())
        {
            if (table.Get("trip_id") is { } tripId && table.Get("route_id") is { } routeId)
            {
                trips.TryAdd(tripId, (routeId, table.GetInt("direction_id")));
            }
        }

        return trips;
    }

    private readonly record struct StopTime(int Sequence, string StopId, int? Arrival, int? Departure);

    private static List<RoutePattern> BuildPatterns(Func<string, TextReader?> feed, Dictionary<string, (string RouteId, int? Direction)> trips)
    {
        var byTrip = new Dictionary<string, List<StopTime>>(StringComparer.Ordinal);
        using (var table = GtfsTable.Open(feed, "stop_times.txt"))
        {
            while (table is not null && table.Read())
            {
                if (table.Get("trip_id") is not { } tripId || table.Get("stop_id") is not { } stopId || table.GetInt("stop_sequence") is not { } sequence || !trips.ContainsKey(tripId))
                {
                    continue;
                }

                if (!byTrip.TryGetValue(tripId, out var list))
                {
                    byTrip[tripId] = list = [];
                }

                list.Add(new StopTime(sequence, stopId, table.GetTime("arrival_time"), table.GetTime("departure_time")));
            }
        }

        // Trips that serve the same stops in the same order form one pattern; their times give its offsets.
        var groups = new Dictionary<string, (string RouteId, int? Direction, StopTime[] Stops, List<PatternTrip> Trips)>(StringComparer.Ordinal);
        foreach (var (tripId, list) in byTrip)
        {
            list.Sort((a, b) => a.Sequence.CompareTo(b.Sequence));
            var (routeId, direction) = trips[tripId];
            var key = routeId + "\u0001" + string.Join('\u0001', list.Select(s => s.StopId));
            var start = list[0].Departure ?? list[0].Arrival;
            if (!groups.TryGetValue(key, out var group))
            {
                groups[key] = group = (routeId, direction, [.. list], []);
            }

            if (start is { } s)
            {
                group.Trips.Add(new PatternTrip(tripId, s));
            }
        }

        var patterns = new List<RoutePattern>();
        foreach (var byRoute in groups.Values.GroupBy(g => g.RouteId, StringComparer.Ordinal))
        {
            var index = 0;
            foreach (var (routeId, direction, stops, patternTrips) in byRoute.OrderBy(g => g.Direction ?? 0).ThenByDescending(g => g.Trips.Count))
            {
                patternTrips.Sort((a, b) => a.StartSeconds.CompareTo(b.StartSeconds));
                var offsets = Offsets(stops);
                var id = string.Create(CultureInfo.InvariantCulture, $"{routeId}:{direction?.ToString(CultureInfo.InvariantCulture) ?? "x"}:{index++}");
                patterns.Add(new RoutePattern(id, routeId, direction, [.. stops.Select(s => s.StopId)], [.. stops.Select(s => s.Sequence)], offsets, patternTrips));
            }
        }

        return patterns;
    }

    /// <summary>Seconds from the first departure; stops without times (allowed between timepoints) are interpolated.</summary>
    private static int[] Offsets(StopTime[] stops)
    {
        var offsets = new int[stops.Length];
        var start = stops[0].Departure ?? stops[0].Arrival ?? 0;
        var lastKnown = 0;
        for (var i = 0; i < stops.Length; i++)
        {
            if ((stops[i].Arrival ?? stops[i].Departure) is { } t)
            {
                offsets[i] = t - start;
                for (var j = lastKnown + 1; j < i; j++)
                {
                    offsets[j] = offsets[lastKnown] + ((offsets[i] - offsets[lastKnown]) * (j - lastKnown) / (i - lastKnown));
                }

                lastKnown = i;
            }
        }

        for (var j = lastKnown + 1; j < stops.Length; j++)
        {
            offsets[j] = offsets[lastKnown];
        }

        return offsets;
    }
}
