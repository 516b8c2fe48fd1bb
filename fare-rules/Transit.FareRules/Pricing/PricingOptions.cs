using System.Collections.Frozen;

namespace Transit.FareRules;

/// <summary>How <see cref="FareEngine"/> prices what the feed leaves open.</summary>
public sealed record PricingOptions
{
    /// <summary>The defaults: metro networks are tap-out, maximum fares come from the feed, no category fallback.</summary>
    public static readonly PricingOptions Default = new();

    /// <summary>
    /// Networks where riders tap out, so that a leg without exit is incomplete. Null (the default) means every network
    /// with a metro route (route_type 1) or with an entry in <see cref="MaximumFares"/>.
    /// </summary>
    public IReadOnlySet<string>? TapOutNetworks { get; init; }

    /// <summary>
    /// The fare charged, in minor units, for an incomplete leg (missing entry or exit) on each network. A network not
    /// listed is charged the most expensive product any of its fare leg rules gives the rider's category and media.
    /// </summary>
    public IReadOnlyDictionary<string, long> MaximumFares { get; init; } = FrozenDictionary<string, long>.Empty;

    /// <summary>
    /// When no fare product row exists for the rider's category, charge the default category's product and flag the leg
    /// <see cref="FareFlags.CategoryFallback"/>. Off by default: the leg is then unpriced.
    /// </summary>
    public bool FallBackToDefaultCategory { get; init; }

    /// <summary>
    /// What an unpriced leg (no fare leg rule prices it as travelled, typically a bus boarding on a network whose fares
    /// depend on the zone where the rider gets off, without tap-off) is charged. The leg keeps
    /// <see cref="FareFlags.Unpriced"/> either way, so that it is never silently free.
    /// </summary>
    public UnpricedLegPolicy UnpricedLegs { get; init; } = UnpricedLegPolicy.HighestFromBoardingArea;

    /// <summary>
    /// A fixed fare, in minor units, for every unpriced leg of a network (key: <c>network_id</c>, or the empty string for
    /// routes without a network). It takes precedence over <see cref="UnpricedLegs"/>.
    /// </summary>
    public IReadOnlyDictionary<string, long> DefaultFares { get; init; } = FrozenDictionary<string, long>.Empty;

    /// <summary>Honour the MBTA <c>transfer_only</c> column of fare_leg_rules.txt (on by default).</summary>
    public bool HonorTransferOnly { get; init; } = true;
}

/// <summary>How <see cref="FareEngine"/> charges a leg that no fare leg rule prices.</summary>
public enum UnpricedLegPolicy
{
    /// <summary>
    /// The dearest product any fare leg rule of the leg's network could charge the rider (category and media) from the
    /// area where the leg began, whatever its destination area and timeframes: as for a metro ride without exit. When
    /// no rule starts there, the leg stays at 0.
    /// </summary>
    HighestFromBoardingArea,

    /// <summary>Amount 0 (the leg is flagged and its journey too; the caller decides).</summary>
    LeaveUnpriced,
}
