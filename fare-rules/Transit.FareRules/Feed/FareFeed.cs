using System.Collections.Frozen;

namespace Transit.FareRules;

/// <summary>
/// A GTFS feed with its Fares v2 files (and the <c>fare_caps.txt</c> extension), loaded and checked. Immutable and
/// safe to share between threads. Load it with <see cref="Load(string)"/> (never throws for bad data: read
/// <see cref="Report"/>) or <see cref="LoadOrThrow"/> (throws when the report has errors; warnings are fine).
/// </summary>
public sealed class FareFeed
{
    /// <summary>The files the loader reads; any other file of the directory is ignored.</summary>
    public static readonly IReadOnlyList<string> FileNames =
    [
        "agency.txt", "stops.txt", "routes.txt", "calendar.txt", "calendar_dates.txt", "areas.txt", "stop_areas.txt",
        "networks.txt", "route_networks.txt", "rider_categories.txt", "fare_media.txt", "fare_products.txt",
        "timeframes.txt", "fare_leg_rules.txt", "fare_leg_join_rules.txt", "fare_transfer_rules.txt", "fare_caps.txt",
    ];

    private readonly FrozenDictionary<string, string[]> _effectiveAreas;
    private readonly FrozenDictionary<string, ServiceCalendar> _calendars;
    private readonly FrozenDictionary<(string, DateOnly), bool> _exceptions;

