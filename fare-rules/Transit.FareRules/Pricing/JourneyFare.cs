namespace Transit.FareRules;

/// <summary>Why a leg or journey is priced as it is; several flags may be set.</summary>
[Flags]
public enum FareFlags
{
    /// <summary>Priced normally.</summary>
    None = 0,

    /// <summary>
    /// No fare rule prices the leg as travelled (e.g. a bus boarding whose fare depends on the unknown alighting zone):
    /// it is charged what <see cref="PricingOptions.DefaultFares"/> or <see cref="PricingOptions.UnpricedLegs"/> give
    /// (0 when they find nothing), never a transfer, and keeps this flag so that it is never silently free.
    /// </summary>
    Unpriced = 1,

    /// <summary>The leg lacks its entry or its exit and is charged the network's maximum fare.</summary>
    Incomplete = 2,

    /// <summary>The leg has an exit but no entry.</summary>
    MissingEntry = 4,

    /// <summary>The leg has an entry on a tap-out network but no exit.</summary>
    MissingExit = 8,

    /// <summary>The leg was joined with the previous one into one effective fare leg (fare_leg_join_rules.txt).</summary>
    Joined = 16,

    /// <summary>The leg was reached by a transfer of fare_transfer_rules.txt.</summary>
    Transfer = 32,

    /// <summary>No product exists for the rider's category, so the default category's product was charged.</summary>
    CategoryFallback = 64,

    /// <summary>The route or a stop of the leg is not in the feed.</summary>
    UnknownReference = 128,
}

/// <summary>
/// The price of one leg in a journey's breakdown. Amounts are in minor units. Revenue apportionment can use
/// <see cref="AgencyId"/> and <see cref="Total"/>: the legs' totals add up to the journey's total.
/// </summary>
/// <param name="LegIndex">Index of the leg in the journey as given.</param>
/// <param name="EffectiveLegIndex">Index of the effective fare leg (after joins) the leg belongs to.</param>
/// <param name="RouteId">The leg's route.</param>
/// <param name="AgencyId">The agency operating the route, or null when the route is unknown.</param>
/// <param name="NetworkId">The route's network, or null.</param>
/// <param name="LegGroupId">leg_group_id of the fare leg rule that matched, or null.</param>
/// <param name="FareProductId">The leg's fare product (fare_leg_rules.fare_product_id), or null when unpriced.</param>
/// <param name="Amount">What the leg's fare product adds to the journey (0 when a transfer covers it or it is joined).</param>
/// <param name="TransferProductId">The transfer's fare product when the leg was reached by a transfer, or null.</param>
/// <param name="TransferAmount">What the transfer adds (may be negative for a discount).</param>
/// <param name="Flags">Why the leg is priced as it is.</param>
/// <param name="FareLegRuleLine">Line in fare_leg_rules.txt of the rule that matched, or null.</param>
/// <param name="FareTransferRuleLine">Line in fare_transfer_rules.txt of the transfer into this leg, or null.</param>
/// <param name="TransferType">fare_transfer_type of that transfer, or null.</param>
public sealed record LegFare(
    int LegIndex,
    int EffectiveLegIndex,
    string RouteId,
    string? AgencyId,
    string? NetworkId,
    string? LegGroupId,
    string? FareProductId,
    long Amount,
    string? TransferProductId,
    long TransferAmount,
    FareFlags Flags,
    int? FareLegRuleLine,
    int? FareTransferRuleLine,
    FareTransferType? TransferType)
{
    /// <summary><see cref="Amount"/> plus <see cref="TransferAmount"/>.</summary>
    public long Total => checked(Amount + TransferAmount);
}

/// <summary>The price of a journey: the cheapest valid combination of leg and transfer rules.</summary>
/// <param name="Total">The journey's fare in minor units (unpriced legs add nothing).</param>
/// <param name="Currency">ISO 4217 currency of every amount.</param>
/// <param name="Legs">One entry per leg given, in order.</param>
/// <param name="Flags">The union of the legs' flags.</param>
/// <param name="CappableAmount">The part of <paramref name="Total"/> that counts toward caps (maximum fares of incomplete legs do not).</param>
/// <param name="Start">Departure of the first leg.</param>
/// <param name="RiderCategoryId">The rider category used (after defaulting), or null.</param>
/// <param name="FareMediaId">The fare media of the first leg, or null.</param>
public sealed record JourneyFare(
    long Total,
    string Currency,
    IReadOnlyList<LegFare> Legs,
    FareFlags Flags,
    long CappableAmount,
    DateTimeOffset Start,
    string? RiderCategoryId,
    string? FareMediaId)
{
    /// <summary>True when some leg has no price.</summary>
    public bool IsUnpriced => (Flags & FareFlags.Unpriced) != 0;

    /// <summary>True when some leg is incomplete (missing entry or exit).</summary>
    public bool IsIncomplete => (Flags & FareFlags.Incomplete) != 0;

    /// <summary>The total in major units with the currency's decimals, e.g. <c>2.40</c>.</summary>
    /// <returns>The formatted amount.</returns>
    public string FormatTotal() => Currencies.Format(Total, Currency);
}
