namespace Transit.FareRules;

/// <summary>Everything read from a feed, filled by <see cref="FeedLoader"/> and then frozen into a <see cref="FareFeed"/>.</summary>
internal sealed class FeedContents
{
    public Dictionary<string, Agency> Agencies { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, Route> Routes { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, Stop> Stops { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, Area> Areas { get; } = new(StringComparer.Ordinal);

    /// <summary>stop_id → the areas stop_areas.txt assigns to it directly.</summary>
    public Dictionary<string, List<string>> StopAreas { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, Network> Networks { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, RiderCategory> RiderCategories { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, FareMedia> FareMedia { get; } = new(StringComparer.Ordinal);

    public List<FareProduct> FareProducts { get; } = [];

    public List<FareLegRule> FareLegRules { get; } = [];

    public List<FareLegJoinRule> FareLegJoinRules { get; } = [];

    public List<FareTransferRule> FareTransferRules { get; } = [];

    public List<Timeframe> Timeframes { get; } = [];

    public List<FareCap> FareCaps { get; } = [];

    public Dictionary<string, ServiceCalendar> Calendars { get; } = new(StringComparer.Ordinal);

    public List<ServiceException> CalendarDates { get; } = [];

    public bool HasRulePriority { get; set; }

    public bool HasStops { get; set; }

    public List<FeedNotice> Notices { get; } = [];
}
