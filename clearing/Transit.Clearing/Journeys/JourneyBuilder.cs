using Transit.Clearing.Ingest;

namespace Transit.Clearing.Journeys;

/// <summary>A billable tap of one account, as journey building needs it.</summary>
public sealed record AccountTap(
    DateTimeOffset At, short Mode, string OperatorId, string? StationId, string? StopId, string? RouteId, string? Category, string DeviceId, long Seq);

/// <summary>
/// Turns one account's taps of a service day (in time order) into journeys: a metro entry pairs with the next exit
/// within the maximum journey time; an entry left open is a missing exit, an exit with no entry a missing entry.
/// Each bus tap is a boarding; on networks with bus tap-off it pairs, like a metro entry, with the next
/// <see cref="TapModes.BusExit"/> tap on the same route within the maximum journey time, which gives the alighting
/// stop that zone fares need. A boarding without tap-off stays a boarding (the fare rules' unpriced-leg policy prices
/// it when the fare needs the destination); a tap-off without boarding is a missing entry. Legs whose gap exceeds the transfer window start a new journey; the fare rules then
/// decide which transfers inside a journey are discounted.
/// </summary>
public static class JourneyBuilder
{
    public static IReadOnlyList<JourneyInput> Build(IReadOnlyList<AccountTap> taps, TimeSpan maxJourneyTime, TimeSpan transferWindow)
    {
        var legs = new List<(LegInput Leg, string? Category)>();
        AccountTap? entry = null;
        AccountTap? boarding = null;
        foreach (var tap in taps)
        {
            switch (tap.Mode)
            {
                case TapModes.BusExit when boarding is not null && tap.At - boarding.At <= maxJourneyTime && (boarding.RouteId ?? tap.RouteId) == (tap.RouteId ?? boarding.RouteId):
                    legs.Add((new LegInput(TapModes.Bus, boarding.OperatorId, boarding.RouteId ?? tap.RouteId, boarding.StopId, tap.StopId, boarding.At, tap.At, false, false)
                    {
                        EntryTap = (boarding.DeviceId, boarding.Seq),
                        ExitTap = (tap.DeviceId, tap.Seq),
                    }, boarding.Category));
                    boarding = null;
                    break;
                case TapModes.BusExit:
                    CloseOpenEntry();
                    legs.Add((new LegInput(TapModes.Bus, tap.OperatorId, tap.RouteId, tap.StopId, null, tap.At, tap.At, true, false)
                    {
                        ExitTap = (tap.DeviceId, tap.Seq),
                    }, tap.Category));
                    break;
                case TapModes.MetroEntry:
                    CloseOpenEntry();
                    entry = tap;
                    break;
                case TapModes.MetroExit when entry is not null && tap.At - entry.At <= maxJourneyTime:
                    legs.Add((new LegInput(TapModes.MetroEntry, entry.OperatorId, entry.RouteId ?? tap.RouteId, entry.StationId, tap.StationId, entry.At, tap.At, false, false)
                    {
                        EntryTap = (entry.DeviceId, entry.Seq),
                        ExitTap = (tap.DeviceId, tap.Seq),
                    }, entry.Category));
                    entry = null;
                    break;
                case TapModes.MetroExit:
                    CloseOpenEntry();
                    legs.Add((new LegInput(TapModes.MetroExit, tap.OperatorId, tap.RouteId, tap.StationId, null, tap.At, tap.At, true, false)
                    {
                        ExitTap = (tap.DeviceId, tap.Seq),
                    }, tap.Category));
                    break;
                default:
                    CloseOpenEntry();
                    boarding = tap;
                    break;
            }
        }

        CloseOpenEntry();

        var journeys = new List<JourneyInput>();
        var current = new List<LegInput>();
        string? category = null;
        foreach (var (leg, legCategory) in legs)
        {
            if (current.Count > 0 && leg.Start - (current[^1].End ?? current[^1].Start) > transferWindow)
            {
                journeys.Add(new JourneyInput(journeys.Count + 1, category, current));
                current = [];
            }

            if (current.Count == 0)
            {
                category = legCategory;
            }

            current.Add(leg);
        }

        if (current.Count > 0)
        {
            journeys.Add(new JourneyInput(journeys.Count + 1, category, current));
        }

        return journeys;

        void CloseOpenEntry()
        {
            if (boarding is { } board)
            {
                legs.Add((new LegInput(TapModes.Bus, board.OperatorId, board.RouteId, board.StopId, null, board.At, null, false, false)
                {
                    EntryTap = (board.DeviceId, board.Seq),
                }, board.Category));
                boarding = null;
            }

            if (entry is { } open)
            {
                legs.Add((new LegInput(TapModes.MetroEntry, open.OperatorId, open.RouteId, open.StationId, null, open.At, null, false, true)
                {
                    EntryTap = (open.DeviceId, open.Seq),
                }, open.Category));
                entry = null;
            }
        }
    }
}
