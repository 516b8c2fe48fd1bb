namespace Transit.FareRules;

/// <summary>An agency of agency.txt.</summary>
/// <param name="Id">agency_id ("" when the feed has one agency and leaves it blank).</param>
/// <param name="Name">agency_name.</param>
/// <param name="TimeZoneId">agency_timezone (IANA name).</param>
public sealed record Agency(string Id, string Name, string TimeZoneId);

/// <summary>A route of routes.txt, with the network it belongs to.</summary>
/// <param name="Id">route_id.</param>
/// <param name="AgencyId">agency_id, or the only agency's id when blank.</param>
/// <param name="ShortName">route_short_name.</param>
/// <param name="LongName">route_long_name.</param>
/// <param name="RouteType">route_type (0 tram, 1 metro, 2 rail, 3 bus, ...).</param>
/// <param name="NetworkId">The network from routes.network_id or route_networks.txt, or null.</param>
public sealed record Route(string Id, string AgencyId, string? ShortName, string? LongName, int RouteType, string? NetworkId);

/// <summary>A stop, station, entrance, node or boarding area of stops.txt.</summary>
/// <param name="Id">stop_id.</param>
/// <param name="Name">stop_name.</param>
/// <param name="LocationType">location_type (0 stop or platform, 1 station, 2 entrance, 3 node, 4 boarding area).</param>
/// <param name="ParentStationId">parent_station, or null.</param>
/// <param name="TimeZoneId">stop_timezone, or null.</param>
public sealed record Stop(string Id, string? Name, int LocationType, string? ParentStationId, string? TimeZoneId);

/// <summary>An area of areas.txt.</summary>
/// <param name="Id">area_id.</param>
/// <param name="Name">area_name.</param>
public sealed record Area(string Id, string? Name);

/// <summary>A network of networks.txt, or one named by routes.network_id.</summary>
/// <param name="Id">network_id.</param>
/// <param name="Name">network_name, or null.</param>
public sealed record Network(string Id, string? Name);

/// <summary>A rider category of rider_categories.txt.</summary>
/// <param name="Id">rider_category_id.</param>
/// <param name="Name">rider_category_name.</param>
/// <param name="IsDefault">is_default_fare_category = 1.</param>
public sealed record RiderCategory(string Id, string Name, bool IsDefault);

/// <summary>A fare media of fare_media.txt.</summary>
/// <param name="Id">fare_media_id.</param>
/// <param name="Name">fare_media_name.</param>
/// <param name="Type">fare_media_type (0 none, 1 paper ticket, 2 transit card, 3 cEMV, 4 mobile app).</param>
public sealed record FareMedia(string Id, string? Name, int Type);

/// <summary>One row of fare_products.txt: a product for one rider category and one fare media.</summary>
/// <param name="Id">fare_product_id (several rows may share it).</param>
/// <param name="Name">fare_product_name.</param>
/// <param name="RiderCategoryId">rider_category_id; null means every category is eligible.</param>
/// <param name="FareMediaId">fare_media_id; null means the media is unknown and the row serves every media.</param>
/// <param name="Amount">amount in minor units of <paramref name="Currency"/> (may be negative for discounts).</param>
/// <param name="Currency">ISO 4217 currency code.</param>
/// <param name="Line">The line in fare_products.txt.</param>
public sealed record FareProduct(string Id, string? Name, string? RiderCategoryId, string? FareMediaId, long Amount, string Currency, int Line);

/// <summary>One row of fare_leg_rules.txt.</summary>
/// <param name="LegGroupId">leg_group_id, or null.</param>
/// <param name="NetworkId">network_id, or null (blank).</param>
/// <param name="FromAreaId">from_area_id, or null (blank).</param>
/// <param name="ToAreaId">to_area_id, or null (blank).</param>
/// <param name="FromTimeframeGroupId">from_timeframe_group_id, or null.</param>
/// <param name="ToTimeframeGroupId">to_timeframe_group_id, or null.</param>
/// <param name="FareProductId">fare_product_id.</param>
/// <param name="RulePriority">rule_priority (0 when blank or when the file has no such column).</param>
/// <param name="TransferOnly">
/// The non-standard <c>transfer_only</c> column of the MBTA feed: when true the rule prices a leg only when the leg is
/// reached by a transfer of fare_transfer_rules.txt, never as the first leg of a fare chain.
/// </param>
/// <param name="Line">The line in fare_leg_rules.txt.</param>
public sealed record FareLegRule(
    string? LegGroupId,
    string? NetworkId,
    string? FromAreaId,
    string? ToAreaId,
    string? FromTimeframeGroupId,
    string? ToTimeframeGroupId,
    string FareProductId,
    int RulePriority,
    bool TransferOnly,
    int Line);

