namespace Transit.FareRules;

/// <summary>period_type of fare_caps.txt: the period over which a cap accumulates.</summary>
public enum CapPeriod
{
    /// <summary>0: one service day, starting at the cap's day_start_time in the agency's timezone.</summary>
    ServiceDay = 0,

    /// <summary>1: a calendar week of service days, Monday to Sunday.</summary>
    CalendarWeek = 1,

    /// <summary>2: a rolling window of period_duration seconds opened by the first journey that counts.</summary>
    Rolling = 2,

    /// <summary>3: a calendar month of service days.</summary>
    CalendarMonth = 3,
}

/// <summary>
/// One row of the <c>fare_caps.txt</c> extension (docs/fare-caps.md): the most a rider pays, or the number of paid rides
/// after which rides are free, within a period, for journeys that match its filters.
/// </summary>
/// <param name="Id">cap_id.</param>
/// <param name="Name">cap_name, or null.</param>
/// <param name="Period">period_type.</param>
/// <param name="PeriodDurationSeconds">period_duration in seconds, for <see cref="CapPeriod.Rolling"/> only.</param>
/// <param name="Amount">The amount cap in minor units, or null for a ride-count cap.</param>
/// <param name="Currency">The currency of <paramref name="Amount"/>, or null for a ride-count cap.</param>
/// <param name="RideCount">ride_count: paid rides after which further rides in the period are free, or null for an amount cap.</param>
/// <param name="RiderCategoryId">rider_category_id filter, or null for every category.</param>
/// <param name="FareMediaId">fare_media_id filter, or null for every media.</param>
/// <param name="NetworkId">network_id filter (only legs of this network count and are capped), or null for every network.</param>
/// <param name="TimeframeGroupId">timeframe_group_id filter on the journey's start (peak / off-peak caps), or null.</param>
/// <param name="DayStartSeconds">day_start_time: when the service day begins, in seconds after midnight (e.g. 16,200 for 04:30).</param>
/// <param name="Line">The line in fare_caps.txt.</param>
public sealed record FareCap(
    string Id,
    string? Name,
    CapPeriod Period,
    int? PeriodDurationSeconds,
    long? Amount,
    string? Currency,
    int? RideCount,
    string? RiderCategoryId,
    string? FareMediaId,
    string? NetworkId,
    string? TimeframeGroupId,
    int DayStartSeconds,
    int Line);
