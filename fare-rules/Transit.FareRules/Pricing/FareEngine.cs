namespace Transit.FareRules;

/// <summary>
/// Prices journeys with the GTFS Fares v2 rules of a feed: joins legs (fare_leg_join_rules.txt), matches each effective
/// leg to fare leg rules (networks, areas, timeframes, rule_priority, rider category, fare media) and finds the cheapest
/// valid combination of leg products and transfers (fare_transfer_rules.txt) by dynamic programming over the legs.
/// Immutable after construction and safe to use from many threads at once.
/// </summary>
public sealed class FareEngine
{
    private readonly FareIndex _index;

    /// <summary>Compiles <paramref name="feed"/> for pricing.</summary>
    /// <param name="feed">A loaded feed (its report may have warnings; errors make prices doubtful).</param>
    /// <param name="options">Pricing options, or null for <see cref="PricingOptions.Default"/>.</param>
    public FareEngine(FareFeed feed, PricingOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(feed);
        Options = options ?? PricingOptions.Default;
        foreach (var (network, amount) in Options.MaximumFares)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(amount, $"{nameof(PricingOptions.MaximumFares)}[{network}]");
        }

        foreach (var (network, amount) in Options.DefaultFares)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(amount, $"{nameof(PricingOptions.DefaultFares)}[{network}]");
        }

        Feed = feed;
        _index = new FareIndex(feed, Options);
    }

    /// <summary>The feed being priced.</summary>
    public FareFeed Feed { get; }

    /// <summary>The options in force.</summary>
    public PricingOptions Options { get; }

    /// <summary>The currency of every amount this engine returns.</summary>
    public string Currency => _index.Currency;

    /// <summary>Prices one journey: its legs in travel order.</summary>
    /// <param name="legs">The legs, at least one.</param>
    /// <returns>The cheapest valid price, with one breakdown entry per leg.</returns>
    public JourneyFare Price(IReadOnlyList<FareLeg> legs)
    {
        ArgumentNullException.ThrowIfNull(legs);
        if (legs.Count == 0)
        {
            throw new ArgumentException("a journey needs at least one leg", nameof(legs));
        }

        var resolved = new ResolvedLeg[legs.Count];
        for (var i = 0; i < legs.Count; i++)
        {
            resolved[i] = Resolve(legs[i] ?? throw new ArgumentException($"leg {i} is null", nameof(legs)));
        }

        var effective = Join(resolved);
        var options = new LegOption[effective.Count][];
        for (var j = 0; j < effective.Count; j++)
        {
            options[j] = OptionsFor(effective[j].Leg);
        }

        var chosen = new TransferPlanner(_index, effective, options).Cheapest();
        return Build(legs, resolved, effective, options, chosen);
    }

    private ResolvedLeg Resolve(FareLeg leg)
    {
        if (string.IsNullOrEmpty(leg.RouteId))
        {
            throw new ArgumentException("every leg needs a route id", "legs");
        }

        var flags = FareFlags.None;
        if (!_index.Routes.TryGetValue(leg.RouteId, out var route))
        {
            flags |= FareFlags.UnknownReference;
        }

        var network = route?.Network ?? -1;
        var from = Stop(leg.FromStopId, ref flags);
        var to = Stop(leg.ToStopId, ref flags);
        if (leg.FromStopId is null)
        {
            flags |= FareFlags.Incomplete | FareFlags.MissingEntry;
        }

        if (leg.ToStopId is null && network >= 0 && _index.TapOut[network])
        {
            flags |= FareFlags.Incomplete | FareFlags.MissingExit;
        }

        var category = leg.RiderCategoryId is null ? _index.DefaultCategory : _index.CategoryIds.GetValueOrDefault(leg.RiderCategoryId, -1);
        var media = leg.FareMediaId is null ? -2 : _index.MediaIds.GetValueOrDefault(leg.FareMediaId, -1);
        var routeClock = route?.Clock ?? _index.DefaultClock;
        return new ResolvedLeg(
            leg,
            route,
            network,
            from?.AreaSet ?? 0,
            to?.AreaSet ?? 0,
            from?.Station ?? leg.FromStopId,
            to?.Station ?? leg.ToStopId,
            from?.Clock ?? routeClock,
            to?.Clock ?? routeClock,
            leg.Start.UtcTicks,
            Math.Max(leg.End.UtcTicks, leg.Start.UtcTicks),
            category,
            media,
            flags);
    }

    private StopInfo? Stop(string? stopId, ref FareFlags flags)
    {
        if (stopId is null)
        {
            return null;
        }

        if (_index.Stops.TryGetValue(stopId, out var stop))
        {
            return stop;
        }

        if (_index.Feed.Stops.Count > 0)
        {
            flags |= FareFlags.UnknownReference;
        }

        return null;
    }

    /// <summary>Groups consecutive legs that a join rule joins into effective fare legs.</summary>
    private List<EffectiveLeg> Join(ResolvedLeg[] legs)
    {
        var effective = new List<EffectiveLeg>(legs.Length);
        var first = 0;
        for (var i = 1; i <= legs.Length; i++)
        {
            if (i < legs.Length && Joins(legs[i - 1], legs[i]))
            {
                continue;
            }

            var head = legs[first];
            var tail = legs[i - 1];
            var merged = head with
            {
                ToSet = tail.ToSet,
                ToStation = tail.ToStation,
                ToClock = tail.ToClock,
                EndUtc = Math.Max(tail.EndUtc, head.StartUtc),
                Flags = (head.Flags | tail.Flags) & (FareFlags.Incomplete | FareFlags.MissingEntry | FareFlags.MissingExit),
            };
            effective.Add(new EffectiveLeg(first, i - 1, merged));
            first = i;
        }

        return effective;
    }

    private bool Joins(ResolvedLeg previous, ResolvedLeg next)
    {
        if (previous.Network < 0 || previous.Network != next.Network || ((previous.Flags | next.Flags) & FareFlags.Incomplete) != 0)
        {
            return false;
        }

        foreach (var rule in _index.Joins)
        {
            if (rule.Network != previous.Network)
            {
                continue;
            }

            var matches = rule.FromStop is null && rule.ToStop is null
                ? previous.ToStation is not null && previous.ToStation == next.FromStation
                : StopMatches(rule.FromStop, previous.Leg.ToStopId, previous.ToStation) && StopMatches(rule.ToStop, next.Leg.FromStopId, next.FromStation);
            if (matches)
            {
                return true;
            }
        }

        return false;
    }

    private static bool StopMatches(string? ruleStop, string? stop, string? station) =>
        ruleStop is null || ruleStop == stop || ruleStop == station;

    /// <summary>The ways an effective leg can be paid: one per matching rule whose product the rider may use.</summary>
    private LegOption[] OptionsFor(ResolvedLeg leg)
    {
        if ((leg.Flags & FareFlags.Incomplete) != 0)
        {
            return MaximumFare(leg);
        }

        var candidates = _index.Candidates(leg.Network, leg.FromSet, leg.ToSet, leg.Category, leg.Media);
        if (candidates.Length == 0)
        {
            return UnpricedFare(leg);
        }

        List<LegOption>? found = null;
        var priority = int.MinValue;
        (DateOnly Date, int Seconds)? start = null, end = null;
        foreach (var r in candidates)
        {
            var rule = _index.Rules[r];
            if (rule.Priority < priority)
            {
                break;
            }

            if (!InTimeframe(rule.FromTimeframe, leg.FromClock, leg.StartUtc, ref start) || !InTimeframe(rule.ToTimeframe, leg.ToClock, leg.EndUtc, ref end))
            {
                continue;
            }

            var (row, fallback) = _index.Row(rule.Product, leg.Category, leg.Media);
            if (row < 0)
            {
                continue;
            }

            priority = rule.Priority;
            var option = new LegOption(r, rule.Group, _index.Products[row].Amount, rule.TransferOnly, row, fallback, Policy: false);
            found ??= new List<LegOption>(2);
            if (!found.Exists(o => o.Group == option.Group && o.Row == option.Row && o.TransferOnly == option.TransferOnly))
            {
                found.Add(option);
            }
        }

        return found is null ? UnpricedFare(leg) : [.. found];
    }

    /// <summary>What <see cref="PricingOptions.DefaultFares"/> or <see cref="PricingOptions.UnpricedLegs"/> charge a leg no rule prices; the option is marked as policy, so the leg stays flagged unpriced.</summary>
    private LegOption[] UnpricedFare(ResolvedLeg leg)
    {
        var networkId = leg.Network >= 0 ? _index.NetworkNames[leg.Network] : "";
        if (Options.DefaultFares.TryGetValue(networkId, out var configured))
        {
            return [new LegOption(-1, -1, configured, false, -1, false, Policy: true)];
        }

        return Options.UnpricedLegs == UnpricedLegPolicy.HighestFromBoardingArea
            ? Dearest(leg, _index.RulesFromArea(leg.Network, leg.FromSet, leg.Category, leg.Media), policy: true)
            : [];
    }

    /// <summary>Whether a fare event is in a timeframe group (always when the rule has none); local time is computed once.</summary>
    private bool InTimeframe(int timeframe, ZoneClock clock, long utcTicks, ref (DateOnly Date, int Seconds)? local)
    {
        if (timeframe < 0)
        {
            return true;
        }

        local ??= clock.LocalDateAndTime(utcTicks);
        return _index.InTimeframe(timeframe, local.Value.Date, local.Value.Seconds);
    }

    private LegOption[] MaximumFare(ResolvedLeg leg)
    {
        var networkId = leg.Network >= 0 ? _index.NetworkNames[leg.Network] : null;
        if (networkId is not null && Options.MaximumFares.TryGetValue(networkId, out var configured))
        {
            return [new LegOption(-1, -1, configured, false, -1, false, Policy: false)];
        }

        return Dearest(leg, _index.RulesOfNetwork(leg.Network, leg.Category, leg.Media), policy: false);
    }

    /// <summary>The dearest product among <paramref name="rules"/> that the leg's rider may use, as the leg's only option (no transfers).</summary>
    private LegOption[] Dearest(ResolvedLeg leg, int[] rules, bool policy)
    {
        LegOption? best = null;
        foreach (var r in rules)
        {
            var (row, fallback) = _index.Row(_index.Rules[r].Product, leg.Category, leg.Media);
            if (row >= 0 && (best is null || _index.Products[row].Amount > best.Value.Amount))
            {
                best = new LegOption(r, -1, _index.Products[row].Amount, false, row, fallback, policy);
            }
        }

        return best is { } option ? [option] : [];
    }

    private JourneyFare Build(IReadOnlyList<FareLeg> legs, ResolvedLeg[] resolved, List<EffectiveLeg> effective, LegOption[][] options, PlannedLeg[] chosen)
    {
        var fares = new LegFare[legs.Count];
        long total = 0, incomplete = 0;
        var journeyFlags = FareFlags.None;
        for (var j = 0; j < effective.Count; j++)
        {
            var leg = effective[j];
            var plan = chosen[j];
            var priced = plan.Option >= 0;
            var option = priced ? options[j][plan.Option] : default;
            var rule = priced && option.Rule >= 0 ? _index.Rules[option.Rule].Source : null;
            var transfer = plan.Transfer >= 0 ? _index.Transfers[plan.Transfer].Source : null;
            var legCharge = j + 1 < chosen.Length && chosen[j + 1].ReplacesPrevious ? 0 : plan.LegCharge;
            for (var k = leg.First; k <= leg.Last; k++)
            {
                var head = k == leg.First;
                var flags = resolved[k].Flags | (priced && !option.Policy ? FareFlags.None : FareFlags.Unpriced) | (head ? FareFlags.None : FareFlags.Joined);
                if (head && transfer is not null)
                {
                    flags |= FareFlags.Transfer;
                }

                if (option.Fallback || (head && plan.TransferFallback))
                {
                    flags |= FareFlags.CategoryFallback;
                }

                var amount = head ? legCharge : 0;
                var transferAmount = head ? plan.TransferCharge : 0;
                var route = resolved[k].Route;
                fares[k] = new LegFare(
                    k,
                    j,
                    legs[k].RouteId,
                    route?.AgencyId,
                    route?.NetworkId,
                    rule?.LegGroupId,
                    priced ? (rule?.FareProductId) : null,
                    amount,
                    head && plan.TransferRow >= 0 ? _index.Products[plan.TransferRow].Source.Id : null,
                    transferAmount,
                    flags,
                    rule?.Line,
                    head ? transfer?.Line : null,
                    head ? transfer?.FareTransferType : null);
                total = checked(total + amount + transferAmount);
                if ((flags & FareFlags.Incomplete) != 0)
                {
                    incomplete = checked(incomplete + amount + transferAmount);
                }

                journeyFlags |= flags;
            }
        }

        var first = legs[0];
        var category = first.RiderCategoryId ?? _index.Feed.DefaultRiderCategoryId;
        return new JourneyFare(total, _index.Currency, fares, journeyFlags, total - incomplete, first.Start, category, first.FareMediaId);
    }
}

/// <summary>A leg with its ids resolved against the index.</summary>
internal readonly record struct ResolvedLeg(
    FareLeg Leg,
    RouteInfo? Route,
    int Network,
    int FromSet,
    int ToSet,
    string? FromStation,
    string? ToStation,
    ZoneClock FromClock,
    ZoneClock ToClock,
    long StartUtc,
    long EndUtc,
    int Category,
    int Media,
    FareFlags Flags);

/// <summary>
/// One or more joined legs priced as one: legs First..Last of the journey; <paramref name="Leg"/> has the first leg's
/// network, from-side, start, category and media and the last leg's to-side and end.
/// </summary>
internal readonly record struct EffectiveLeg(int First, int Last, ResolvedLeg Leg);

/// <summary>A way to pay an effective leg: a rule (-1 for a configured maximum fare), its leg group and the product row.</summary>
/// <paramref name="Policy"/>: no rule prices the leg as travelled; the amount comes from the unpriced-leg policy.
internal readonly record struct LegOption(int Rule, int Group, long Amount, bool TransferOnly, int Row, bool Fallback, bool Policy);
