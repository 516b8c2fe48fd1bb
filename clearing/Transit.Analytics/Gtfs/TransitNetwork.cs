using System.Collections.Frozen;

namespace Transit.Analytics.Gtfs;

/// <summary>A stop or station of the feed.</summary>
public sealed record GtfsStop(string Id, string? Name, double? Lat, double? Lon, int LocationType, string? ParentStation);

/// <summary>A route of the feed with the agency (operator) that runs it.</summary>
public sealed record GtfsRoute(string Id, string AgencyId, int RouteType, string? ShortName, string? LongName)
{
    /// <summary>Tram, subway and rail run between stations with gates; everything else is boarded at a stop.</summary>
    public bool IsRail => RouteType is 0 or 1 or 2 or 12;

    public string Label => ShortName ?? LongName ?? Id;
}

/// <summary>A scheduled trip of a pattern: its id and its departure from the pattern's first stop.</summary>
public readonly record struct PatternTrip(string TripId, int StartSeconds);

/// <summary>
/// One stop path of a route: the stops its trips serve in order, with the scheduled seconds from the first stop,
/// and the trips that run it. Trips with the same stop sequence share a pattern.
/// </summary>
public sealed class RoutePattern(string id, string routeId, int? directionId, IReadOnlyList<string> stopIds, IReadOnlyList<int> stopSequences, IReadOnlyList<int> offsets, IReadOnlyList<PatternTrip> trips)
{
    public string Id { get; } = id;

    public string RouteId { get; } = routeId;

    public int? DirectionId { get; } = directionId;

    public IReadOnlyList<string> StopIds { get; } = stopIds;

    public IReadOnlyList<int> StopSequences { get; } = stopSequences;

    /// <summary>Scheduled seconds from the first stop's departure to each stop.</summary>
    public IReadOnlyList<int> Offsets { get; } = offsets;

    /// <summary>Trips in order of departure.</summary>
    public IReadOnlyList<PatternTrip> Trips { get; } = trips;

