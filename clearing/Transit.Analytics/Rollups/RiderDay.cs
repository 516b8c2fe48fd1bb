using Transit.Analytics.Chaining;
using Transit.DeviceApi;

namespace Transit.Analytics.Rollups;

/// <summary>Everything analytics holds of one rider on one service day; the unit that is recomputed when taps arrive.</summary>
public sealed record RiderDay(long Rider, DateOnly Day, IReadOnlyList<AnalyticsTap> Taps, IReadOnlyList<RiderLeg> Legs, IReadOnlyList<RevenueLine> Revenue);

/// <summary>Projects a rider-day onto the rollup cells it counts in.</summary>
public static class RollupProjection
{
    public const string Metro = "metro";
    public const string Bus = "bus";

    /// <summary>The rider-day's contribution to each cell (each cell once, so that it counts the rider once).</summary>
    public static Dictionary<CellKey, Measures> Project(RiderDay day, AnalyticsOptions options)
    {
        var cells = new Dictionary<CellKey, Measures>(day.Taps.Count + (day.Legs.Count * 6));
        Project(day, options, cells);
        return cells;
    }

    /// <summary>Adds the rider-day's contribution to <paramref name="cells"/> (a refresh reuses one dictionary per thread).</summary>
    public static void Project(RiderDay day, AnalyticsOptions options, Dictionary<CellKey, Measures> cells)
    {
        void Add(CellKey key, Measures m) => cells[key] = cells.TryGetValue(key, out var old) ? old + m : m;

        foreach (var tap in day.Taps)
        {
            Add(new CellKey(RollupTable.Taps, day.Day, (short)options.HourOf(tap.At), tap.OperatorId, tap.Mode.Name(), tap.RouteId ?? "", tap.StopId ?? "", Category: tap.Category ?? "", Reason: tap.Accepted ? "ok" : tap.Reason), new Measures(1));
        }

        RiderLeg? previous = null;
        foreach (var leg in day.Legs)
        {
            var mode = leg.Mode == LegMode.Metro ? Metro : Bus;
            var route = leg.RouteId ?? "";
            var category = leg.Category ?? "";
            var hour = (short)options.HourOf(leg.BoardedAt);
            Add(new CellKey(RollupTable.StopHour, day.Day, hour, leg.OperatorId, mode, route, leg.Origin ?? "", Category: category), new Measures(1));
            if (leg.Destination is { } destination)
            {
                var alightHour = leg.AlightedAt is { } at ? (short)options.HourOf(at) : hour;
                Add(new CellKey(RollupTable.StopHour, day.Day, alightHour, leg.OperatorId, mode, route, destination, Category: category), new Measures(0, 1, leg.Level == InferenceLevel.Exact ? 0 : 1));
            }

            Add(
                new CellKey(RollupTable.Od, day.Day, hour, leg.OperatorId, mode, route, leg.Origin ?? "", ToStop: leg.Destination ?? "", Category: category),
                new Measures(1, leg.Level == InferenceLevel.Exact ? 1 : 0, leg.Level == InferenceLevel.NextBoarding ? 1 : 0, leg.Level == InferenceLevel.FirstOrigin ? 1 : 0));

            if (leg.TripId is { } trip && leg.BoardSequence is { } boardSequence)
            {
                Add(new CellKey(RollupTable.TripStop, day.Day, -1, leg.OperatorId, mode, route, leg.Origin ?? "", Value: boardSequence, Trip: trip), new Measures(1));
                if (leg.Destination is { } alightStop && leg.AlightSequence is { } alightSequence)
                {
                    Add(new CellKey(RollupTable.TripStop, day.Day, -1, leg.OperatorId, mode, route, alightStop, Value: alightSequence, Trip: trip), new Measures(0, 1, leg.Level == InferenceLevel.Exact ? 1 : 0));
                }
            }

            if (leg.TransferSeconds is { } seconds && previous is not null)
            {
                var transfer = new CellKey(RollupTable.Transfers, day.Day, hour, previous.OperatorId, previous.Mode == LegMode.Metro ? Metro : Bus, previous.RouteId ?? "", previous.Destination ?? "", leg.OperatorId, mode, route, leg.Origin ?? "", category);
                Add(transfer, new Measures(1, seconds));
                Add(transfer with { Table = RollupTable.TransferTimes, Value = seconds }, new Measures(1));
            }

            previous = leg;
        }

        // Legs of a journey follow each other: count them in one pass.
        for (var i = 0; i < day.Legs.Count;)
        {
            var first = day.Legs[i];
            var (legs, transfers) = (0, 0);
            for (; i < day.Legs.Count && day.Legs[i].JourneyNo == first.JourneyNo; i++)
            {
                legs++;
                transfers += day.Legs[i].IsTransfer ? 1 : 0;
            }

            Add(new CellKey(RollupTable.Journeys, day.Day, (short)options.HourOf(first.BoardedAt), Category: first.Category ?? ""), new Measures(1, legs, transfers));
        }

        foreach (var line in day.Revenue)
        {
            Add(new CellKey(RollupTable.Revenue, day.Day, Operator: line.OperatorId, Route: line.RouteId ?? "", Category: line.Category ?? ""), new Measures(line.Amount, 1));
        }
    }
}
