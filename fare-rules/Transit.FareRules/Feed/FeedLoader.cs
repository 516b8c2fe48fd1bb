
namespace Transit.FareRules;

/// <summary>
/// Reads the files of a feed into <see cref="FeedContents"/>, checking each row as it goes and each reference to an
/// earlier file. Files are read in dependency order so that a foreign key can be checked when the referring row is read.
/// Unknown files and columns are ignored; absent optional files are empty.
/// </summary>
internal sealed class FeedLoader
{
    private readonly Func<string, byte[]?> _read;
    private readonly FeedContents _feed = new();
    private readonly HashSet<string> _servicesInDates = new(StringComparer.Ordinal);
    private readonly HashSet<string> _legGroups = new(StringComparer.Ordinal);
    private readonly HashSet<string> _productIds = new(StringComparer.Ordinal);
    private readonly HashSet<string> _timeframeGroups = new(StringComparer.Ordinal);
    private bool _routesHaveNetworkColumn;

    private FeedLoader(Func<string, byte[]?> read) => _read = read;

    private List<FeedNotice> Notices => _feed.Notices;

    /// <summary>Loads a feed whose files are given by <paramref name="read"/> (file name → bytes, or null when absent).</summary>
    public static FeedContents Load(Func<string, byte[]?> read)
    {
        var loader = new FeedLoader(read);
        loader.LoadAll();
        return loader._feed;
    }

    private void LoadAll()
    {
        LoadAgencies();
        LoadStops();
        LoadRoutes();
        LoadCalendar();
        LoadCalendarDates();
        LoadAreas();
        LoadStopAreas();
        LoadNetworks();
        LoadRouteNetworks();
        LoadRiderCategories();
        LoadFareMedia();
        LoadFareProducts();
        LoadTimeframes();
        LoadFareLegRules();
        LoadFareLegJoinRules();
        LoadFareTransferRules();
        LoadFareCaps();
        FeedValidator.Check(_feed);
    }

    private TableReader? Open(string name, params string[] required)
    {
        var bytes = _read(name);
        return bytes is null ? null : new TableReader(CsvFile.Parse(name, bytes), Notices, required);
    }

    private static bool Unique<T>(TableReader table, Dictionary<string, T> target, string key, T value, int line, string what)
    {
        if (target.TryAdd(key, value))
        {
            return true;
        }

        table.Add(line, NoticeCodes.DuplicateKey, NoticeSeverity.Error, $"{what} '{key}' is defined more than once");
        return false;
    }

    private static void ForeignKey(TableReader table, int line, string column, string? value, bool exists, string target)
    {
        if (value is not null && !exists)
        {
            table.Add(line, NoticeCodes.ForeignKeyViolation, NoticeSeverity.Error, $"{column} '{value}' is not defined in {target}");
        }
    }

    private void LoadAgencies()
    {
        var table = Open("agency.txt", "agency_name", "agency_timezone");
        if (table is null)
        {
            return;
        }

        foreach (var row in table.Records)
        {
            var id = table.Text(row, "agency_id") ?? "";
            var name = table.Required(row, "agency_name");
            var zone = table.Required(row, "agency_timezone");
            if (zone is not null && !TimeZones.TryFind(zone, out _))
            {
                table.Add(row.Line, NoticeCodes.InvalidTimezone, NoticeSeverity.Error, $"agency_timezone '{zone}' is not a known timezone");
                zone = null;
            }

            if (id.Length == 0 && table.File.Records.Count > 1)
            {
                table.Add(row.Line, NoticeCodes.MissingRequiredField, NoticeSeverity.Error, "agency_id is required when agency.txt has several agencies");
            }

            if (name is not null && zone is not null)
            {
                Unique(table, _feed.Agencies, id, new Agency(id, name, zone), row.Line, "agency_id");
            }
        }
    }

