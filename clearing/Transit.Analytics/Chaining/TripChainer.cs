using System.Collections.Frozen;
using Transit.Analytics.Gtfs;
using Transit.DeviceApi;

namespace Transit.Analytics.Chaining;

/// <summary>
/// Turns one rider's accepted taps of a service day into legs with origins and destinations. Metro legs pair an
/// entry with the next exit, bus legs a boarding with the next tap-off on its route (networks with bus tap-off). A
/// leg without an exit (bus legs without tap-off, and metro legs whose exit is missing) gets by
/// trip chaining (Barry et al. 2002; Munizaga and Palma 2012) the stop of its route, after the boarding stop, that
/// lies nearest the rider's next boarding, if that is within walking distance; the day's last leg is chained to
/// the day's first origin. Legs whose next boarding follows soon after they end are transfers of one journey.
/// </summary>
public sealed class TripChainer(TransitNetwork network, AnalyticsOptions options)
{
    private readonly FrozenDictionary<string, (double Lat, double Lon)?[]> _patternPositions =
        network.Patterns.ToFrozenDictionary(p => p.Id, p => p.StopIds.Select(network.Position).ToArray(), StringComparer.Ordinal);

    public AnalyticsOptions Options => options;

    public TransitNetwork Network => network;

    /// <summary>Builds the legs of one rider's day from its taps (any order; refused taps are ignored).</summary>
    public List<RiderLeg> Chain(long rider, DateOnly day, IEnumerable<AnalyticsTap> taps)
    {
        var accepted = taps.Where(t => t.Accepted).OrderBy(t => t.At).ToList();
        var legs = BuildLegs(rider, day, accepted);
        InferDestinations(legs);
        LinkTransfers(legs);
        return legs;
    }

    private List<RiderLeg> BuildLegs(long rider, DateOnly day, List<AnalyticsTap> taps)
    {
        var legs = new List<RiderLeg>();

        // A metro entry or bus boarding waiting for its exit, as in clearing's journey builder: every boarding
        // replaces it, and an exit that does not close it ends the wait too.
        RiderLeg? open = null;
        foreach (var tap in taps)
        {
            switch (tap.Mode)
            {
                case TapMode.MetroEntry:
                    open = NewLeg(rider, day, legs.Count, LegMode.Metro, tap, routeId: null);
                    legs.Add(open);
                    break;
                case TapMode.Bus:
                    open = NewLeg(rider, day, legs.Count, LegMode.Bus, tap, tap.RouteId);
                    legs.Add(open);
                    break;
                case TapMode.MetroExit or TapMode.BusExit when open is not null && Closes(open, tap):
                    open.RouteId ??= tap.RouteId; // metro gates have none
                    open.Destination = tap.StopId;
                    open.AlightedAt = tap.At;
                    open.Level = tap.StopId is null ? InferenceLevel.None : InferenceLevel.Exact;
                    open = null;
                    break;
                default:
                    // An exit or tap-off without its entry or boarding starts no leg; it still counts as a tap in the rollups.
                    open = null;
                    break;
            }
        }

        return legs;
    }

    /// <summary>
    /// Whether an exit tap ends the open leg: a metro exit ends a metro entry, a bus tap-off a boarding on the same
    /// route (or either route unknown), within the maximum journey time; the same pairs clearing priced.
    /// </summary>
    private bool Closes(RiderLeg open, AnalyticsTap exit) =>
        exit.At - open.BoardedAt <= options.MaxJourneyTime
        && (open.Mode, exit.Mode) switch
        {
            (LegMode.Metro, TapMode.MetroExit) => true,
            (LegMode.Bus, TapMode.BusExit) => open.RouteId is null || exit.RouteId is null || open.RouteId == exit.RouteId,
            _ => false,
        };

    private static RiderLeg NewLeg(long rider, DateOnly day, int legNo, LegMode mode, AnalyticsTap tap, string? routeId) => new()
    {
        Rider = rider,
        ServiceDay = day,
        LegNo = legNo,
        Mode = mode,
        OperatorId = tap.OperatorId,
        RouteId = routeId,
        Origin = tap.StopId,
        BoardedAt = tap.At,
        Category = tap.Category,
    };

    private void InferDestinations(List<RiderLeg> legs)
    {
        for (var i = 0; i < legs.Count; i++)
        {
            var leg = legs[i];
            if (leg.Mode == LegMode.Bus && !(leg.Level == InferenceLevel.Exact && LocateTapOff(leg)))
            {
                LocateOnRoute(leg);
            }

            if (leg.Level == InferenceLevel.Exact)
            {
                continue;
            }

            if (legs.Count == 1)
            {
                leg.Unresolved = Unresolved.SingleBoarding;
                continue;
            }

            var (target, level) = i + 1 < legs.Count ? (legs[i + 1].Origin, InferenceLevel.NextBoarding) : (legs[0].Origin, InferenceLevel.FirstOrigin);
            if (leg.Origin is null || target is null || network.Position(target) is not { } goal)
            {
                leg.Unresolved = Unresolved.UnknownStop;
                continue;
            }

            if (leg.Mode == LegMode.Bus ? InferBusAlighting(leg, goal) : InferMetroExit(leg, goal))
            {
                leg.Level = level;
            }
        }
    }

