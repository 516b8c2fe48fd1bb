using Transit.Clearing.Gtfs;
using Transit.Clearing.Journeys;

namespace Transit.Clearing.Tests;

/// <summary>Stand-in for the fare engine until Transit.FareRules lands: the synthetic city's fares without transfers.</summary>
internal sealed class InterimPricer : IFareEngineFactory, IJourneyPricer
{
    private static readonly HashSet<string> ZoneA = ["W1", "CEN", "N1"];

    public string Currency => "EUR";

    public TimeSpan TransferWindow => TimeSpan.FromMinutes(90);

    public int CapLookbackDays => 0;

    public IJourneyPricer Create(IReadOnlyDictionary<string, string> files) => this;

    public JourneyPrice Price(JourneyInput journey)
    {
        var child = journey.Category is "child" or "senior";
        var legs = journey.Legs.Select(l =>
        {
            long amount = l.Mode == Ingest.TapModes.Bus ? 160
                : l.Incomplete ? 400
                : ZoneA.Contains(l.FromStopId!) == ZoneA.Contains(l.ToStopId!) ? 200 : 280;
            if (child && !l.Incomplete)
            {
                amount /= 2;
            }

            return new LegPrice("p", amount, null, 0, l.Mode == Ingest.TapModes.Bus ? "bus" : "metro", l.Mode == Ingest.TapModes.Bus ? "bus" : "metro", l.RouteId, false);
        }).ToList();
        return new JourneyPrice(legs.Sum(l => l.Amount), Currency, legs, false, journey.Legs.Any(l => l.Incomplete));
    }

    public IReadOnlyList<CappedPrice> ApplyCaps(IReadOnlyList<(JourneyInput Journey, JourneyPrice Price)> journeys)
    {
        long spent = 0;
        return [.. journeys.Select(j =>
        {
            var cap = j.Journey.Category is "child" or "senior" ? 300 : 600;
            var charged = j.Price.Incomplete ? j.Price.Total : Math.Max(0, Math.Min(j.Price.Total, cap - spent));
            if (!j.Price.Incomplete)
            {
                spent += charged;
            }

            return new CappedPrice(charged, j.Price.Total - charged);
        })];
    }
}
