using System.Collections.Concurrent;

namespace Transit.FareRules;

/// <summary>
/// The feed compiled for pricing: every id replaced by a small integer, fare leg rules indexed by
/// (network, from area, to area) and transfer rules by (from leg group, to leg group), so that pricing a leg costs a few
/// dictionary look-ups, never a scan of the rules. Immutable except for lock-free caches; safe for concurrent use.
/// </summary>
internal sealed class FareIndex
{
    private readonly Dictionary<long, int[]> _ruleIndex = [];
    private readonly Dictionary<long, int[]> _transferIndex = [];
    private readonly ConcurrentDictionary<long, int[]> _candidates = new();
    private readonly Dictionary<int, int[]> _rulesByNetwork = [];
    private readonly Dictionary<string, ZoneClock> _clocks = new(StringComparer.Ordinal);
    private readonly int[] _bestRow;
    private readonly int _mediaSlots;
    private readonly int _categorySlots;
    private readonly Profile?[] _profiles;

    public FareIndex(FareFeed feed, PricingOptions options)
    {
        Feed = feed;
        Options = options;
        Currency = feed.Currency ?? "XXX";
        HasPriority = feed.HasRulePriority;
        DefaultClock = ClockOf(feed.DefaultTimeZone);

        NetworkIds = Ids(feed.Networks.Keys);
        NetworkNames = [.. NetworkIds.OrderBy(p => p.Value).Select(p => p.Key)];
        AreaIds = Ids(feed.Areas.Keys);
        CategoryIds = Ids(feed.RiderCategories.Keys);
        MediaIds = Ids(feed.FareMedia.Keys);
        ProductIds = Ids(feed.FareProducts.Select(p => p.Id));
        GroupIds = Ids(feed.FareLegRules.Select(r => r.LegGroupId).OfType<string>());
        TimeframeIds = Ids(feed.Timeframes.Select(t => t.GroupId));
        DefaultCategory = feed.DefaultRiderCategoryId is { } d ? CategoryIds[d] : -1;

        Routes = feed.Routes.Values.ToDictionary(
            r => r.Id,
            r => new RouteInfo(
                r.NetworkId is null ? -1 : NetworkIds[r.NetworkId],
                r.NetworkId,
                feed.Agencies.ContainsKey(r.AgencyId) ? r.AgencyId : null,
                ClockOf(feed.TimeZoneOf(r.Id, null)),
                r.RouteType),
            StringComparer.Ordinal);

        var setIds = new Dictionary<string, int>(StringComparer.Ordinal) { [""] = 0 };
        var sets = new List<int[]> { Array.Empty<int>() };
        Stops = new Dictionary<string, StopInfo>(StringComparer.Ordinal);
        foreach (var id in feed.Stops.Keys.Concat(feed.StopAreas.Keys).Distinct(StringComparer.Ordinal))
        {
            var areas = feed.AreasOf(id).Where(AreaIds.ContainsKey).Select(a => AreaIds[a]).Distinct().Order().ToArray();
            var key = string.Join(',', areas);
            if (!setIds.TryGetValue(key, out var set))
            {
                setIds[key] = set = sets.Count;
                sets.Add(areas);
            }

            var station = id;
            if (feed.Stops.TryGetValue(id, out var stop) && stop.ParentStationId is { } parent && stop.LocationType != 1)
            {
                station = parent;
            }

            Stops[id] = new StopInfo(set, station, OwnZone(feed, id) is { } zone ? ClockOf(zone) : null);
        }

        AreaSets = [.. sets];
        Timeframes = BuildTimeframes(feed);
        (Products, _categorySlots, _mediaSlots, _bestRow) = BuildProducts(feed);
        _profiles = new Profile?[_categorySlots * _mediaSlots];
        Rules = BuildRules(feed);
        Transfers = BuildTransfers(feed);
        Joins = [.. feed.FareLegJoinRules.Where(j => j.FromNetworkId == j.ToNetworkId && NetworkIds.ContainsKey(j.FromNetworkId))
            .Select(j => new JoinRule(NetworkIds[j.FromNetworkId], j.FromStopId, j.ToStopId))];
        TapOut = new bool[NetworkIds.Count];
        foreach (var (id, index) in NetworkIds)
        {
            TapOut[index] = options.TapOutNetworks?.Contains(id)
                ?? (options.MaximumFares.ContainsKey(id) || feed.Routes.Values.Any(r => r.NetworkId == id && r.RouteType == 1));
        }
    }

