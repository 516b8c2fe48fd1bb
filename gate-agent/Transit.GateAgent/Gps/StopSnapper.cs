using Transit.GateAgent.Configuration;

namespace Transit.GateAgent.Gps;

/// <summary>
/// Turns positions into arrivals at stops, with hysteresis: the bus arrives at the nearest stop of its route within
/// the snap radius and keeps that stop (between stops, at a light, without a fix) until it arrives at another.
/// While still inside the held stop's radius a nearby stop (the opposite platform) does not take over, so GPS jitter
/// does not flap between them. Once the bus has gone further than the leave radius, coming back is a new arrival.
/// Not thread-safe; <see cref="GpsTracker"/> serialises calls.
/// </summary>
public sealed class StopSnapper
{
    private const double EarthRadiusMeters = 6_371_008.8;
    private readonly IReadOnlyList<GpsStop> _stops;
    private readonly double _snapMeters;
    private readonly double _leaveMeters;
    private GpsStop? _held;
    private bool _left;

    /// <summary>Creates the snapper over the route patterns' stops.</summary>
    public StopSnapper(IReadOnlyList<GpsStop> stops, double snapMeters, double leaveMeters)
    {
        ArgumentNullException.ThrowIfNull(stops);
        ArgumentOutOfRangeException.ThrowIfLessThan(leaveMeters, snapMeters);
        _stops = stops;
        _snapMeters = snapMeters;
        _leaveMeters = leaveMeters;
    }

    /// <summary>The stop the bus last arrived at; null before the first arrival.</summary>
    public string? HeldStopId => _held?.StopId;

    /// <summary>Whether any stop serves <paramref name="routeId"/>.</summary>
    public bool Serves(string? routeId) => _stops.Any(s => Serves(s, routeId));

    /// <summary>
    /// Takes a position of a bus on <paramref name="routeId"/>; returns the stop id on an arrival, otherwise null
    /// (the held stop stays).
    /// </summary>
    public string? Update(double latitude, double longitude, string? routeId)
    {
        if (_held is { } held)
        {
            var fromHeld = Distance(latitude, longitude, held.Lat, held.Lon);
            _left |= fromHeld > _leaveMeters;
            if (fromHeld <= _snapMeters && !_left && Serves(held, routeId))
            {
                return null;
            }
        }

        GpsStop? nearest = null;
        var nearestMeters = double.MaxValue;
        foreach (var stop in _stops)
        {
            if (!Serves(stop, routeId))
            {
                continue;
            }

            var meters = Distance(latitude, longitude, stop.Lat, stop.Lon);
            if (meters < nearestMeters || (meters == nearestMeters && nearest is not null && stop.Sequence < nearest.Sequence))
            {
                (nearest, nearestMeters) = (stop, meters);
            }
        }

        if (nearest is null || nearestMeters > _snapMeters || (nearest == _held && !_left))
        {
            return null;
        }

        _held = nearest;
        _left = false;
        return nearest.StopId;
    }

    /// <summary>Great-circle distance in metres (haversine; exact enough at stop scale).</summary>
    public static double Distance(double lat1, double lon1, double lat2, double lon2)
    {
        var dLat = double.DegreesToRadians(lat2 - lat1);
        var dLon = double.DegreesToRadians(lon2 - lon1);
        var a = (Math.Sin(dLat / 2) * Math.Sin(dLat / 2))
            + (Math.Cos(double.DegreesToRadians(lat1)) * Math.Cos(double.DegreesToRadians(lat2)) * Math.Sin(dLon / 2) * Math.Sin(dLon / 2));
        return 2 * EarthRadiusMeters * Math.Asin(Math.Min(1, Math.Sqrt(a)));
    }

    private static bool Serves(GpsStop stop, string? routeId) => stop.RouteId is null || stop.RouteId == routeId;
}
