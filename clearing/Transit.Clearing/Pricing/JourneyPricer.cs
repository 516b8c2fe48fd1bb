using Transit.FareRules;
using Transit.DeviceApi;

namespace Transit.Clearing.Pricing;

// What a day's clearing hands the fare rules and gets back: the pricer's contract, beside its implementation
// (FareRulesPricer) and the stage that prices and caps a rider's day (DayPricing). Journeys, settlement and the GTFS
// import (Gtfs/FareRulesEngineFactory loads a feed and builds the pricer) use it without using each other.

/// <summary>One leg as clearing saw it: a metro ride between two gates, or a bus boarding.</summary>
/// <param name="Mode">Tap mode of the leg (metro entry/exit pair, or bus).</param>
/// <param name="OperatorId">The operator of the device(s).</param>
/// <param name="RouteId">The route, when the device knows it (buses; metro gates configured with one).</param>
/// <param name="FromStopId">Entry station or boarding stop; for a missing entry, the exit station.</param>
/// <param name="ToStopId">Exit station; null for a bus boarding or a missing exit.</param>
/// <param name="Start">Entry or boarding time (the exit time for a missing entry).</param>
/// <param name="End">Exit time, or null.</param>
/// <param name="MissingEntry">A metro exit with no entry.</param>
/// <param name="MissingExit">A metro entry with no exit.</param>
public sealed record LegInput(
    TapMode Mode, string OperatorId, string? RouteId, string? FromStopId, string? ToStopId, DateTimeOffset Start, DateTimeOffset? End,
    bool MissingEntry, bool MissingExit)
{
    /// <summary>The taps this leg was made of (device, sequence).</summary>
    public (string Device, long Seq)? EntryTap { get; init; }

    /// <summary>The exit tap of a metro leg.</summary>
    public (string Device, long Seq)? ExitTap { get; init; }

    /// <summary>True for either kind of incomplete metro leg.</summary>
    public bool Incomplete => MissingEntry || MissingExit;
}

/// <summary>A rider's journey: legs close enough in time to be linked by transfers.</summary>
public sealed record JourneyInput(int JourneyNo, string? Category, IReadOnlyList<LegInput> Legs)
{
    /// <summary>When the journey began.</summary>
    public DateTimeOffset Start => Legs[0].Start;

    /// <summary>When its last leg ended (or began, without an end).</summary>
    public DateTimeOffset End => Legs[^1].End ?? Legs[^1].Start;
}

/// <summary>The price of one leg as the fare rules give it.</summary>
public sealed record LegPrice(
    string? ProductId, long Amount, string? TransferProductId, long TransferAmount, string? NetworkId, string? OperatorId, string? RouteId, bool Unpriced);

/// <summary>The price of one journey before caps.</summary>
public sealed record JourneyPrice(long Total, string Currency, IReadOnlyList<LegPrice> Legs, bool Unpriced, bool Incomplete)
{
    /// <summary>The fare engine's own result, when this price came from it in this process (caps need it).</summary>
    public JourneyFare? Fare { get; init; }
}

/// <summary>What caps leave of a journey's price.</summary>
public sealed record CappedPrice(long Charged, long CapAdjustment);

/// <summary>
/// Prices journeys with the fare rules valid on one service day. Implementations are thread-safe.
/// </summary>
public interface IJourneyPricer
{
    /// <summary>The currency of every amount.</summary>
    string Currency { get; }

    /// <summary>Legs further apart than this are separate journeys (the feed's longest transfer time limit).</summary>
    TimeSpan TransferWindow { get; }

    /// <summary>Days before a service day whose journeys count towards caps that include it (0: daily caps only).</summary>
    int CapLookbackDays { get; }

    /// <summary>Prices one journey.</summary>
    JourneyPrice Price(JourneyInput journey);

    /// <summary>Applies caps to one rider's journeys, given in time order; one result per journey.</summary>
    IReadOnlyList<CappedPrice> ApplyCaps(IReadOnlyList<(JourneyInput Journey, JourneyPrice Price)> journeys);
}

/// <summary>Gives the pricer of a service day (from the GTFS feed valid on it).</summary>
public interface IPricerSource
{
    /// <summary>The pricer for <paramref name="day"/>.</summary>
    Task<IJourneyPricer> ForDayAsync(DateOnly day, CancellationToken cancellation);
}
