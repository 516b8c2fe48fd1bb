namespace Transit.FareRules;

/// <summary>
/// One leg of a rider's journey, as the clearing backend reconstructs it from taps: a ride on one route from a boarding
/// (or entry) stop to an alighting (or exit) stop.
/// </summary>
/// <param name="RouteId">route_id of the vehicle or line ridden.</param>
/// <param name="FromStopId">
/// Boarding stop, or the station entered at a gate; null when the entry is missing (an exit tap with no entry tap),
/// which makes the leg incomplete.
/// </param>
/// <param name="ToStopId">
/// Alighting stop or exit station; null when unknown. On a tap-out network (see <see cref="PricingOptions.TapOutNetworks"/>)
/// a null exit is a missing exit and makes the leg incomplete; on other networks the leg is priced without a to-area.
/// </param>
/// <param name="Start">Departure fare validation (boarding or entry tap), with its UTC offset.</param>
/// <param name="End">Arrival fare validation (alighting or exit tap); use <paramref name="Start"/> when unknown.</param>
/// <param name="RiderCategoryId">rider_category_id, or null for the feed's default category.</param>
/// <param name="FareMediaId">fare_media_id used to pay, or null when unknown (every media is then eligible and the cheapest wins).</param>
public sealed record FareLeg(
    string RouteId,
    string? FromStopId,
    string? ToStopId,
    DateTimeOffset Start,
    DateTimeOffset End,
    string? RiderCategoryId = null,
    string? FareMediaId = null)
{
    /// <summary>True when the leg has no entry (<see cref="FromStopId"/> is null).</summary>
    public bool IsMissingEntry => FromStopId is null;
}
