using Transit.DeviceApi;

namespace Transit.Analytics;

/// <summary>
/// A tap as analytics sees it: the account already replaced by its keyed pseudonym (<see cref="Privacy.Pseudonymizer"/>),
/// so no raw account token is ever held here.
/// </summary>
/// <param name="Rider">Keyed pseudonym of the account.</param>
/// <param name="At">When the device decided.</param>
/// <param name="Mode">The device's mode, as the device contract defines it (clearing's <c>taps.mode</c>).</param>
/// <param name="OperatorId">The device's operator (GTFS agency).</param>
/// <param name="StopId">Station (metro) or stop (bus) as a GTFS stop_id; null when the bus did not know its stop.</param>
/// <param name="RouteId">The bus route; null for metro gates.</param>
/// <param name="Accepted">Whether the gate opened and clearing kept the tap.</param>
/// <param name="Reason"><c>ok</c> or the refusal reason.</param>
/// <param name="Category">The rider category of the credential.</param>
/// <param name="DeviceId">The device, for transaction-level exports.</param>
/// <param name="Sequence">The device's journal sequence number.</param>
public sealed record AnalyticsTap(
    long Rider,
    DateTimeOffset At,
    TapMode Mode,
    string OperatorId,
    string? StopId,
    string? RouteId,
    bool Accepted,
    string Reason,
    string? Category,
    string? DeviceId = null,
    long Sequence = 0);

/// <summary>The settled revenue of one leg, from clearing's settlement (integer minor units).</summary>
public sealed record RevenueLine(long Rider, string OperatorId, string? RouteId, string? Category, long Amount);

/// <summary>Settings of the analytics computations.</summary>
public sealed record AnalyticsOptions
{
    /// <summary>The furthest a rider is assumed to walk between alighting and the next boarding.</summary>
    public double MaxWalkMeters { get; init; } = 1000;

    /// <summary>A boarding this soon after the previous leg ended continues the same journey (a transfer).</summary>
    public TimeSpan MaxTransferTime { get; init; } = TimeSpan.FromMinutes(60);

    /// <summary>
    /// A metro exit or bus tap-off later than this after the entry or boarding does not belong to it (clearing's
    /// <c>MaxJourneyTime</c>, so that analytics pairs the taps clearing priced as one leg).
    /// </summary>
    public TimeSpan MaxJourneyTime { get; init; } = TimeSpan.FromHours(3);

    /// <summary>Cells counting fewer distinct riders are withheld from planners.</summary>
    public int SuppressionK { get; init; } = 10;

    /// <summary>The time zone hours of day are counted in (the feed's agency time zone).</summary>
    public TimeZoneInfo TimeZone { get; init; } = TimeZoneInfo.Utc;

    /// <summary>Local hour of day (0–23) of an instant.</summary>
    public int HourOf(DateTimeOffset at) => Local(at).Hour;

    /// <summary>Seconds since local midnight of <paramref name="day"/> (past 86,400 after midnight, as in GTFS).</summary>
    public int ServiceSeconds(DateOnly day, DateTimeOffset at) => (int)(Local(at) - day.ToDateTime(TimeOnly.MinValue)).TotalSeconds;

    [ThreadStatic]
    private static (TimeZoneInfo? Zone, long UtcHour, TimeSpan Offset) _lastOffset;

    /// <summary>
    /// Local time of an instant. A refresh converts millions of instants; offsets change at most on the hour, so the
    /// offset of the last UTC hour seen is reused.
    /// </summary>
    public DateTime Local(DateTimeOffset at)
    {
        var utc = at.UtcDateTime;
        var hour = utc.Ticks / TimeSpan.TicksPerHour;
        var cached = _lastOffset;
        if (cached.Zone != TimeZone || cached.UtcHour != hour)
        {
            cached = _lastOffset = (TimeZone, hour, TimeZone.GetUtcOffset(utc));
        }

        return utc + cached.Offset;
    }
}