/// <summary>One row of fare_leg_join_rules.txt.</summary>
/// <param name="FromNetworkId">from_network_id.</param>
/// <param name="ToNetworkId">to_network_id.</param>
/// <param name="FromStopId">from_stop_id (stop or station where the first leg ends), or null for any.</param>
/// <param name="ToStopId">to_stop_id (stop or station where the second leg starts), or null for any.</param>
/// <param name="Line">The line in fare_leg_join_rules.txt.</param>
public sealed record FareLegJoinRule(string FromNetworkId, string ToNetworkId, string? FromStopId, string? ToStopId, int Line);

/// <summary>duration_limit_type of fare_transfer_rules.txt: between which validations the duration is measured.</summary>
public enum DurationLimitType
{
    /// <summary>0: departure of the first leg to arrival of the last leg.</summary>
    DepartureToArrival = 0,

    /// <summary>1: departure of the first leg to departure of the last leg.</summary>
    DepartureToDeparture = 1,

    /// <summary>2: arrival of the first leg to departure of the last leg.</summary>
    ArrivalToDeparture = 2,

    /// <summary>3: arrival of the first leg to arrival of the last leg.</summary>
    ArrivalToArrival = 3,
}

/// <summary>fare_transfer_type of fare_transfer_rules.txt: how the cost of a transfer is processed.</summary>
public enum FareTransferType
{
    /// <summary>0: from-leg product plus transfer product (A + AB).</summary>
    FromLegPlusTransfer = 0,

    /// <summary>1: from-leg product plus transfer product plus to-leg product (A + AB + B).</summary>
    FromLegPlusTransferPlusToLeg = 1,

    /// <summary>2: transfer product only (AB), replacing the from-leg product at the start of a chain.</summary>
    TransferOnly = 2,
}

/// <summary>One row of fare_transfer_rules.txt.</summary>
/// <param name="FromLegGroupId">from_leg_group_id, or null (blank).</param>
/// <param name="ToLegGroupId">to_leg_group_id, or null (blank).</param>
/// <param name="TransferCount">transfer_count: -1 unlimited, 1 or more, null when blank.</param>
/// <param name="DurationLimit">duration_limit in seconds, or null.</param>
/// <param name="DurationLimitType">duration_limit_type, or null.</param>
/// <param name="FareTransferType">fare_transfer_type.</param>
/// <param name="FareProductId">fare_product_id of the transfer, or null for a free transfer.</param>
/// <param name="Line">The line in fare_transfer_rules.txt.</param>
public sealed record FareTransferRule(
    string? FromLegGroupId,
    string? ToLegGroupId,
    int? TransferCount,
    int? DurationLimit,
    DurationLimitType? DurationLimitType,
    FareTransferType FareTransferType,
    string? FareProductId,
    int Line);

/// <summary>One row of timeframes.txt.</summary>
/// <param name="GroupId">timeframe_group_id.</param>
/// <param name="StartSeconds">start_time in seconds after midnight (0 when blank).</param>
/// <param name="EndSeconds">end_time in seconds after midnight (86,400 when blank).</param>
/// <param name="ServiceId">service_id of calendar.txt or calendar_dates.txt.</param>
/// <param name="Line">The line in timeframes.txt.</param>
public sealed record Timeframe(string GroupId, int StartSeconds, int EndSeconds, string ServiceId, int Line);

/// <summary>A row of calendar.txt.</summary>
/// <param name="ServiceId">service_id.</param>
/// <param name="Days">Bit <c>1 &lt;&lt; (int)DayOfWeek</c> is set when the service runs on that weekday.</param>
/// <param name="StartDate">start_date.</param>
/// <param name="EndDate">end_date (inclusive).</param>
public sealed record ServiceCalendar(string ServiceId, int Days, DateOnly StartDate, DateOnly EndDate);

/// <summary>A row of calendar_dates.txt.</summary>
/// <param name="ServiceId">service_id.</param>
/// <param name="Date">date.</param>
/// <param name="Added">True for exception_type 1 (added), false for 2 (removed).</param>
public sealed record ServiceException(string ServiceId, DateOnly Date, bool Added);
