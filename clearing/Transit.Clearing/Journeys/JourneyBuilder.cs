using Transit.Clearing.Ingest;
using Transit.Clearing.Pricing;
using Transit.DeviceApi;

namespace Transit.Clearing.Journeys;

/// <summary>A billable tap of one account, as journey building needs it.</summary>
public sealed record AccountTap(
    DateTimeOffset At, TapMode Mode, string OperatorId, string? StationId, string? StopId, string? RouteId, string? Category, string DeviceId, long Seq);

/// <summary>
/// Turns one account's taps of a service day (in time order) into journeys: a metro entry pairs with the next exit
/// within the maximum journey time; an entry left open is a missing exit, an exit with no entry a missing entry.
/// Each bus tap is a boarding; on networks with bus tap-off it pairs, like a metro entry, with the next
/// <see cref="TapMode.BusExit"/> tap on the same route within the maximum journey time, which gives the alighting
/// stop that zone fares need. A boarding without tap-off stays a boarding (the fare rules' unpriced-leg policy prices
/// it when the fare needs the destination); a tap-off without boarding is a missing entry. Legs whose gap exceeds the transfer window start a new journey; the fare rules then
/// decide which transfers inside a journey are discounted.
/// </summary>
public static class JourneyBuilder
{
    public static IReadOnlyList<JourneyInput> Build(IReadOnlyList<AccountTap> taps, TimeSpan maxJourneyTime, TimeSpan transferWindow)
    {
        var legs = new List<(LegInput Leg, string? Category)>();
        // A metro entry or a bus boarding waiting for its exit (the two never overlap: a new one closes the other).
        AccountTap? open = null;
        foreach (var tap in taps)
        {
            if (!tap.Mode.IsExit())
            {
                CloseOpen();
                open = tap;
            }
            else if (open is not null && Pairs(open, tap))
            {
                legs.Add(Leg(open, tap));
                open = null;
            }
            else
            {
                CloseOpen();
                legs.Add(Leg(null, tap));
            }
        }

        CloseOpen();

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

        void CloseOpen()
        {
            if (open is not null)
            {
                legs.Add(Leg(open, null));
                open = null;
            }
        }

        bool Pairs(AccountTap start, AccountTap end) =>
            end.At - start.At <= maxJourneyTime
            && (start.Mode, end.Mode) switch
            {
                (TapMode.MetroEntry, TapMode.MetroExit) => true,
                (TapMode.Bus, TapMode.BusExit) => start.RouteId is null || end.RouteId is null || start.RouteId == end.RouteId,
                _ => false,
            };
    }

    /// <summary>A leg from its entry (or boarding) and exit (or tap-off) taps, either of which may be missing.</summary>
    private static (LegInput Leg, string? Category) Leg(AccountTap? start, AccountTap? end)
    {
        if (start is null)
        {
            var exit = end!;
            return (new LegInput(exit.Mode == TapMode.BusExit ? TapMode.Bus : TapMode.MetroExit, exit.OperatorId, exit.RouteId, Place(exit), null, exit.At, exit.At, true, false)
            {
                ExitTap = (exit.DeviceId, exit.Seq),
            }, exit.Category);
        }

        var mode = start.Mode == TapMode.MetroEntry ? TapMode.MetroEntry : TapMode.Bus;
        return (new LegInput(
            mode, start.OperatorId, start.RouteId ?? end?.RouteId, Place(start), end is null ? null : Place(end), start.At, end?.At, false,
            end is null && mode == TapMode.MetroEntry)
        {
            EntryTap = (start.DeviceId, start.Seq),
            ExitTap = end is null ? null : (end.DeviceId, end.Seq),
        }, start.Category);
    }

    private static string? Place(AccountTap tap) => tap.Mode.OnBus() ? tap.StopId : tap.StationId;
}