    private void LoadStops()
    {
        var table = Open("stops.txt", "stop_id");
        if (table is null)
        {
            return;
        }

        _feed.HasStops = true;
        var lines = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var row in table.Records)
        {
            var id = table.Required(row, "stop_id");
            if (id is null)
            {
                continue;
            }

            var zone = table.Text(row, "stop_timezone");
            if (zone is not null && !TimeZones.TryFind(zone, out _))
            {
                table.Add(row.Line, NoticeCodes.InvalidTimezone, NoticeSeverity.Error, $"stop_timezone '{zone}' is not a known timezone");
                zone = null;
            }

            var stop = new Stop(id, table.Text(row, "stop_name"), table.Enum(row, "location_type", 4, false, NoticeSeverity.Warning) ?? 0, table.Text(row, "parent_station"), zone);
            if (Unique(table, _feed.Stops, id, stop, row.Line, "stop_id"))
            {
                lines[id] = row.Line;
            }
        }

        foreach (var stop in _feed.Stops.Values)
        {
            ForeignKey(table, lines[stop.Id], "parent_station", stop.ParentStationId, stop.ParentStationId is null || _feed.Stops.ContainsKey(stop.ParentStationId), "stops.txt");
        }
    }

    private void LoadRoutes()
    {
        var table = Open("routes.txt", "route_id");
        if (table is null)
        {
            return;
        }

        if (_read("agency.txt") is null)
        {
            Notices.Add(new FeedNotice("agency.txt", 0, NoticeCodes.MissingRequiredFile, NoticeSeverity.Error, "routes.txt needs agency.txt"));
        }

        _routesHaveNetworkColumn = table.File.HasColumn("network_id");
        var onlyAgency = _feed.Agencies.Count == 1 ? _feed.Agencies.Keys.First() : null;
        foreach (var row in table.Records)
        {
            var id = table.Required(row, "route_id");
            if (id is null)
            {
                continue;
            }

            var agency = table.Text(row, "agency_id");
            if (agency is null && onlyAgency is null && _feed.Agencies.Count > 1)
            {
                table.Add(row.Line, NoticeCodes.MissingRequiredField, NoticeSeverity.Error, "agency_id is required when agency.txt has several agencies");
            }

            ForeignKey(table, row.Line, "agency_id", agency, agency is null || _feed.Agencies.ContainsKey(agency), "agency.txt");
            var network = table.Text(row, "network_id");
            if (network is not null)
            {
                _feed.Networks.TryAdd(network, new Network(network, null));
            }

            var route = new Route(id, agency ?? onlyAgency ?? "", table.Text(row, "route_short_name"), table.Text(row, "route_long_name"), table.Integer(row, "route_type", 0, 9999) ?? 3, network);
            Unique(table, _feed.Routes, id, route, row.Line, "route_id");
        }
    }

    private void LoadCalendar()
    {
        var table = Open("calendar.txt", "service_id", "start_date", "end_date");
        if (table is null)
        {
            return;
        }

        string[] days = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];
        foreach (var row in table.Records)
        {
            var id = table.Required(row, "service_id");
            var start = table.Date(row, "start_date", true);
            var end = table.Date(row, "end_date", true);
            var mask = 0;
            for (var day = 0; day < days.Length; day++)
            {
                if (table.Enum(row, days[day], 1, false, NoticeSeverity.Error) == 1)
                {
                    mask |= 1 << day;
                }
            }

            if (id is null || start is null || end is null)
            {
                continue;
            }

            if (end < start)
            {
                table.Add(row.Line, NoticeCodes.StartAndEndRangeOutOfOrder, NoticeSeverity.Error, $"end_date {end:yyyyMMdd} is before start_date {start:yyyyMMdd}");
            }

            Unique(table, _feed.Calendars, id, new ServiceCalendar(id, mask, start.Value, end.Value), row.Line, "service_id");
        }
    }

    private void LoadCalendarDates()
    {
        var table = Open("calendar_dates.txt", "service_id", "date", "exception_type");
        if (table is null)
        {
            return;
        }

        var keys = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var row in table.Records)
        {
            var id = table.Required(row, "service_id");
            var date = table.Date(row, "date", true);
            var type = table.Integer(row, "exception_type", 1, 2, required: true);
            if (id is null || date is null || type is null)
            {
                continue;
            }

            if (Unique(table, keys, $"{id} {date:yyyyMMdd}", row.Line, row.Line, "service_id and date"))
            {
                _servicesInDates.Add(id);
                _feed.CalendarDates.Add(new ServiceException(id, date.Value, type == 1));
            }
        }
    }

    private void LoadAreas()
    {
        var table = Open("areas.txt", "area_id");
        if (table is null)
        {
            return;
        }

        foreach (var row in table.Records)
        {
            if (table.Required(row, "area_id") is { } id)
            {
                Unique(table, _feed.Areas, id, new Area(id, table.Text(row, "area_name")), row.Line, "area_id");
            }
        }
    }

    private void LoadStopAreas()
    {
        var table = Open("stop_areas.txt", "area_id", "stop_id");
        if (table is null)
        {
            return;
        }

        if (!_feed.HasStops)
        {
            Notices.Add(new FeedNotice("stops.txt", 0, NoticeCodes.MissingRequiredFile, NoticeSeverity.Error, "stop_areas.txt refers to stops but the feed has no stops.txt"));
        }

        var seen = new HashSet<(string, string)>();
        foreach (var row in table.Records)
        {
            var area = table.Required(row, "area_id");
            var stop = table.Required(row, "stop_id");
            if (area is null || stop is null)
            {
                continue;
            }

            ForeignKey(table, row.Line, "area_id", area, _feed.Areas.ContainsKey(area), "areas.txt");
            ForeignKey(table, row.Line, "stop_id", stop, !_feed.HasStops || _feed.Stops.ContainsKey(stop), "stops.txt");
            if (!seen.Add((area, stop)))
            {
                table.Add(row.Line, NoticeCodes.DuplicateKey, NoticeSeverity.Error, $"stop '{stop}' is assigned to area '{area}' more than once");
                continue;
            }

            if (!_feed.StopAreas.TryGetValue(stop, out var areas))
            {
                _feed.StopAreas[stop] = areas = [];
            }

            areas.Add(area);
        }
    }

    private void LoadNetworks()
    {
        var table = Open("networks.txt", "network_id");
        if (table is null)
        {
            return;
        }

        if (_routesHaveNetworkColumn)
        {
            table.Add(0, NoticeCodes.RouteNetworksSpecifiedInMoreThanOneFile, NoticeSeverity.Error, "networks.txt is forbidden when routes.txt has a network_id column");
        }

        var own = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var row in table.Records)
        {
            if (table.Required(row, "network_id") is { } id && Unique(table, own, id, row.Line, row.Line, "network_id"))
            {
                _feed.Networks[id] = new Network(id, table.Text(row, "network_name"));
            }
        }
    }

    private void LoadRouteNetworks()
    {
        var table = Open("route_networks.txt", "network_id", "route_id");
        if (table is null)
        {
            return;
        }

        if (_routesHaveNetworkColumn)
        {
            table.Add(0, NoticeCodes.RouteNetworksSpecifiedInMoreThanOneFile, NoticeSeverity.Error, "route_networks.txt is forbidden when routes.txt has a network_id column");
            return;
        }

        var assigned = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var row in table.Records)
        {
            var network = table.Required(row, "network_id");
            var routeId = table.Required(row, "route_id");
            if (network is null || routeId is null)
            {
                continue;
            }

            ForeignKey(table, row.Line, "network_id", network, _feed.Networks.ContainsKey(network), "networks.txt");
            ForeignKey(table, row.Line, "route_id", routeId, _feed.Routes.ContainsKey(routeId), "routes.txt");
            if (Unique(table, assigned, routeId, row.Line, row.Line, "route_id") && _feed.Routes.TryGetValue(routeId, out var route))
            {
                _feed.Routes[routeId] = route with { NetworkId = network };
            }
        }
    }

    private void LoadRiderCategories()
    {
        var table = Open("rider_categories.txt", "rider_category_id", "rider_category_name");
        if (table is null)
        {
            return;
        }

        string? firstDefault = null;
        foreach (var row in table.Records)
        {
            var id = table.Required(row, "rider_category_id");
            var name = table.Required(row, "rider_category_name");
            var isDefault = table.Enum(row, "is_default_fare_category", 1, false, NoticeSeverity.Error) == 1;
            if (id is null || name is null)
            {
                continue;
            }

            if (isDefault && firstDefault is not null)
            {
                table.Add(row.Line, NoticeCodes.MoreThanOneDefaultRiderCategory, NoticeSeverity.Error, $"rider category '{id}' is a second default after '{firstDefault}'; '{firstDefault}' is used");
            }

            firstDefault ??= isDefault ? id : null;
            Unique(table, _feed.RiderCategories, id, new RiderCategory(id, name, isDefault), row.Line, "rider_category_id");
        }
    }

    private void LoadFareMedia()
    {
        var table = Open("fare_media.txt", "fare_media_id", "fare_media_type");
        if (table is null)
        {
            return;
        }

        foreach (var row in table.Records)
        {
            var id = table.Required(row, "fare_media_id");
            var type = table.Enum(row, "fare_media_type", 4, true, NoticeSeverity.Error);
            if (id is not null)
            {
                Unique(table, _feed.FareMedia, id, new FareMedia(id, table.Text(row, "fare_media_name"), type ?? 0), row.Line, "fare_media_id");
            }
        }
    }

    private void LoadFareProducts()
    {
        var table = Open("fare_products.txt", "fare_product_id", "amount", "currency");
        if (table is null)
        {
            return;
        }

        var keys = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var row in table.Records)
        {
            var id = table.Required(row, "fare_product_id");
            var amountText = table.Required(row, "amount");
            var currency = table.Required(row, "currency");
            var category = table.Text(row, "rider_category_id");
            var media = table.Text(row, "fare_media_id");
            ForeignKey(table, row.Line, "rider_category_id", category, category is null || _feed.RiderCategories.ContainsKey(category), "rider_categories.txt");
            ForeignKey(table, row.Line, "fare_media_id", media, media is null || _feed.FareMedia.ContainsKey(media), "fare_media.txt");
            if (id is not null)
            {
                _productIds.Add(id);
            }

            if (currency is not null && !Currencies.IsKnown(currency))
            {
                table.Add(row.Line, NoticeCodes.InvalidCurrency, NoticeSeverity.Error, $"currency '{currency}' is not an ISO 4217 code");
                continue;
            }

            if (id is null || amountText is null || currency is null)
            {
                continue;
            }

            if (!Currencies.TryParseAmount(amountText, currency, out var amount, out var error))
            {
                table.Add(row.Line, NoticeCodes.InvalidCurrencyAmount, NoticeSeverity.Error, $"amount {error}");
                continue;
            }

            if (Unique(table, keys, $"{id}\u0001{category}\u0001{media}", row.Line, row.Line, "fare_product_id, rider_category_id and fare_media_id"))
            {
                _feed.FareProducts.Add(new FareProduct(id, table.Text(row, "fare_product_name"), category, media, amount, currency, row.Line));
            }
        }
    }

    private void LoadTimeframes()
    {
        var table = Open("timeframes.txt", "timeframe_group_id", "service_id");
        if (table is null)
        {
            return;
        }

        foreach (var row in table.Records)
        {
            var group = table.Required(row, "timeframe_group_id");
            var service = table.Required(row, "service_id");
            var start = table.Time(row, "start_time");
            var end = table.Time(row, "end_time");
            var startText = table.Text(row, "start_time");
            var endText = table.Text(row, "end_time");
            if ((startText is null) != (endText is null))
            {
                table.Add(row.Line, NoticeCodes.TimeframeOnlyStartOrEndTime, NoticeSeverity.Error, $"timeframe '{group}' has {(startText is null ? "end_time" : "start_time")} but not {(startText is null ? "start_time" : "end_time")}");
                continue;
            }

            var tooLate = false;
            foreach (var (name, value) in new[] { ("start_time", start), ("end_time", end) })
            {
                if (value > 86_400)
                {
                    table.Add(row.Line, NoticeCodes.TimeframeTimeGreaterThanTwentyFourHours, NoticeSeverity.Error, $"{name} of timeframe '{group}' is after 24:00:00");
                    tooLate = true;
                }
            }

            ForeignKey(table, row.Line, "service_id", service, service is null || _feed.Calendars.ContainsKey(service) || _servicesInDates.Contains(service), "calendar.txt or calendar_dates.txt");
            if (group is null || service is null || tooLate || (startText is not null && (start is null || end is null)))
            {
                continue;
            }

            _timeframeGroups.Add(group);
            _feed.Timeframes.Add(new Timeframe(group, start ?? 0, end ?? 86_400, service, row.Line));
        }
    }

    private void LoadFareLegRules()
    {
        var table = Open("fare_leg_rules.txt", "fare_product_id");
        if (table is null)
        {
            return;
        }

        _feed.HasRulePriority = table.File.HasColumn("rule_priority");
        var keys = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var row in table.Records)
        {
            var product = table.Required(row, "fare_product_id");
            var rule = new FareLegRule(
                table.Text(row, "leg_group_id"),
                table.Text(row, "network_id"),
                table.Text(row, "from_area_id"),
                table.Text(row, "to_area_id"),
                table.Text(row, "from_timeframe_group_id"),
                table.Text(row, "to_timeframe_group_id"),
                product ?? "",
                table.Integer(row, "rule_priority", 0, int.MaxValue) ?? 0,
                table.Enum(row, "transfer_only", 1, false, NoticeSeverity.Warning) == 1,
                row.Line);
            ForeignKey(table, row.Line, "network_id", rule.NetworkId, rule.NetworkId is null || _feed.Networks.ContainsKey(rule.NetworkId), "routes.txt or networks.txt");
            ForeignKey(table, row.Line, "from_area_id", rule.FromAreaId, rule.FromAreaId is null || _feed.Areas.ContainsKey(rule.FromAreaId), "areas.txt");
            ForeignKey(table, row.Line, "to_area_id", rule.ToAreaId, rule.ToAreaId is null || _feed.Areas.ContainsKey(rule.ToAreaId), "areas.txt");
            foreach (var (column, group) in new[] { ("from_timeframe_group_id", rule.FromTimeframeGroupId), ("to_timeframe_group_id", rule.ToTimeframeGroupId) })
            {
                if (group is not null && !_timeframeGroups.Contains(group))
                {
                    table.Add(row.Line, NoticeCodes.FareLegRuleTimeframeNotFound, NoticeSeverity.Warning, $"{column} '{group}' has no row in timeframes.txt; the rule can never match");
                }
            }

            ForeignKey(table, row.Line, "fare_product_id", product, product is null || _productIds.Contains(product), "fare_products.txt");
            if (product is null)
            {
                continue;
            }

            var key = string.Join('\u0001', rule.NetworkId, rule.FromAreaId, rule.ToAreaId, rule.FromTimeframeGroupId, rule.ToTimeframeGroupId, rule.FareProductId);
            if (Unique(table, keys, key, row.Line, row.Line, "fare leg rule (network, areas, timeframes and product)"))
            {
                if (rule.LegGroupId is not null)
                {
                    _legGroups.Add(rule.LegGroupId);
                }

                _feed.FareLegRules.Add(rule);
            }
        }
    }

    private void LoadFareLegJoinRules()
    {
        var table = Open("fare_leg_join_rules.txt", "from_network_id", "to_network_id");
        if (table is null)
        {
            return;
        }

        var keys = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var row in table.Records)
        {
            var from = table.Required(row, "from_network_id");
            var to = table.Required(row, "to_network_id");
            var fromStop = table.Text(row, "from_stop_id");
            var toStop = table.Text(row, "to_stop_id");
            ForeignKey(table, row.Line, "from_network_id", from, from is null || _feed.Networks.ContainsKey(from), "routes.txt or networks.txt");
            ForeignKey(table, row.Line, "to_network_id", to, to is null || _feed.Networks.ContainsKey(to), "routes.txt or networks.txt");
            ForeignKey(table, row.Line, "from_stop_id", fromStop, fromStop is null || !_feed.HasStops || _feed.Stops.ContainsKey(fromStop), "stops.txt");
            ForeignKey(table, row.Line, "to_stop_id", toStop, toStop is null || !_feed.HasStops || _feed.Stops.ContainsKey(toStop), "stops.txt");
            if (toStop is not null && fromStop is null)
            {
                table.Add(row.Line, NoticeCodes.MissingRequiredField, NoticeSeverity.Error, "from_stop_id is required when to_stop_id is given");
            }

            if (fromStop is not null && toStop is null)
            {
                table.Add(row.Line, NoticeCodes.MissingRequiredField, NoticeSeverity.Error, "to_stop_id is required when from_stop_id is given");
            }

            if (from is null || to is null)
            {
                continue;
            }

            if (from != to)
            {
                table.Add(row.Line, NoticeCodes.FareLegJoinRuleNetworkMismatch, NoticeSeverity.Warning, $"from_network_id '{from}' differs from to_network_id '{to}'; the specification restricts joins to one network for now");
            }

            if (Unique(table, keys, string.Join('\u0001', from, to, fromStop, toStop), row.Line, row.Line, "join rule"))
            {
                _feed.FareLegJoinRules.Add(new FareLegJoinRule(from, to, fromStop, toStop, row.Line));
            }
        }
    }

    private void LoadFareTransferRules()
    {
        var table = Open("fare_transfer_rules.txt", "fare_transfer_type");
        if (table is null)
        {
            return;
        }

        var keys = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var row in table.Records)
        {
            var from = table.Text(row, "from_leg_group_id");
            var to = table.Text(row, "to_leg_group_id");
            var product = table.Text(row, "fare_product_id");
            var count = table.Integer(row, "transfer_count", int.MinValue, int.MaxValue);
            var limit = table.Integer(row, "duration_limit", 1, int.MaxValue);
            var limitText = table.Text(row, "duration_limit");
            var limitType = table.Enum(row, "duration_limit_type", 3, false, NoticeSeverity.Error);
            var limitTypeText = table.Text(row, "duration_limit_type");
            var type = table.Enum(row, "fare_transfer_type", 2, true, NoticeSeverity.Error);
            ForeignKey(table, row.Line, "from_leg_group_id", from, from is null || _legGroups.Contains(from), "fare_leg_rules.txt");
            ForeignKey(table, row.Line, "to_leg_group_id", to, to is null || _legGroups.Contains(to), "fare_leg_rules.txt");
            ForeignKey(table, row.Line, "fare_product_id", product, product is null || _productIds.Contains(product), "fare_products.txt");
            var valid = type is not null;
            if (from == to && table.Text(row, "transfer_count") is null)
            {
                table.Add(row.Line, NoticeCodes.FareTransferRuleMissingTransferCount, NoticeSeverity.Error, $"transfer_count is required because from_leg_group_id and to_leg_group_id are both '{from}'");
                valid = false;
            }

            if (from != to && table.Text(row, "transfer_count") is not null)
            {
                table.Add(row.Line, NoticeCodes.FareTransferRuleForbiddenTransferCount, NoticeSeverity.Error, $"transfer_count is forbidden because from_leg_group_id '{from}' differs from to_leg_group_id '{to}'");
            }

            if (count is 0 or < -1)
            {
                table.Add(row.Line, NoticeCodes.FareTransferRuleInvalidTransferCount, NoticeSeverity.Error, $"transfer_count {count} is neither -1 nor 1 or more");
                valid = false;
            }

            if (limitText is not null && limitTypeText is null)
            {
                table.Add(row.Line, NoticeCodes.FareTransferRuleDurationLimitWithoutType, NoticeSeverity.Error, "duration_limit is given without duration_limit_type");
                valid = false;
            }

            if (limitText is null && limitTypeText is not null)
            {
                table.Add(row.Line, NoticeCodes.FareTransferRuleDurationLimitTypeWithoutDurationLimit, NoticeSeverity.Error, "duration_limit_type is given without duration_limit");
            }

            if (!valid || (limitText is not null && (limit is null || limitType is null)))
            {
                continue;
            }

            var rule = new FareTransferRule(from, to, from == to ? count : null, limit, limit is null ? null : (DurationLimitType?)limitType, (FareTransferType)type!.Value, product, row.Line);
            if (Unique(table, keys, string.Join('\u0001', from, to, product, count, limit), row.Line, row.Line, "transfer rule (leg groups, product, transfer_count and duration_limit)"))
            {
                _feed.FareTransferRules.Add(rule);
            }
        }
    }

    private void LoadFareCaps()
    {
        var table = Open("fare_caps.txt", "cap_id", "period_type");
        if (table is null)
        {
            return;
        }

        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var row in table.Records)
        {
            var id = table.Required(row, "cap_id");
            var period = table.Enum(row, "period_type", 3, true, NoticeSeverity.Error);
            var duration = table.Integer(row, "period_duration", 1, int.MaxValue);
            var dayStart = table.Time(row, "day_start_time") ?? 0;
            var rides = table.Integer(row, "ride_count", 1, int.MaxValue);
            var amountText = table.Text(row, "amount");
            var currency = table.Text(row, "currency");
            var category = table.Text(row, "rider_category_id");
            var media = table.Text(row, "fare_media_id");
            var network = table.Text(row, "network_id");
            var timeframe = table.Text(row, "timeframe_group_id");
            ForeignKey(table, row.Line, "rider_category_id", category, category is null || _feed.RiderCategories.ContainsKey(category), "rider_categories.txt");
            ForeignKey(table, row.Line, "fare_media_id", media, media is null || _feed.FareMedia.ContainsKey(media), "fare_media.txt");
            ForeignKey(table, row.Line, "network_id", network, network is null || _feed.Networks.ContainsKey(network), "routes.txt or networks.txt");
            ForeignKey(table, row.Line, "timeframe_group_id", timeframe, timeframe is null || _timeframeGroups.Contains(timeframe), "timeframes.txt");
            var valid = id is not null && period is not null;
            if (dayStart >= 86_400)
            {
                table.Add(row.Line, NoticeCodes.NumberOutOfRange, NoticeSeverity.Error, "day_start_time must be before 24:00:00");
                valid = false;
            }

            if (period == (int)CapPeriod.Rolling && duration is null)
            {
                table.Add(row.Line, NoticeCodes.FareCapMissingPeriodDuration, NoticeSeverity.Error, "a rolling cap (period_type 2) needs period_duration");
                valid = false;
            }

            if (period is not null and not (int)CapPeriod.Rolling && table.Text(row, "period_duration") is not null)
            {
                table.Add(row.Line, NoticeCodes.FareCapForbiddenPeriodDuration, NoticeSeverity.Error, "period_duration is only allowed for rolling caps (period_type 2)");
            }

            long? amount = null;
            if (amountText is not null)
            {
                if (currency is null || !Currencies.IsKnown(currency))
                {
                    table.Add(row.Line, currency is null ? NoticeCodes.MissingRequiredField : NoticeCodes.InvalidCurrency, NoticeSeverity.Error, currency is null ? "an amount cap needs currency" : $"currency '{currency}' is not an ISO 4217 code");
                    valid = false;
                }
                else if (!Currencies.TryParseAmount(amountText, currency, out var parsed, out var error) || parsed < 0)
                {
                    table.Add(row.Line, NoticeCodes.InvalidCurrencyAmount, NoticeSeverity.Error, $"amount {error ?? "must not be negative"}");
                    valid = false;
                }
                else
                {
                    amount = parsed;
                }
            }

            if (amountText is null && table.Text(row, "ride_count") is null)
            {
                table.Add(row.Line, NoticeCodes.FareCapMissingLimit, NoticeSeverity.Error, "a cap needs either amount or ride_count");
                valid = false;
            }

            if (amountText is not null && table.Text(row, "ride_count") is not null)
            {
                table.Add(row.Line, NoticeCodes.FareCapAmountAndRideCount, NoticeSeverity.Error, "a cap has either amount or ride_count, not both");
                valid = false;
            }

            if (valid && (amount is not null || rides is not null) && Unique(table, ids, id!, row.Line, row.Line, "cap_id"))
            {
                _feed.FareCaps.Add(new FareCap(
                    id!,
                    table.Text(row, "cap_name"),
                    (CapPeriod)period!.Value,
                    period == (int)CapPeriod.Rolling ? duration : null,
                    amount,
                    amount is null ? null : currency,
                    rides,
                    category,
                    media,
                    network,
                    timeframe,
                    dayStart,
                    row.Line));
            }
        }
    }
}
