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

    /// <summary>Honour the MBTA <c>transfer_only</c> column of fare_leg_rules.txt (on by default).</summary>
    public bool HonorTransferOnly { get; init; } = true;
}