    /// <summary>Sets the boarding's stop sequence and a trip before the direction is known (the first pattern through the stop).</summary>
    private void LocateOnRoute(RiderLeg leg)
    {
        if (leg.RouteId is null || leg.Origin is null)
        {
            return;
        }

        foreach (var pattern in network.PatternsOf(leg.RouteId))
        {
            var index = pattern.IndexOf(leg.Origin);
            if (index >= 0)
            {
                SetTrip(leg, pattern, index);
                return;
            }
        }
    }

    /// <summary>
    /// A bus leg closed by a tap-off: the pattern that runs from the boarding stop to the tap-off stop gives the
    /// direction, so its trip and both stop sequences are known. False when no pattern of the route does (a stop the
    /// feed does not know); the destination stays the tapped one.
    /// </summary>
    private bool LocateTapOff(RiderLeg leg)
    {
        if (leg.RouteId is null || leg.Origin is null || leg.Destination is null)
        {
            return false;
        }

        foreach (var pattern in network.PatternsOf(leg.RouteId))
        {
            var board = pattern.IndexOf(leg.Origin);
            if (board < 0)
            {
                continue;
            }

            for (var alight = board + 1; alight < pattern.StopIds.Count; alight++)
            {
                if (pattern.StopIds[alight] == leg.Destination)
                {
                    SetTrip(leg, pattern, board);
                    leg.AlightSequence = pattern.StopSequences[alight];
                    return true;
                }
            }
        }

        return false;
    }

    private void SetTrip(RiderLeg leg, RoutePattern pattern, int boardIndex)
    {
        leg.PatternId = pattern.Id;
        leg.BoardSequence = pattern.StopSequences[boardIndex];
        leg.TripId = pattern.NearestTrip(boardIndex, options.ServiceSeconds(leg.ServiceDay, leg.BoardedAt))?.TripId;
    }

    private bool InferBusAlighting(RiderLeg leg, (double Lat, double Lon) goal)
    {
        RoutePattern? bestPattern = null;
        int bestBoard = -1, bestAlight = -1;
        var bestDistance = double.MaxValue;
        var onRoute = false;
        foreach (var pattern in leg.RouteId is null ? [] : network.PatternsOf(leg.RouteId))
        {
            var board = pattern.IndexOf(leg.Origin!);
            if (board < 0)
            {
                continue;
            }

            onRoute = true;
            var positions = PositionsOf(pattern);
            for (var j = board + 1; j < positions.Length; j++)
            {
                if (positions[j] is { } p)
                {
                    var d = Geo.DistanceMeters(p.Lat, p.Lon, goal.Lat, goal.Lon);
                    if (d < bestDistance)
                    {
                        (bestDistance, bestPattern, bestBoard, bestAlight) = (d, pattern, board, j);
                    }
                }
            }
        }

        if (!onRoute)
        {
            leg.Unresolved = Unresolved.UnknownStop;
            return false;
        }

        if (bestPattern is null || bestDistance > options.MaxWalkMeters)
        {
            leg.Unresolved = Unresolved.TooFar;
            return false;
        }

        SetTrip(leg, bestPattern, bestBoard);
        leg.Destination = bestPattern.StopIds[bestAlight];
        leg.AlightSequence = bestPattern.StopSequences[bestAlight];
        leg.AlightedAt = leg.BoardedAt.AddSeconds(bestPattern.Offsets[bestAlight] - bestPattern.Offsets[bestBoard]);
        return true;
    }

    /// <summary>A metro leg whose exit was not recorded: the operator's station nearest the next origin.</summary>
    private bool InferMetroExit(RiderLeg leg, (double Lat, double Lon) goal)
    {
        string? best = null;
        var bestDistance = double.MaxValue;
        foreach (var station in network.StationsOf(leg.OperatorId))
        {
            if (station != leg.Origin && network.Position(station) is { } p)
            {
                var d = Geo.DistanceMeters(p.Lat, p.Lon, goal.Lat, goal.Lon);
                if (d < bestDistance)
                {
                    (bestDistance, best) = (d, station);
                }
            }
        }

        if (best is null || bestDistance > options.MaxWalkMeters)
        {
            leg.Unresolved = best is null ? Unresolved.UnknownStop : Unresolved.TooFar;
            return false;
        }

        leg.Destination = best;
        return true;
    }

    private void LinkTransfers(List<RiderLeg> legs)
    {
        var journey = 0;
        for (var i = 0; i < legs.Count; i++)
        {
            if (i > 0 && TransferGap(legs[i - 1], legs[i]) is { } gap)
            {
                legs[i].TransferSeconds = gap;
            }
            else if (i > 0)
            {
                journey++;
            }

            legs[i].JourneyNo = journey;
        }
    }

    /// <summary>
    /// The seconds between the previous leg's end and this boarding when they form one journey: the end is known,
    /// the boarding follows within the transfer time, and within walking distance. A schedule-estimated arrival a
    /// little after the tap (a bus running early) counts as no wait.
    /// </summary>
    private int? TransferGap(RiderLeg previous, RiderLeg next)
    {
        if (previous.AlightedAt is not { } end || previous.Destination is null || next.Origin is null)
        {
            return null;
        }

        var gap = (next.BoardedAt - end).TotalSeconds;
        if (gap < -300 || gap > options.MaxTransferTime.TotalSeconds)
        {
            return null;
        }

        return network.DistanceMeters(previous.Destination, next.Origin) is { } walk && walk <= options.MaxWalkMeters ? (int)Math.Max(0, Math.Round(gap)) : null;
    }

    private (double Lat, double Lon)?[] PositionsOf(RoutePattern pattern) => _patternPositions[pattern.Id];
}
