namespace Transit.Clearing.Pricing;

/// <summary>One journey with its price under the fare rules and what caps left of it.</summary>
public sealed record PricedJourney(JourneyInput Journey, JourneyPrice Price, CappedPrice Capped);

/// <summary>
/// The day's second stage, after journeys: prices one rider's journeys of a day and applies the caps. Pure: the
/// journeys of the cap window's earlier days come in already priced (read by the journeys' store), so a weekly cap
/// counts what those days used without pricing them again.
/// </summary>
public static class DayPricing
{
    /// <summary>
    /// Prices <paramref name="journeys"/> (one rider's day, in time order) and caps them after
    /// <paramref name="prior"/> (the same rider's journeys of the cap window's earlier days, in time order).
    /// </summary>
    public static IReadOnlyList<PricedJourney> PriceAndCap(
        IJourneyPricer pricer, IReadOnlyList<JourneyInput> journeys, IReadOnlyList<(JourneyInput Journey, JourneyPrice Price)> prior)
    {
        var priced = journeys.Select(j => (Journey: j, Price: pricer.Price(j))).ToList();
        var capped = pricer.ApplyCaps([.. prior, .. priced]);
        if (capped.Count != prior.Count + priced.Count)
        {
            throw new InvalidOperationException($"the pricer capped {capped.Count} journeys of {prior.Count + priced.Count}");
        }

        return [.. priced.Select((p, i) => new PricedJourney(p.Journey, p.Price, capped[prior.Count + i]))];
    }
}