    public int IndexOf(string stopId)
    {
        for (var i = 0; i < StopIds.Count; i++)
        {
            if (StopIds[i] == stopId)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>The trip whose scheduled departure from stop <paramref name="index"/> is nearest <paramref name="serviceSeconds"/>.</summary>
    public PatternTrip? NearestTrip(int index, int serviceSeconds)
    {
        if (Trips.Count == 0)
        {
            return null;
        }

        var target = serviceSeconds - Offsets[index];
        int lo = 0, hi = Trips.Count - 1;
        while (lo < hi)
        {
            var mid = (lo + hi) / 2;
            if (Trips[mid].StartSeconds < target)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        var best = Trips[lo];
        if (lo > 0 && Math.Abs(Trips[lo - 1].StartSeconds - target) <= Math.Abs(best.StartSeconds - target))
        {
            best = Trips[lo - 1];
        }

        return best;
    }
}

/// <summary>
/// The parts of a GTFS feed that ridership analytics needs: agencies, routes, stops with coordinates, and each
/// route's stop patterns from trips and stop_times. Small and tolerant: unknown files and columns are ignored, rows
/// that cannot be used are skipped.
/// </summary>
public sealed class TransitNetwork
{
    private readonly FrozenDictionary<string, GtfsStop> _stops;
    private readonly FrozenDictionary<string, GtfsRoute> _routes;
    private readonly FrozenDictionary<string, RoutePattern[]> _patternsByRoute;
    private readonly FrozenDictionary<string, string[]> _stationsByAgency;

    public TransitNetwork(IEnumerable<GtfsStop> stops, IEnumerable<GtfsRoute> routes, IEnumerable<RoutePattern> patterns, string? timeZone = null, string? feedVersion = null)
    {
        _stops = stops.GroupBy(s => s.Id, StringComparer.Ordinal).ToFrozenDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        _routes = routes.GroupBy(r => r.Id, StringComparer.Ordinal).ToFrozenDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        Patterns = [.. patterns];
        _patternsByRoute = Patterns.GroupBy(p => p.RouteId, StringComparer.Ordinal).ToFrozenDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
        _stationsByAgency = Patterns
            .Where(p => _routes.TryGetValue(p.RouteId, out var r) && r.IsRail)
            .SelectMany(p => p.StopIds.Select(s => (Agency: _routes[p.RouteId].AgencyId, Station: StationOf(s))))
            .GroupBy(x => x.Agency, StringComparer.Ordinal)
            .ToFrozenDictionary(g => g.Key, g => g.Select(x => x.Station).Distinct(StringComparer.Ordinal).ToArray(), StringComparer.Ordinal);
        TimeZone = timeZone;
        FeedVersion = feedVersion;
    }

    /// <summary>The first agency's time zone, which GTFS schedule times are counted in.</summary>
    public string? TimeZone { get; }

    public string? FeedVersion { get; }

    public IReadOnlyList<RoutePattern> Patterns { get; }

    public IEnumerable<GtfsRoute> Routes => _routes.Values;

    public IEnumerable<GtfsStop> Stops => _stops.Values;

    public GtfsRoute? Route(string? routeId) => routeId is not null && _routes.TryGetValue(routeId, out var route) ? route : null;

    public GtfsStop? Stop(string? stopId) => stopId is not null && _stops.TryGetValue(stopId, out var stop) ? stop : null;

    public IReadOnlyList<RoutePattern> PatternsOf(string routeId) =>
        _patternsByRoute.TryGetValue(routeId, out var patterns) ? patterns : [];

    /// <summary>The gated stations of an agency's rail routes (parent stations where the feed has them).</summary>
    public IReadOnlyList<string> StationsOf(string agencyId) =>
        _stationsByAgency.TryGetValue(agencyId, out var stations) ? stations : [];

    /// <summary>The parent station of a platform, or the stop itself.</summary>
    public string StationOf(string stopId) =>
        _stops.TryGetValue(stopId, out var stop) && stop.ParentStation is { } parent ? parent : stopId;

    /// <summary>A stop's coordinates, taken from its parent station when the stop has none.</summary>
    public (double Lat, double Lon)? Position(string? stopId)
    {
        for (var depth = 0; stopId is not null && depth < 3; depth++)
        {
            if (!_stops.TryGetValue(stopId, out var stop))
            {
                return null;
            }

            if (stop.Lat is { } lat && stop.Lon is { } lon)
            {
                return (lat, lon);
            }

            stopId = stop.ParentStation;
        }

        return null;
    }

    /// <summary>Great-circle distance in metres between two stops; null when either has no position.</summary>
    public double? DistanceMeters(string? a, string? b)
    {
        if (a is not null && a == b)
        {
            return 0;
        }

        return Position(a) is { } p && Position(b) is { } q ? Geo.DistanceMeters(p.Lat, p.Lon, q.Lat, q.Lon) : null;
    }

    /// <summary>Loads a feed directory.</summary>
    public static TransitNetwork Load(string directory) => GtfsLoader.Load(directory);

    /// <summary>Loads a feed held as file name → content (as clearing stores imported feeds).</summary>
    public static TransitNetwork FromFiles(IReadOnlyDictionary<string, string> files) =>
        GtfsLoader.Load(name => files.TryGetValue(name, out var text) ? new StringReader(text.TrimStart('\uFEFF')) : null);
}

/// <summary>Distances on the earth's surface.</summary>
public static class Geo
{
    private const double EarthRadiusMeters = 6_371_008.8;

    /// <summary>Haversine distance; accurate to well under a metre at walking distances.</summary>
    public static double DistanceMeters(double lat1, double lon1, double lat2, double lon2)
    {
        static double Rad(double degrees) => degrees * Math.PI / 180;
        var dLat = Rad(lat2 - lat1);
        var dLon = Rad(lon2 - lon1);
        var h = (Math.Sin(dLat / 2) * Math.Sin(dLat / 2)) + (Math.Cos(Rad(lat1)) * Math.Cos(Rad(lat2)) * Math.Sin(dLon / 2) * Math.Sin(dLon / 2));
        return 2 * EarthRadiusMeters * Math.Asin(Math.Min(1, Math.Sqrt(h)));
    }
}