    public FareFeed Feed { get; }

    public PricingOptions Options { get; }

    public string Currency { get; }

    public bool HasPriority { get; }

    public ZoneClock DefaultClock { get; }

    public Dictionary<string, int> NetworkIds { get; }

    public string[] NetworkNames { get; }

    public Dictionary<string, int> AreaIds { get; }

    public Dictionary<string, int> CategoryIds { get; }

    public Dictionary<string, int> MediaIds { get; }

    public Dictionary<string, int> ProductIds { get; }

    public Dictionary<string, int> GroupIds { get; }

    public Dictionary<string, int> TimeframeIds { get; }

    public int DefaultCategory { get; }

    public Dictionary<string, RouteInfo> Routes { get; }

    public Dictionary<string, StopInfo> Stops { get; }

    public int[][] AreaSets { get; }

    public TimeframeWindow[][] Timeframes { get; }

    public ProductRow[] Products { get; }

    public LegRule[] Rules { get; }

    public TransferRule[] Transfers { get; }

    public JoinRule[] Joins { get; }

    /// <summary>Per network: whether a leg without exit is incomplete.</summary>
    public bool[] TapOut { get; }

    public bool[] ListedFromGroups { get; private set; } = [];

    public bool[] ListedToGroups { get; private set; } = [];

    /// <summary>
    /// The fare leg rules that can match a leg of network <paramref name="network"/> (-1: none) from a stop in area set
    /// <paramref name="fromSet"/> to one in <paramref name="toSet"/> for a rider of <paramref name="category"/> paying with
    /// <paramref name="media"/> (see <see cref="BestRow"/>), before timeframes and priority are applied; ordered by
    /// decreasing rule_priority, then file order. Built from the index on first use and cached.
    /// </summary>
    public int[] Candidates(int network, int fromSet, int toSet, int category, int media)
    {
        if (fromSet >= 1 << 16 || toSet >= 1 << 16 || network >= (1 << 12) - 1 || category >= 254 || media >= 253)
        {
            return BuildCandidates(network, fromSet, toSet, Profile(category, media));
        }

        var key = ((long)(network + 1) << 48) | ((long)fromSet << 32) | ((long)toSet << 16) | ((long)(category + 1) << 8) | (uint)(media + 2);
        return _candidates.TryGetValue(key, out var cached)
            ? cached
            : _candidates.GetOrAdd(key, _ => BuildCandidates(network, fromSet, toSet, Profile(category, media)));
    }

    /// <summary>The transfer rules whose from/to leg groups match a transfer from group <paramref name="from"/> to <paramref name="to"/>.</summary>
    public int[] TransferCandidates(int from, int to)
    {
        if (from < 0 || to < 0)
        {
            return [];
        }

        var fromKey = ListedFromGroups[from] ? from : -1;
        var toKey = ListedToGroups[to] ? to : -1;
        return _transferIndex.TryGetValue(PairKey(fromKey, toKey), out var rules) ? rules : [];
    }

    /// <summary>The fare leg rules of a network regardless of areas and timeframes (for maximum fares).</summary>
    public int[] RulesOfNetwork(int network, int category, int media)
    {
        var profile = Profile(category, media);
        var own = network >= 0 && _rulesByNetwork.TryGetValue(network, out var rules) ? rules : [];
        var blank = (HasPriority || network < 0 || !profile.Networks[network]) && _rulesByNetwork.TryGetValue(-1, out var b) ? b : [];
        return [.. own.Concat(blank).Where(r => profile.Eligible[r])];
    }

    /// <summary>The fare leg rules of a network that can match a leg starting in area set <paramref name="fromSet"/>, whatever its destination and timeframes (for unpriced legs).</summary>
    public int[] RulesFromArea(int network, int fromSet, int category, int media)
    {
        var froms = Keys(AreaSets[fromSet], Profile(category, media).FromAreas);
        return [.. RulesOfNetwork(network, category, media).Where(r => froms.Contains(Rules[r].FromArea))];
    }

    /// <summary>
    /// The product row that a rider of category <paramref name="category"/> (-1: none) paying with media
    /// <paramref name="media"/> (-2: unknown to the rider, any media; -1: a media the feed does not define) uses for
    /// product <paramref name="product"/>, or -1 when the rider is not eligible.
    /// </summary>
    public int BestRow(int product, int category, int media) =>
        product < 0 ? -1 : _bestRow[(((product * _categorySlots) + category + 1) * _mediaSlots) + media + 2];