    private FareFeed(FeedContents contents)
    {
        Agencies = contents.Agencies.ToFrozenDictionary(StringComparer.Ordinal);
        Routes = contents.Routes.ToFrozenDictionary(StringComparer.Ordinal);
        Stops = contents.Stops.ToFrozenDictionary(StringComparer.Ordinal);
        Areas = contents.Areas.ToFrozenDictionary(StringComparer.Ordinal);
        Networks = contents.Networks.ToFrozenDictionary(StringComparer.Ordinal);
        RiderCategories = contents.RiderCategories.ToFrozenDictionary(StringComparer.Ordinal);
        FareMedia = contents.FareMedia.ToFrozenDictionary(StringComparer.Ordinal);
        StopAreas = contents.StopAreas.ToFrozenDictionary(p => p.Key, p => (IReadOnlyList<string>)[.. p.Value], StringComparer.Ordinal);
        FareProducts = [.. contents.FareProducts];
        FareLegRules = [.. contents.FareLegRules];
        FareLegJoinRules = [.. contents.FareLegJoinRules];
        FareTransferRules = [.. contents.FareTransferRules];
        Timeframes = [.. contents.Timeframes];
        FareCaps = [.. contents.FareCaps];
        Calendars = [.. contents.Calendars.Values];
        CalendarDates = [.. contents.CalendarDates];
        HasRulePriority = contents.HasRulePriority;
        Report = new FeedCheckReport(contents.Notices);
        DefaultRiderCategoryId = contents.RiderCategories.Values.FirstOrDefault(c => c.IsDefault)?.Id;
        Currency = contents.FareProducts.Count > 0 ? contents.FareProducts[0].Currency : null;
        var firstAgency = Agencies.Values.FirstOrDefault();
        DefaultTimeZone = firstAgency is not null && TimeZones.TryFind(firstAgency.TimeZoneId, out var zone) ? zone : TimeZoneInfo.Utc;
        _calendars = contents.Calendars.ToFrozenDictionary(StringComparer.Ordinal);
        _exceptions = contents.CalendarDates.ToFrozenDictionary(e => (e.ServiceId, e.Date), e => e.Added);
        var areas = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (var stop in Stops.Keys.Concat(StopAreas.Keys))
        {
            areas.TryAdd(stop, ResolveAreas(stop));
        }

        _effectiveAreas = areas.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>Agencies by agency_id.</summary>
    public IReadOnlyDictionary<string, Agency> Agencies { get; }

    /// <summary>Routes by route_id, each with its network.</summary>
    public IReadOnlyDictionary<string, Route> Routes { get; }

    /// <summary>Stops, stations and other locations by stop_id.</summary>
    public IReadOnlyDictionary<string, Stop> Stops { get; }

    /// <summary>Areas by area_id.</summary>
    public IReadOnlyDictionary<string, Area> Areas { get; }

    /// <summary>stop_id → the areas stop_areas.txt assigns directly (see <see cref="AreasOf"/> for the inherited ones).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> StopAreas { get; }

    /// <summary>Networks by network_id, from networks.txt or routes.network_id.</summary>
    public IReadOnlyDictionary<string, Network> Networks { get; }

    /// <summary>Rider categories by rider_category_id.</summary>
    public IReadOnlyDictionary<string, RiderCategory> RiderCategories { get; }

    /// <summary>Fare media by fare_media_id.</summary>
    public IReadOnlyDictionary<string, FareMedia> FareMedia { get; }

    /// <summary>Rows of fare_products.txt.</summary>
    public IReadOnlyList<FareProduct> FareProducts { get; }

    /// <summary>Rows of fare_leg_rules.txt, in file order.</summary>
    public IReadOnlyList<FareLegRule> FareLegRules { get; }

    /// <summary>Rows of fare_leg_join_rules.txt.</summary>
    public IReadOnlyList<FareLegJoinRule> FareLegJoinRules { get; }

    /// <summary>Rows of fare_transfer_rules.txt, in file order.</summary>
    public IReadOnlyList<FareTransferRule> FareTransferRules { get; }

    /// <summary>Rows of timeframes.txt.</summary>
    public IReadOnlyList<Timeframe> Timeframes { get; }

    /// <summary>Rows of the fare_caps.txt extension.</summary>
    public IReadOnlyList<FareCap> FareCaps { get; }

    /// <summary>Rows of calendar.txt.</summary>
    public IReadOnlyList<ServiceCalendar> Calendars { get; }

    /// <summary>Rows of calendar_dates.txt.</summary>
    public IReadOnlyList<ServiceException> CalendarDates { get; }

    /// <summary>Whether fare_leg_rules.txt has a rule_priority column, which changes what a blank field matches.</summary>
    public bool HasRulePriority { get; }

    /// <summary>The (first) rider category with is_default_fare_category = 1, or null.</summary>
    public string? DefaultRiderCategoryId { get; }

    /// <summary>The currency of the fare products (the first product's when they differ), or null without products.</summary>
    public string? Currency { get; }

    /// <summary>The first agency's timezone (UTC when there is none).</summary>
    public TimeZoneInfo DefaultTimeZone { get; }

    /// <summary>Every problem found while loading.</summary>
    public FeedCheckReport Report { get; }

    /// <summary>Loads and checks the feed in <paramref name="directory"/>. Bad data never throws: see <see cref="Report"/>.</summary>
    /// <param name="directory">A directory of GTFS .txt files.</param>
    /// <returns>The feed, with its report.</returns>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    public static FareFeed Load(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (!System.IO.Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"feed directory {directory} does not exist");
        }

