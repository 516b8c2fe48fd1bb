using Transit.Clearing.Charges;
using Transit.Clearing.Issuers;
using Transit.Clearing.Journeys;
using Transit.Clearing.Pricing;
using Transit.Clearing.Settlement;

namespace Transit.Clearing.Pipeline;

/// <summary>What clearing one rider's day makes: the rows each stage's store writes.</summary>
public sealed record AccountDayOutcome(
    IReadOnlyList<JourneyRow> Journeys, IReadOnlyList<LegRow> Legs, AccountDayRow AccountDay, Charge? Charge, IReadOnlyList<SettlementLine> Lines);

/// <summary>What clearing a rider's day needs besides its taps: the rules of the day and what was cleared before.</summary>
/// <param name="MaxJourneyTime">An entry and an exit further apart than this are two incomplete legs.</param>
/// <param name="TransferWindow">Used when the fare rules give no transfer time limit of their own.</param>
/// <param name="PlatformFeeBasisPoints">The platform's fee on the home issuer's riders' lines.</param>
public sealed record AccountDayRules(IJourneyPricer Pricer, TimeSpan MaxJourneyTime, TimeSpan TransferWindow, int PlatformFeeBasisPoints);

/// <summary>
/// One rider's day through the pure cores of the day's stages, in their order: journeys (<see cref="JourneyBuilder"/>)
/// → prices and caps (<see cref="DayPricing"/>) → each leg's share (<see cref="OperatorShares.OfLegs"/>) → the charge
/// (<see cref="ChargeRules"/>) → the settlement lines (<see cref="OperatorShares.Lines"/>). No SQL: the stores read
/// what it needs and write what it makes (<see cref="DayClearing"/>).
/// </summary>
public static class AccountDayClearing
{
    /// <param name="account">The account key (issuer-qualified for another issuer's rider).</param>
    /// <param name="taps">The day's billable taps of the account, in time order.</param>
    /// <param name="previous">What the day's last revision charged (default: never priced).</param>
    /// <param name="previousShares">Each operator's gross over the day's earlier revisions.</param>
    /// <param name="prior">The cap window's earlier journeys of the account with their prices, in time order.</param>
    public static AccountDayOutcome Clear(
        string account, DateOnly day, IReadOnlyList<AccountTap> taps, AccountDayRules rules, PreviousAccountDay previous,
        IReadOnlyDictionary<string, long> previousShares, IReadOnlyList<(JourneyInput Journey, JourneyPrice Price)> prior)
    {
        var pricer = rules.Pricer;
        var window = pricer.TransferWindow > TimeSpan.Zero ? pricer.TransferWindow : rules.TransferWindow;
        var journeys = JourneyBuilder.Build(taps, rules.MaxJourneyTime, window);
        var priced = DayPricing.PriceAndCap(pricer, journeys, prior);

        var journeyRows = new List<JourneyRow>(priced.Count);
        var legRows = new List<LegRow>();
        var shares = new Dictionary<string, long>(StringComparer.Ordinal);
        long fareTotal = 0, pricedTotal = 0;
        var dayFlags = JourneyFlags.None;
        foreach (var p in priced)
        {
            var (journey, price) = (p.Journey, p.Price);
            var legShares = OperatorShares.OfLegs(p.Capped.Charged, price);
            var flags = p.Capped.CapAdjustment != 0 ? JourneyFlags.Capped : JourneyFlags.None;
            for (var l = 0; l < journey.Legs.Count; l++)
            {
                var leg = journey.Legs[l];
                var legPrice = price.Legs[l];
                var legFlags = (leg.MissingEntry ? JourneyFlags.MissingEntry : 0) | (leg.MissingExit ? JourneyFlags.MissingExit : 0) | (legPrice.Unpriced ? JourneyFlags.Unpriced : 0);
                flags |= legFlags;
                // The fare rules may settle a leg to another operator than the device's (a shared station).
                var operatorId = legPrice.OperatorId ?? leg.OperatorId;
                shares[operatorId] = checked(shares.GetValueOrDefault(operatorId) + legShares[l]);
                legRows.Add(new LegRow(account, journey.JourneyNo, l + 1, leg, legPrice, operatorId, legShares[l], legFlags));
            }

            dayFlags |= flags;
            fareTotal = checked(fareTotal + price.Total);
            pricedTotal = checked(pricedTotal + p.Capped.Charged);
            journeyRows.Add(new JourneyRow(account, p, flags));
        }

        var moves = OperatorShares.Moves(shares, previousShares);
        var charge = ChargeRules.Next(account, IssuerAccounts.IssuerOf(account), day, pricedTotal, previous.Revision, previous.Charged, moves.Count > 0);
        var lines = charge is null ? [] : OperatorShares.Lines(charge, moves, rules.PlatformFeeBasisPoints);
        var accountDay = new AccountDayRow(account, charge?.Revision ?? previous.Revision, fareTotal, pricedTotal, journeys.Count, taps.Count, dayFlags);
        return new AccountDayOutcome(journeyRows, legRows, accountDay, charge, lines);
    }
}