    /// <summary>The row of a product for the rider, falling back to the default category when the options allow it.</summary>
    public (int Row, bool Fallback) Row(int product, int category, int media)
    {
        var row = BestRow(product, category, media);
        if (row >= 0 || !Options.FallBackToDefaultCategory || DefaultCategory < 0 || category == DefaultCategory)
        {
            return (row, false);
        }

        row = BestRow(product, DefaultCategory, media);
        return (row, row >= 0);
    }

    public ZoneClock ClockOf(TimeZoneInfo zone)
    {
        lock (_clocks)
        {
            if (!_clocks.TryGetValue(zone.Id, out var clock))
            {
                _clocks[zone.Id] = clock = new ZoneClock(zone);
            }

            return clock;
        }
    }

    /// <summary>Whether any window of timeframe group <paramref name="group"/> contains the local time.</summary>
    public bool InTimeframe(int group, DateOnly date, int seconds)
    {
        foreach (var window in Timeframes[group])
        {
            if (seconds >= window.Start && seconds < window.End && window.Service.IsActive(date))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The stop_timezone of a stop or of its nearest ancestor that has one, or null.</summary>
    private static TimeZoneInfo? OwnZone(FareFeed feed, string stopId)
    {
        for (var (id, depth) = (stopId, 0); id is not null && depth < 8 && feed.Stops.TryGetValue(id, out var stop); (id, depth) = (stop.ParentStationId, depth + 1))
        {
            if (stop.TimeZoneId is not null)
            {
                return feed.TimeZoneOf(null, id);
            }
        }

        return null;
    }

    private static long PairKey(int a, int b) => ((long)(a + 1) << 32) | (uint)(b + 1);

    private static Dictionary<string, int> Ids(IEnumerable<string> ids)
    {
        var map = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var id in ids)
        {
            map.TryAdd(id, map.Count);
        }

        return map;
    }

    /// <summary>
    /// Which rules a rider of a category and media can use (their product has a row for the rider), and which networks and
    /// areas those rules list. A blank field of a rule matches what no usable rule lists: a rule for a product the rider
    /// cannot buy does not take precedence over a blank one (the MBTA feed lists cash-only areas and relies on this).
    /// </summary>
    private Profile Profile(int category, int media)
    {
        var slot = ((category + 1) * _mediaSlots) + media + 2;
        var profile = Volatile.Read(ref _profiles[slot]);
        if (profile is null)
        {
            var eligible = new bool[Rules.Length];
            var networks = new bool[NetworkIds.Count];
            var fromAreas = new bool[AreaIds.Count];
            var toAreas = new bool[AreaIds.Count];
            for (var r = 0; r < Rules.Length; r++)
            {
                var rule = Rules[r];
                eligible[r] = Row(rule.Product, category, media).Row >= 0;
                if (eligible[r])
                {
                    MarkListed(networks, rule.Network);
                    MarkListed(fromAreas, rule.FromArea);
                    MarkListed(toAreas, rule.ToArea);
                }
            }

            profile = new Profile(eligible, networks, fromAreas, toAreas);
            Volatile.Write(ref _profiles[slot], profile);
        }

        return profile;
    }

    private int[] BuildCandidates(int network, int fromSet, int toSet, Profile profile)
    {
        Span<int> nets = [network, -1];
        var netCount = network >= 0 && (HasPriority || !profile.Networks[network]) ? 2 : 1;
        if (network < 0)
        {
            nets[0] = -1;
        }

        var froms = Keys(AreaSets[fromSet], profile.FromAreas);
        var tos = Keys(AreaSets[toSet], profile.ToAreas);
        var found = new List<int>();
        for (var n = 0; n < netCount; n++)
        {
            foreach (var from in froms)
            {
                foreach (var to in tos)
                {
                    if (_ruleIndex.TryGetValue(RuleKey(nets[n], from, to), out var rules))
                    {
                        found.AddRange(rules.Where(r => profile.Eligible[r]));
                    }
                }
            }
        }

        return [.. found.Distinct().OrderByDescending(r => Rules[r].Priority).ThenBy(r => r)];
    }

    /// <summary>The area keys a leg end can match: each of its areas, plus blank (-1) when blank applies.</summary>
    private List<int> Keys(int[] areas, bool[] listed)
    {
        var keys = new List<int>(areas.Length + 1);
        keys.AddRange(areas);
        if (HasPriority || !areas.Any(a => listed[a]))
        {
            keys.Add(-1);
        }

        return keys;
    }

    private static long RuleKey(int network, int from, int to) => ((long)(network + 1) << 42) | ((long)(from + 1) << 21) | (uint)(to + 1);

    private TimeframeWindow[][] BuildTimeframes(FareFeed feed)
    {
        var services = new Dictionary<string, ServiceDays>(StringComparer.Ordinal);
        var groups = new List<TimeframeWindow>[TimeframeIds.Count];
        foreach (var timeframe in feed.Timeframes)
        {
            if (!services.TryGetValue(timeframe.ServiceId, out var days))
            {
                services[timeframe.ServiceId] = days = ServiceDays.Build(feed, timeframe.ServiceId);
            }

            (groups[TimeframeIds[timeframe.GroupId]] ??= []).Add(new TimeframeWindow(timeframe.StartSeconds, timeframe.EndSeconds, days));
        }

        return [.. groups.Select(g => g?.ToArray() ?? [])];
    }

    private (ProductRow[] Rows, int CategorySlots, int MediaSlots, int[] Best) BuildProducts(FareFeed feed)
    {
        var rows = feed.FareProducts
            .Select(p => new ProductRow(
                ProductIds[p.Id],
                p.RiderCategoryId is { } c && CategoryIds.TryGetValue(c, out var ci) ? ci : -1,
                p.FareMediaId is { } m && MediaIds.TryGetValue(m, out var mi) ? mi : -1,
                p.Amount,
                p))
            .ToArray();
        var categorySlots = CategoryIds.Count + 1;
        var mediaSlots = MediaIds.Count + 2;
        var best = new int[ProductIds.Count * categorySlots * mediaSlots];
        Array.Fill(best, -1);
        var byProduct = Enumerable.Range(0, rows.Length).Where(i => rows[i].Source.Currency == Currency).GroupBy(i => rows[i].Product);
        foreach (var group in byProduct)
        {
            for (var category = -1; category < CategoryIds.Count; category++)
            {
                for (var media = -2; media < MediaIds.Count; media++)
                {
                    var chosen = -1;
                    var chosenScore = -1;
                    foreach (var i in group)
                    {
                        var row = rows[i];
                        var categoryOk = row.Category == -1 || (category >= 0 && row.Category == category);
                        var mediaOk = media == -2 || row.Media == -1 || (media >= 0 && row.Media == media);
                        if (!categoryOk || !mediaOk)
                        {
                            continue;
                        }

                        var score = (row.Category >= 0 ? 2 : 0) + (media >= 0 && row.Media >= 0 ? 1 : 0);
                        if (score > chosenScore || (score == chosenScore && row.Amount < rows[chosen].Amount))
                        {
                            chosen = i;
                            chosenScore = score;
                        }
                    }

                    best[(((group.Key * categorySlots) + category + 1) * mediaSlots) + media + 2] = chosen;
                }
            }
        }

        return (rows, categorySlots, mediaSlots, best);
    }

    private LegRule[] BuildRules(FareFeed feed)
    {
        var rules = new List<LegRule>();
        foreach (var rule in feed.FareLegRules)
        {
            if (!ProductIds.TryGetValue(rule.FareProductId, out var product)
                || !TryId(NetworkIds, rule.NetworkId, out var network)
                || !TryId(AreaIds, rule.FromAreaId, out var from)
                || !TryId(AreaIds, rule.ToAreaId, out var to)
                || !TryId(TimeframeIds, rule.FromTimeframeGroupId, out var fromTimeframe)
                || !TryId(TimeframeIds, rule.ToTimeframeGroupId, out var toTimeframe))
            {
                continue;
            }

            var index = rules.Count;
            rules.Add(new LegRule(network, from, to, fromTimeframe, toTimeframe, product, rule.LegGroupId is null ? -1 : GroupIds[rule.LegGroupId], rule.RulePriority, rule.TransferOnly && Options.HonorTransferOnly, rule));
            Append(_ruleIndex, RuleKey(network, from, to), index);
            Append(_rulesByNetwork, network, index);
        }

        return [.. rules];
    }

    private TransferRule[] BuildTransfers(FareFeed feed)
    {
        ListedFromGroups = new bool[GroupIds.Count];
        ListedToGroups = new bool[GroupIds.Count];
        var transfers = new List<TransferRule>();
        foreach (var rule in feed.FareTransferRules)
        {
            var product = -1;
            if ((rule.FareProductId is not null && !ProductIds.TryGetValue(rule.FareProductId, out product))
                || !TryId(GroupIds, rule.FromLegGroupId, out var from)
                || !TryId(GroupIds, rule.ToLegGroupId, out var to))
            {
                continue;
            }

            var index = transfers.Count;
            transfers.Add(new TransferRule(from, to, rule.TransferCount, rule.DurationLimit is { } limit ? limit * TimeSpan.TicksPerSecond : null, rule.DurationLimitType, rule.FareTransferType, product, rule));
            MarkListed(ListedFromGroups, from);
            MarkListed(ListedToGroups, to);
            Append(_transferIndex, PairKey(from, to), index);
        }

        return [.. transfers];
    }

    private static bool TryId(Dictionary<string, int> ids, string? id, out int index)
    {
        index = -1;
        return id is null || ids.TryGetValue(id, out index);
    }

    private static void MarkListed(bool[] listed, int index)
    {
        if (index >= 0)
        {
            listed[index] = true;
        }
    }

    private static void Append<TKey>(Dictionary<TKey, int[]> index, TKey key, int value)
        where TKey : notnull =>
        index[key] = index.TryGetValue(key, out var existing) ? [.. existing, value] : [value];
}

/// <summary>The rules a rider can use and the networks and areas they list (see FareIndex.Profile).</summary>
internal sealed record Profile(bool[] Eligible, bool[] Networks, bool[] FromAreas, bool[] ToAreas);

/// <summary>A route compiled: its network (-1 none), agency, clock and route_type.</summary>
internal sealed record RouteInfo(int Network, string? NetworkId, string? AgencyId, ZoneClock Clock, int RouteType);

/// <summary>A stop compiled: its area set, its station (parent, or itself) and its own clock when it has a stop_timezone.</summary>
internal sealed record StopInfo(int AreaSet, string Station, ZoneClock? Clock);

/// <summary>One row of timeframes.txt compiled.</summary>
internal sealed record TimeframeWindow(int Start, int End, ServiceDays Service);

/// <summary>One row of fare_products.txt compiled.</summary>
internal sealed record ProductRow(int Product, int Category, int Media, long Amount, FareProduct Source);

/// <summary>One fare leg rule compiled (-1 means blank).</summary>
internal sealed record LegRule(int Network, int FromArea, int ToArea, int FromTimeframe, int ToTimeframe, int Product, int Group, int Priority, bool TransferOnly, FareLegRule Source);

/// <summary>One transfer rule compiled (-1 means blank; the duration in ticks).</summary>
internal sealed record TransferRule(int From, int To, int? Count, long? Duration, DurationLimitType? DurationType, FareTransferType Type, int Product, FareTransferRule Source);

/// <summary>One join rule compiled (only rules within one network are used).</summary>
internal sealed record JoinRule(int Network, string? FromStop, string? ToStop);

/// <summary>The days a service runs, as a bitmap over the dates its calendar covers.</summary>
internal sealed class ServiceDays
{
    private readonly int _first;
    private readonly bool[] _days;

    private ServiceDays(int first, bool[] days)
    {
        _first = first;
        _days = days;
    }

    public static ServiceDays Build(FareFeed feed, string serviceId)
    {
        var dates = feed.Calendars.Where(c => c.ServiceId == serviceId).SelectMany(c => new[] { c.StartDate, c.EndDate })
            .Concat(feed.CalendarDates.Where(d => d.ServiceId == serviceId).Select(d => d.Date)).ToList();
        if (dates.Count == 0)
        {
            return new ServiceDays(0, []);
        }

        var first = dates.Min().DayNumber;
        var last = Math.Min(dates.Max().DayNumber, first + (366 * 30));
        var days = new bool[last - first + 1];
        for (var day = first; day <= last; day++)
        {
            days[day - first] = feed.ServiceRunsOn(serviceId, DateOnly.FromDayNumber(day));
        }

        return new ServiceDays(first, days);
    }

    public bool IsActive(DateOnly date)
    {
        var index = date.DayNumber - _first;
        return index >= 0 && index < _days.Length && _days[index];
    }
}
