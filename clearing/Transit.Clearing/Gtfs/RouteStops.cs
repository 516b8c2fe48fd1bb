using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Runtime.CompilerServices;
using Transit.Analytics.Gtfs;
using Transit.Analytics.Store;

namespace Transit.Clearing.Gtfs;

/// <summary>
/// Which stops each route serves on a service day, from the trips and stop times of the GTFS feed valid that day:
/// ingest checks that the stop a bus validator names is on its route.
/// </summary>
public sealed class RouteStops(FeedNetworks networks, TimeProvider time)
{
    /// <summary>A feed imported for a day is picked up within this long.</summary>
    private static readonly TimeSpan Reload = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<DateOnly, (DateTimeOffset Until, ServedStops? Stops)> _byDay = new();
    private readonly ConditionalWeakTable<TransitNetwork, ServedStops> _byNetwork = [];

    /// <summary>The stops served on <paramref name="day"/>, or null when no feed is imported for it (nothing to check against).</summary>
    public async Task<ServedStops?> ForDayAsync(DateOnly day, CancellationToken cancellation)
    {
        var now = time.GetUtcNow();
        if (_byDay.TryGetValue(day, out var cached) && cached.Until > now)
        {
            return cached.Stops;
        }

        ServedStops? stops;
        try
        {
            var network = await networks.ForDayAsync(day, cancellation);
            stops = _byNetwork.GetValue(network, n => new ServedStops(n));
        }
        catch (Exception ex) when (ex is InvalidOperationException or InvalidDataException)
        {
            // No feed for the day, or one without stops: there is no route to hold a stop against.
            stops = null;
        }

        _byDay[day] = (now + Reload, stops);
        return stops;
    }
}

/// <summary>The stops of each route of one feed, over all its patterns.</summary>
public sealed class ServedStops(TransitNetwork network)
{
    private readonly ConcurrentDictionary<string, FrozenSet<string>> _byRoute = new(StringComparer.Ordinal);

    /// <summary>Whether <paramref name="routeId"/> serves <paramref name="stopId"/>; null when the feed has no stop times for the route.</summary>
    public bool? Serves(string routeId, string stopId)
    {
        var stops = _byRoute.GetOrAdd(routeId, r => network.PatternsOf(r).SelectMany(p => p.StopIds).ToFrozenSet(StringComparer.Ordinal));
        return stops.Count == 0 ? null : stops.Contains(stopId);
    }
}