        return new FareFeed(FeedLoader.Load(name =>
        {
            var path = Path.Combine(directory, name);
            return File.Exists(path) ? File.ReadAllBytes(path) : null;
        }));
    }

    /// <summary>Loads a feed and throws when its report has errors (warnings are accepted).</summary>
    /// <param name="directory">A directory of GTFS .txt files.</param>
    /// <returns>The feed.</returns>
    /// <exception cref="FareFeedException">The feed has errors; the exception carries the report.</exception>
    public static FareFeed LoadOrThrow(string directory)
    {
        var feed = Load(directory);
        return feed.Report.HasErrors ? throw new FareFeedException(feed.Report) : feed;
    }

    /// <summary>Loads a feed from file contents held in memory (file name → CSV text).</summary>
    /// <param name="files">The files, e.g. <c>["fare_products.txt"] = "fare_product_id,amount,currency\n..."</c>.</param>
    /// <returns>The feed, with its report.</returns>
    public static FareFeed FromFiles(IReadOnlyDictionary<string, string> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        return new FareFeed(FeedLoader.Load(name => files.TryGetValue(name, out var text) ? System.Text.Encoding.UTF8.GetBytes(text) : null));
    }

    /// <summary>
    /// The areas of a stop for fare purposes: those stop_areas.txt assigns to it, or when it has none, those of its
    /// parent station (a station's area covers its platforms unless a platform is assigned areas of its own).
    /// </summary>
    /// <param name="stopId">A stop_id.</param>
    /// <returns>The area ids; empty when the stop is in no area or unknown.</returns>
    public IReadOnlyList<string> AreasOf(string stopId)
    {
        ArgumentNullException.ThrowIfNull(stopId);
        return _effectiveAreas.TryGetValue(stopId, out var areas) ? areas : [];
    }

    /// <summary>Whether service <paramref name="serviceId"/> runs on <paramref name="date"/> (calendar.txt and calendar_dates.txt).</summary>
    /// <param name="serviceId">A service_id.</param>
    /// <param name="date">A date.</param>
    /// <returns>True when the service is active that day.</returns>
    public bool ServiceRunsOn(string serviceId, DateOnly date)
    {
        ArgumentNullException.ThrowIfNull(serviceId);
        if (_exceptions.TryGetValue((serviceId, date), out var added))
        {
            return added;
        }

        return _calendars.TryGetValue(serviceId, out var calendar)
            && date >= calendar.StartDate && date <= calendar.EndDate
            && (calendar.Days & (1 << (int)date.DayOfWeek)) != 0;
    }

    /// <summary>
    /// The timezone of a fare event: the stop's stop_timezone (or its parent station's), else the timezone of the route's
    /// agency, else <see cref="DefaultTimeZone"/>.
    /// </summary>
    /// <param name="routeId">The leg's route_id, or null.</param>
    /// <param name="stopId">The stop_id of the event, or null.</param>
    /// <returns>The timezone.</returns>
    public TimeZoneInfo TimeZoneOf(string? routeId, string? stopId)
    {
        for (var (id, depth) = (stopId, 0); id is not null && depth < 8 && Stops.TryGetValue(id, out var stop); (id, depth) = (stop.ParentStationId, depth + 1))
        {
            if (stop.TimeZoneId is not null && TimeZones.TryFind(stop.TimeZoneId, out var stopZone))
            {
                return stopZone;
            }
        }

        if (routeId is not null && Routes.TryGetValue(routeId, out var route) && Agencies.TryGetValue(route.AgencyId, out var agency)
            && TimeZones.TryFind(agency.TimeZoneId, out var zone))
        {
            return zone;
        }

        return DefaultTimeZone;
    }

    /// <summary>
    /// Turns a local wall-clock time of the feed (as in the legs CSV) into an instant, using the timezone of the stop or
    /// route (<see cref="TimeZoneOf"/>). An ambiguous time (clocks going back) is taken at the standard offset; a time in a
    /// spring-forward gap is moved forward by the gap.
    /// </summary>
    /// <param name="local">The local time (its Kind is ignored).</param>
    /// <param name="routeId">The route, or null.</param>
    /// <param name="stopId">The stop, or null.</param>
    /// <returns>The time with its UTC offset.</returns>
    public DateTimeOffset ToInstant(DateTime local, string? routeId = null, string? stopId = null)
    {
        var zone = TimeZoneOf(routeId, stopId);
        var unspecified = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
        if (zone.IsInvalidTime(unspecified))
        {
            unspecified = unspecified.AddHours(1);
        }

        return new DateTimeOffset(unspecified, zone.GetUtcOffset(unspecified));
    }

    private string[] ResolveAreas(string stopId)
    {
        for (var (id, depth) = (stopId, 0); id is not null && depth < 8; depth++)
        {
            if (StopAreas.TryGetValue(id, out var own))
            {
                return [.. own];
            }

            id = Stops.TryGetValue(id, out var stop) ? stop.ParentStationId : null;
        }

        return [];
    }
}
