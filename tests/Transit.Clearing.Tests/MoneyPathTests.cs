using System.Collections.Frozen;
using Transit.Clearing.Charges;
using Transit.Clearing.Ingest;
using Transit.Clearing.Issuers;
using Transit.Clearing.Journeys;
using Transit.Clearing.Pipeline;
using Transit.Clearing.Pricing;
using Transit.Clearing.Settlement;
using Transit.RideCodes;

namespace Transit.Clearing.Tests;

// The pure cores of the day's clearing stages, without PostgreSQL: each in the order the day runs them.

/// <summary>
/// A pricer for the cores' tests: every leg costs its operator's fare (metro 300, bus 200), and a day's charged total is
/// capped at <see cref="DailyCap"/> over the journeys it is given (prior ones included).
/// </summary>
internal sealed class FlatPricer : IJourneyPricer
{
    public const long DailyCap = 700;

    public string Currency => "PLN";

    public TimeSpan TransferWindow => TimeSpan.FromMinutes(30);

    public int CapLookbackDays => 0;

    public JourneyPrice Price(JourneyInput journey)
    {
        var legs = journey.Legs.Select(l => new LegPrice("single", l.OperatorId == "metro" ? 300 : 200, null, 0, "net", l.OperatorId, l.RouteId, false)).ToList();
        return new JourneyPrice(legs.Sum(l => l.Amount), Currency, legs, false, journey.Legs.Any(l => l.Incomplete));
    }

    public IReadOnlyList<CappedPrice> ApplyCaps(IReadOnlyList<(JourneyInput Journey, JourneyPrice Price)> journeys)
    {
        long used = 0;
        var capped = new List<CappedPrice>();
        foreach (var (_, price) in journeys)
        {
            var charged = Math.Min(price.Total, Math.Max(0, DailyCap - used));
            used += charged;
            capped.Add(new CappedPrice(charged, charged - price.Total));
        }

        return capped;
    }
}

public sealed class DayPricingTests
{
    private static readonly DateTimeOffset Morning = new(2026, 11, 2, 8, 0, 0, TimeSpan.FromHours(1));

    private static JourneyInput Journey(int no, string op, DateTimeOffset at) =>
        new(no, null, [new LegInput(TapMode.Bus, op, "R1", "A", null, at, null, false, false)]);

    [Fact]
    public void PriceAndCap_CapsTheDayAfterThePriorJourneysOfTheWindow()
    {
        var pricer = new FlatPricer();
        var prior = Journey(1, "metro", Morning.AddDays(-1));
        var journeys = new[] { Journey(1, "metro", Morning), Journey(2, "metro", Morning.AddHours(2)) };

        var priced = DayPricing.PriceAndCap(pricer, journeys, [(prior, pricer.Price(prior))]);

        // 300 of the cap's 700 went on the prior journey: 300 and 100 are left for today's two.
        Assert.Equal([(300L, 0L), (100L, -200L)], priced.Select(p => (p.Capped.Charged, p.Capped.CapAdjustment)));
        Assert.Equal([1, 2], priced.Select(p => p.Journey.JourneyNo));
        Assert.All(priced, p => Assert.Equal(300, p.Price.Total));
    }

    [Fact]
    public void PriceAndCap_PricerThatDropsAJourney_Throws()
    {
        var pricer = new DroppingPricer();

        var error = Assert.Throws<InvalidOperationException>(() => DayPricing.PriceAndCap(pricer, [Journey(1, "bus", Morning)], []));
        Assert.Contains("capped 0 journeys of 1", error.Message, StringComparison.Ordinal);
    }

    private sealed class DroppingPricer : IJourneyPricer
    {
        private readonly FlatPricer _inner = new();

        public string Currency => _inner.Currency;

        public TimeSpan TransferWindow => _inner.TransferWindow;

        public int CapLookbackDays => 0;

        public JourneyPrice Price(JourneyInput journey) => _inner.Price(journey);

        public IReadOnlyList<CappedPrice> ApplyCaps(IReadOnlyList<(JourneyInput Journey, JourneyPrice Price)> journeys) => [];
    }
}

public sealed class ChargeRulesTests
{
    private static readonly DateOnly Day = new(2026, 11, 2);

    [Fact]
    public void Next_SameTotalAndShares_ChargesNothing()
    {
        Assert.Null(ChargeRules.Next("ola", IssuerIds.Home, Day, 500, previousRevision: 2, previouslyCharged: 500, sharesMoved: false));
    }

