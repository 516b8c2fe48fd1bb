namespace Transit.FareRules;

/// <summary>How one effective leg is paid in the cheapest plan.</summary>
/// <param name="Option">Index of the leg's option, or -1 when the leg is unpriced.</param>
/// <param name="Transfer">Index of the transfer rule that reached the leg, or -1 when it starts a fare chain.</param>
/// <param name="TransferRow">The transfer product's row, or -1.</param>
/// <param name="LegCharge">What the leg's own product adds.</param>
/// <param name="TransferCharge">What the transfer product adds.</param>
/// <param name="ReplacesPrevious">A fare_transfer_type 2 transfer at the start of a chain: the previous leg's product is not charged.</param>
/// <param name="TransferFallback">The transfer product was taken for the default rider category.</param>
internal readonly record struct PlannedLeg(int Option, int Transfer, int TransferRow, long LegCharge, long TransferCharge, bool ReplacesPrevious, bool TransferFallback);

/// <summary>
/// Finds the cheapest way to pay a sequence of effective legs. A state after leg j is the option paying leg j, the leg
/// group the transfer into leg j came from (-1 when leg j starts a fare chain) and how many consecutive transfers with
/// the same from/to leg groups end at leg j (which decides transfer_count and where duration_limit is measured from).
/// Future costs depend only on that state, so keeping the cheapest path to each state is exact.
/// </summary>
internal sealed class TransferPlanner
{
    private readonly FareIndex _index;
    private readonly List<EffectiveLeg> _legs;
    private readonly LegOption[][] _options;

    public TransferPlanner(FareIndex index, List<EffectiveLeg> legs, LegOption[][] options)
    {
        _index = index;
        _legs = legs;
        _options = options;
    }

    public PlannedLeg[] Cheapest()
    {
        var layers = new List<State>[_legs.Count];
        layers[0] = [];
        for (var o = 0; o < _options[0].Length; o++)
        {
            var option = _options[0][o];
            if (!option.TransferOnly)
            {
                Add(layers[0], new State(o, -1, 0, option.Amount, -1, new PlannedLeg(o, -1, -1, option.Amount, 0, false, false)));
            }
        }

        if (layers[0].Count == 0)
        {
            layers[0].Add(new State(-1, -1, 0, 0, -1, new PlannedLeg(-1, -1, -1, 0, 0, false, false)));
        }

        for (var j = 1; j < _legs.Count; j++)
        {
            var next = new List<State>();
            var previous = layers[j - 1];
            for (var s = 0; s < previous.Count; s++)
            {
                Extend(j, previous[s], s, next);
            }

            if (next.Count == 0)
            {
                var best = Cheapest(previous);
                next.Add(new State(-1, -1, 0, previous[best].Cost, best, new PlannedLeg(-1, -1, -1, 0, 0, false, false)));
            }

            layers[j] = next;
        }

        var plan = new PlannedLeg[_legs.Count];
        for (int j = _legs.Count - 1, s = Cheapest(layers[j]); j >= 0; j--)
        {
            var state = layers[j][s];
            plan[j] = state.Plan;
            s = state.Previous;
        }

        return plan;
    }

    private void Extend(int j, State from, int fromIndex, List<State> next)
    {
        var fromGroup = from.Option >= 0 ? _options[j - 1][from.Option].Group : -1;
        var leg = _legs[j].Leg;
        for (var o = 0; o < _options[j].Length; o++)
        {
            var option = _options[j][o];
            if (fromGroup >= 0 && option.Group >= 0)
            {
                AddTransfers(j, from, fromIndex, fromGroup, o, option, leg, next);
            }

            if (!option.TransferOnly)
            {
                Add(next, new State(o, -1, 0, checked(from.Cost + option.Amount), fromIndex, new PlannedLeg(o, -1, -1, option.Amount, 0, false, false)));
            }
        }
    }

    private void AddTransfers(int j, State from, int fromIndex, int fromGroup, int o, LegOption option, ResolvedLeg leg, List<State> next)
    {
        var candidates = _index.TransferCandidates(fromGroup, option.Group);
        if (candidates.Length == 0)
        {
            return;
        }

        var continuing = from.InGroup == fromGroup && fromGroup == option.Group;
        var run = continuing ? from.Run + 1 : 1;
        var runStart = _legs[j - run].Leg;

        // transfer_count: of the rules that allow this many consecutive transfers, the one with the smallest count is selected.
        var smallestCount = int.MaxValue;
        foreach (var t in candidates)
        {
            var rule = _index.Transfers[t];
            if (rule.Count is { } count && Allows(count, run) && WithinLimit(rule, runStart, leg))
            {
                smallestCount = Math.Min(smallestCount, Effective(count));
            }
        }

        foreach (var t in candidates)
        {
            var rule = _index.Transfers[t];
            if (!WithinLimit(rule, runStart, leg) || (rule.Count is { } count && (!Allows(count, run) || Effective(count) != smallestCount)))
            {
                continue;
            }

            var row = -1;
            var fallback = false;
            if (rule.Product >= 0)
            {
                (row, fallback) = _index.Row(rule.Product, leg.Category, leg.Media);
                if (row < 0)
                {
                    continue;
                }
            }

            var transferCharge = row >= 0 ? _index.Products[row].Amount : 0;
            var legCharge = rule.Type == FareTransferType.FromLegPlusTransferPlusToLeg ? option.Amount : 0;
            var replaces = rule.Type == FareTransferType.TransferOnly && from.InGroup == -1;
            var cost = checked(from.Cost + transferCharge + legCharge - (replaces ? from.Plan.LegCharge : 0));
            Add(next, new State(o, fromGroup, run, cost, fromIndex, new PlannedLeg(o, t, row, legCharge, transferCharge, replaces, fallback)));
        }
    }

    private static bool Allows(int count, int run) => count == -1 || count >= run;

    private static int Effective(int count) => count == -1 ? int.MaxValue : count;

    private static bool WithinLimit(TransferRule rule, ResolvedLeg first, ResolvedLeg last)
    {
        if (rule.Duration is not { } limit)
        {
            return true;
        }

        var (from, to) = rule.DurationType switch
        {
            DurationLimitType.DepartureToArrival => (first.StartUtc, last.EndUtc),
            DurationLimitType.DepartureToDeparture => (first.StartUtc, last.StartUtc),
            DurationLimitType.ArrivalToDeparture => (first.EndUtc, last.StartUtc),
            _ => (first.EndUtc, last.EndUtc),
        };
        return to - from <= limit;
    }

    private static int Cheapest(List<State> states)
    {
        var best = 0;
        for (var i = 1; i < states.Count; i++)
        {
            if (states[i].Cost < states[best].Cost)
            {
                best = i;
            }
        }

        return best;
    }

    private static void Add(List<State> states, State state)
    {
        for (var i = 0; i < states.Count; i++)
        {
            var existing = states[i];
            if (existing.Option == state.Option && existing.InGroup == state.InGroup && existing.Run == state.Run)
            {
                if (state.Cost < existing.Cost)
                {
                    states[i] = state;
                }

                return;
            }
        }

        states.Add(state);
    }

    private readonly record struct State(int Option, int InGroup, int Run, long Cost, int Previous, PlannedLeg Plan);
}
