using Transit.FareRules;

namespace Transit.Clearing.Pricing;

/// <summary>
/// Adapts the fare engine to clearing's journeys. Ride codes are a mobile medium: legs are priced with the feed's
/// fare media of type 4 (mobile app) when it has one. A metro leg known only by its stations is priced on its
/// operator's first metro (or rail) route, which gives the network.
/// </summary>
internal sealed class FareRulesPricer : IJourneyPricer
{
    private readonly FareEngine _engine;
    private readonly FareCapCalculator _caps;
    private readonly Dictionary<string, string> _stationRouteOf;
    private readonly string? _media;

    public FareRulesPricer(FareFeed feed, ClearingOptions options)
    {
        _engine = new FareEngine(feed, new PricingOptions
        {
            MaximumFares = options.MaximumFares,
            UnpricedLegs = options.UnpricedLegs,
            DefaultFares = options.DefaultFares,
        });
        _caps = new FareCapCalculator(feed);
        Currency = feed.Currency ?? "XXX";
        var longest = feed.FareTransferRules.Select(r => r.DurationLimit ?? 0).DefaultIfEmpty(0).Max();
        TransferWindow = longest > 0 ? TimeSpan.FromSeconds(longest) : options.TransferWindow;
        CapLookbackDays = feed.FareCaps.Select(c => c.Period switch
        {
            CapPeriod.ServiceDay => 0,
            CapPeriod.CalendarWeek => 6,
            CapPeriod.Rolling => (int)Math.Ceiling((c.PeriodDurationSeconds ?? 0) / 86_400.0),
            _ => 30,
        }).DefaultIfEmpty(0).Max();
        _stationRouteOf = feed.Routes.Values
            .Where(r => r.RouteType is 1 or 2 or 0)
            .OrderBy(r => r.RouteType == 1 ? 0 : 1).ThenBy(r => r.Id, StringComparer.Ordinal)
            .GroupBy(r => r.AgencyId)
            .ToDictionary(g => g.Key, g => g.First().Id, StringComparer.Ordinal);
        _media = feed.FareMedia.Values.Where(m => m.Type == 4).Select(m => m.Id).Order(StringComparer.Ordinal).FirstOrDefault();
    }

    public string Currency { get; }

    public TimeSpan TransferWindow { get; }

    public int CapLookbackDays { get; }

    public JourneyPrice Price(JourneyInput journey)
    {
        var category = string.IsNullOrEmpty(journey.Category) ? null : journey.Category;
        var fare = _engine.Price([.. journey.Legs.Select(l => new FareLeg(
            l.RouteId ?? _stationRouteOf.GetValueOrDefault(l.OperatorId) ?? "",
            l.MissingEntry ? null : l.FromStopId,
            l.MissingEntry ? l.FromStopId : l.ToStopId,
            l.Start,
            l.End ?? l.Start,
            category,
            _media))]);
        return new JourneyPrice(
            fare.Total,
            fare.Currency,
            [.. fare.Legs.Select(l => new LegPrice(
                l.FareProductId, l.Amount, l.TransferProductId, l.TransferAmount, l.NetworkId, l.AgencyId, l.RouteId, (l.Flags & FareFlags.Unpriced) != 0))],
            fare.IsUnpriced,
            fare.IsIncomplete)
        {
            Fare = fare,
        };
    }

    public IReadOnlyList<CappedPrice> ApplyCaps(IReadOnlyList<(JourneyInput Journey, JourneyPrice Price)> journeys) =>
        // A price read back from the database (an earlier day's journey in a cap's window) has no fare of its own: the
        // journey is priced again under today's feed, which is what the cap calculator counts.
        [.. _caps.Apply([.. journeys.Select(j => j.Price.Fare ?? Price(j.Journey).Fare!)])
            .Select(c => new CappedPrice(c.Charged, c.CapAdjustment))];
}