    [Fact]
    public void Next_LateTap_ChargesOnlyTheDifferenceAsTheNextRevision()
    {
        var charge = ChargeRules.Next("ola", IssuerIds.Home, Day, 700, previousRevision: 1, previouslyCharged: 500, sharesMoved: true);

        Assert.Equal(new Charge("ola", IssuerIds.Home, 2, 200, "charge:ola:2026-11-02:r2"), charge);
        Assert.Equal("pending", charge!.InitialStatus);
    }

    [Fact]
    public void Next_CapLowersTheTotal_Refunds()
    {
        var charge = ChargeRules.Next("ola", IssuerIds.Home, Day, 700, previousRevision: 1, previouslyCharged: 900, sharesMoved: true);

        Assert.Equal(-200, charge!.Amount);
    }

    [Fact]
    public void Next_SharesMovedAtTheSameTotal_IsARevisionOfNothingToCollect()
    {
        var charge = ChargeRules.Next("ola", IssuerIds.Home, Day, 500, previousRevision: 1, previouslyCharged: 500, sharesMoved: true);

        Assert.Equal((2, 0L, "succeeded"), (charge!.Revision, charge.Amount, charge.InitialStatus));
    }

    [Fact]
    public void Next_AnotherIssuersRider_IsBilledToTheIssuer()
    {
        var charge = ChargeRules.Next("wallet ola", "wallet", Day, 300, previousRevision: 0, previouslyCharged: 0, sharesMoved: true);

        Assert.Equal((1, "issuer-billed"), (charge!.Revision, charge.InitialStatus));
    }

    [Fact]
    public void Next_DifferenceBeyondLong_OverflowsLoudly()
    {
        Assert.Throws<OverflowException>(() => ChargeRules.Next("ola", IssuerIds.Home, Day, long.MaxValue, 1, -1, false));
    }
}

public sealed class OperatorSharesTests
{
    private static readonly Charge HomeCharge = new("ola", IssuerIds.Home, 1, 1000, "k");

    [Fact]
    public void OfLegs_SplitsTheChargedAmountByLegPriceWithTransfer_ToTheUnit()
    {
        var price = new JourneyPrice(600, "PLN", [
            new LegPrice("a", 300, null, 0, null, "metro", null, false),
            new LegPrice("b", 200, "t", 100, null, "bus", null, false),
            new LegPrice("c", 100, null, 0, null, "bus", null, false)], false, false);

        var shares = OperatorShares.OfLegs(500, price);

        Assert.Equal([214L, 214L, 72L], shares);
        Assert.Equal(500, shares.Sum());
    }

    [Fact]
    public void Moves_AreTheChangedOperatorsOnlyInIdOrder()
    {
        var moves = OperatorShares.Moves(
            new Dictionary<string, long> { ["metro"] = 300, ["bus"] = 200, ["tram"] = 100 },
            new Dictionary<string, long> { ["metro"] = 300, ["bus"] = 400, ["ferry"] = 50 });

        Assert.Equal([("bus", -200L), ("ferry", -50L), ("tram", 100L)], moves);
    }

    [Fact]
    public void Lines_HomeRiderPaysThePlatformFeePerLine_NetIsGrossLessFee()
    {
        var lines = OperatorShares.Lines(HomeCharge, [("bus", 333), ("metro", 667)], platformFeeBasisPoints: 150);

        Assert.Equal([("bus", 333L, 5L, 328L), ("metro", 667L, 10L, 657L)], lines.Select(l => (l.OperatorId, l.Gross, l.Fee, l.Net)));
        Assert.All(lines, l => Assert.Same(HomeCharge, l.Charge));
    }

    [Fact]
    public void Lines_AnotherIssuersRider_CarryNoFee()
    {
        var charge = HomeCharge with { Account = "wallet ola", Issuer = "wallet" };

        var lines = OperatorShares.Lines(charge, [("metro", 1000)], platformFeeBasisPoints: 150);

        Assert.Equal((1000L, 0L, 1000L), (lines[0].Gross, lines[0].Fee, lines[0].Net));
    }
}

public sealed class IssuerDuesTests
{
    private static readonly DateOnly Day = new(2026, 11, 2);

    [Fact]
    public void Of_TakesThePairsRateOnItsWholeDay_AndThePlatformFeeWithoutAcceptance()
    {
        var terms = new IssuerSnapshot(FrozenDictionary<string, IssuerChain>.Empty, [
            new Acceptance("metro", "wallet", Day.AddDays(-10), null, 250),
            new Acceptance("bus", "wallet", Day.AddDays(-10), Day, 400)]);

        var dues = IssuerDues.Of(Day, [("wallet", "bus", 1000), ("wallet", "metro", 1001)], terms, platformFeeBasisPoints: 100);

        // bus's acceptance ended the day before: the platform's 1 %; metro's 2.5 % of 1001 rounds once to 25.
        Assert.Equal(
            [new IssuerOperatorDue("wallet", "bus", 1000, 100, 10, 990), new IssuerOperatorDue("wallet", "metro", 1001, 250, 25, 976)],
            dues);
    }
}

