using Transit.Clearing.Charges;
using Transit.Clearing.Pricing;
using Transit.RideCodes;

namespace Transit.Clearing.Settlement;

/// <summary>One operator's part of a charge: its gross, the platform's fee and the net it is owed, in minor units.</summary>
public sealed record SettlementLine(Charge Charge, string OperatorId, long Gross, long Fee, long Net);

/// <summary>
/// The day's fourth stage, after charges: who the money is for. Pure: a journey's charged amount is split over its legs
/// in proportion to their prices (<see cref="Apportionment.LargestRemainder"/>, so the parts add up to the unit), and a
/// charge's lines move each operator's share from what the day's earlier revisions gave it to what it gives now.
/// </summary>
public static class OperatorShares
{
    /// <summary>Each leg's share of <paramref name="charged"/>, weighted by the leg's price with its transfer.</summary>
    public static long[] OfLegs(long charged, JourneyPrice price) =>
        Apportionment.LargestRemainder(charged, [.. price.Legs.Select(l => checked(l.Amount + l.TransferAmount))]);

    /// <summary>
    /// Each operator whose share moved, with how much (in operator id order): <paramref name="shares"/> now against
    /// <paramref name="previous"/> (what the day's earlier revisions gave each).
    /// </summary>
    public static IReadOnlyList<(string OperatorId, long Delta)> Moves(
        IReadOnlyDictionary<string, long> shares, IReadOnlyDictionary<string, long> previous) =>
        [.. shares.Keys.Union(previous.Keys)
            .Select(op => (OperatorId: op, Delta: checked(shares.GetValueOrDefault(op) - previous.GetValueOrDefault(op))))
            .Where(l => l.Delta != 0)
            .OrderBy(l => l.OperatorId, StringComparer.Ordinal)];

    /// <summary>
    /// The lines of <paramref name="charge"/>: the home issuer's riders pay the platform fee at
    /// <paramref name="platformFeeBasisPoints"/> on each line; another issuer's fee is taken once on the pair's whole
    /// day (Issuers/IssuerDues), not per rider.
    /// </summary>
    public static IReadOnlyList<SettlementLine> Lines(Charge charge, IReadOnlyList<(string OperatorId, long Delta)> moves, int platformFeeBasisPoints) =>
        [.. moves.Select(m =>
        {
            var fee = charge.Issuer == IssuerIds.Home ? Apportionment.Fee(m.Delta, platformFeeBasisPoints) : 0;
            return new SettlementLine(charge, m.OperatorId, m.Delta, fee, checked(m.Delta - fee));
        })];
}