public sealed class AccountDayClearingTests
{
    private static readonly DateOnly Day = new(2026, 11, 2);
    private static readonly DateTimeOffset Morning = new(2026, 11, 2, 8, 0, 0, TimeSpan.FromHours(1));
    private static readonly AccountDayRules Rules = new(new FlatPricer(), TimeSpan.FromHours(2), TimeSpan.FromMinutes(30), PlatformFeeBasisPoints: 100);

    private static AccountTap Tap(TapMode mode, string op, DateTimeOffset at, long seq) =>
        new(at, mode, op, mode == TapMode.Bus ? null : "S" + seq, mode == TapMode.Bus ? "stop" : null, mode == TapMode.Bus ? "R1" : null, null, "dev-" + op, seq);

    // A metro ride, a bus two hours later, another metro ride two hours after that: 300 + 200 + 300, capped at 700.
    private static readonly AccountTap[] ThreeJourneys =
    [
        Tap(TapMode.MetroEntry, "metro", Morning, 1), Tap(TapMode.MetroExit, "metro", Morning.AddMinutes(20), 2),
        Tap(TapMode.Bus, "bus", Morning.AddHours(2), 3),
        Tap(TapMode.MetroEntry, "metro", Morning.AddHours(4), 4), Tap(TapMode.MetroExit, "metro", Morning.AddHours(4).AddMinutes(15), 5),
    ];

    [Fact]
    public void Clear_FirstRun_WritesJourneysChargeAndLinesThatBalanceToTheUnit()
    {
        var outcome = AccountDayClearing.Clear("ola", Day, ThreeJourneys, Rules, default, new Dictionary<string, long>(), []);

        Assert.Equal(3, outcome.Journeys.Count);
        Assert.Equal(JourneyFlags.Capped, outcome.Journeys[2].Flags);
        Assert.Equal((1, 800L, 700L, 3, 5, JourneyFlags.Capped),
            (outcome.AccountDay.Revision, outcome.AccountDay.FareTotal, outcome.AccountDay.PricedTotal, outcome.AccountDay.Journeys, outcome.AccountDay.Taps, outcome.AccountDay.Flags));
        Assert.Equal(new Charge("ola", IssuerIds.Home, 1, 700, "charge:ola:2026-11-02:r1"), outcome.Charge);
        Assert.Equal([("bus", 200L), ("metro", 500L)], outcome.Lines.Select(l => (l.OperatorId, l.Gross)));
        // The books: the charge is the operators' gross, and each line's net and fee are its gross.
        Assert.Equal(outcome.Charge!.Amount, outcome.Lines.Sum(l => l.Gross));
        Assert.Equal(outcome.Charge.Amount, outcome.Legs.Sum(l => l.Share));
        Assert.All(outcome.Lines, l => Assert.Equal(l.Gross, l.Net + l.Fee));
    }

    [Fact]
    public void Clear_RerunOverWhatTheFirstRunWrote_ChargesNothingAndKeepsTheRevision()
    {
        var first = AccountDayClearing.Clear("ola", Day, ThreeJourneys, Rules, default, new Dictionary<string, long>(), []);

        var rerun = AccountDayClearing.Clear(
            "ola", Day, ThreeJourneys, Rules, new PreviousAccountDay(first.AccountDay.Revision, first.AccountDay.PricedTotal),
            first.Lines.ToDictionary(l => l.OperatorId, l => l.Gross), []);

        Assert.Null(rerun.Charge);
        Assert.Empty(rerun.Lines);
        Assert.Equal(1, rerun.AccountDay.Revision);
    }

    [Fact]
    public void Clear_LateBusTap_ChargesTheDifferenceAndMovesTheShares()
    {
        var first = AccountDayClearing.Clear("ola", Day, ThreeJourneys[..3], Rules, default, new Dictionary<string, long>(), []);

        var late = AccountDayClearing.Clear(
            "ola", Day, ThreeJourneys, Rules, new PreviousAccountDay(first.AccountDay.Revision, first.AccountDay.PricedTotal),
            first.Lines.ToDictionary(l => l.OperatorId, l => l.Gross), []);

        Assert.Equal((500L, 2, 200L), (first.Charge!.Amount, late.Charge!.Revision, late.Charge.Amount));
        Assert.Equal([("metro", 200L)], late.Lines.Select(l => (l.OperatorId, l.Gross)));
        Assert.Equal(first.Charge.Amount + late.Charge.Amount, late.Legs.Sum(l => l.Share));
    }
}
