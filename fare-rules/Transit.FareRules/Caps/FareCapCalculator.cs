namespace Transit.FareRules;

/// <summary>One journey after caps.</summary>
/// <param name="Fare">The journey's price before caps.</param>
/// <param name="Charged">What the rider is charged after caps, in minor units.</param>
/// <param name="CapAdjustment">How much the caps took off: <c>Fare.Total - Charged</c> (never negative).</param>
/// <param name="AppliedCapIds">The caps that reduced this journey, in fare_caps.txt order.</param>
public sealed record CappedJourney(JourneyFare Fare, long Charged, long CapAdjustment, IReadOnlyList<string> AppliedCapIds);

/// <summary>
/// Applies the caps of fare_caps.txt (docs/fare-caps.md) to one account's journeys in time order. Each leg's capped
/// amount is what remains under every cap that applies to it; what is charged then counts toward those caps. Ride-count
/// caps make every journey after the Nth paid one in the period free. Maximum fares of incomplete legs are charged in
/// full and count toward nothing. Stateless and thread-safe: call <see cref="Apply"/> again with the whole period to
/// re-price it (for example after late taps).
/// </summary>
public sealed class FareCapCalculator
{
    private readonly FareFeed _feed;
    private readonly ZoneClock _clock;
    private readonly IReadOnlyList<FareCap> _caps;

    /// <summary>Uses the caps of <paramref name="feed"/>.</summary>
    /// <param name="feed">The feed, with its fare_caps.txt.</param>
    public FareCapCalculator(FareFeed feed)
        : this(feed, feed?.FareCaps ?? throw new ArgumentNullException(nameof(feed)))
    {
    }

    /// <summary>Uses the given caps with the timeframes, calendar and timezone of <paramref name="feed"/>.</summary>
    /// <param name="feed">The feed.</param>
    /// <param name="caps">The caps to apply.</param>
    public FareCapCalculator(FareFeed feed, IReadOnlyList<FareCap> caps)
    {
        ArgumentNullException.ThrowIfNull(feed);
        ArgumentNullException.ThrowIfNull(caps);
        _feed = feed;
        _caps = caps;
        _clock = new ZoneClock(feed.DefaultTimeZone);
    }

    /// <summary>The caps applied.</summary>
    public IReadOnlyList<FareCap> Caps => _caps;

    /// <summary>Applies the caps to one account's journeys.</summary>
    /// <param name="journeys">The account's priced journeys, ordered by <see cref="JourneyFare.Start"/>.</param>
    /// <returns>One result per journey, in the same order.</returns>
    /// <exception cref="ArgumentException">The journeys are not in time order.</exception>
    public IReadOnlyList<CappedJourney> Apply(IReadOnlyList<JourneyFare> journeys)
    {
        ArgumentNullException.ThrowIfNull(journeys);
        var states = new CapState[_caps.Count];
        for (var c = 0; c < states.Length; c++)
        {
            states[c] = new CapState();
        }

        var results = new CappedJourney[journeys.Count];
        for (var i = 0; i < journeys.Count; i++)
        {
            var journey = journeys[i] ?? throw new ArgumentException($"journey {i} is null", nameof(journeys));
            if (i > 0 && journey.Start < journeys[i - 1].Start)
            {
                throw new ArgumentException($"journey {i} starts at {journey.Start:O}, before journey {i - 1}; caps need time order", nameof(journeys));
            }

            results[i] = ApplyOne(journey, states);
        }

        return results;
    }

    private CappedJourney ApplyOne(JourneyFare journey, CapState[] states)
    {
        var applicable = new bool[_caps.Count];
        var freeByRides = new bool[_caps.Count];
        var reduced = new bool[_caps.Count];
        var inScopeFare = new long[_caps.Count];
        for (var c = 0; c < _caps.Count; c++)
        {
            var cap = _caps[c];
            applicable[c] = Applies(cap, journey);
            if (!applicable[c])
            {
                continue;
            }

            var state = states[c];
            var key = PeriodKey(cap, journey.Start, state);
            if (key != state.Period)
            {
                state.Period = key;
                state.Spent = 0;
                state.Rides = 0;
            }

            freeByRides[c] = cap.RideCount is { } rides && state.Rides >= rides;
        }

        long charged = 0;
        foreach (var leg in journey.Legs)
        {
            var amount = leg.Total;
            if ((leg.Flags & FareFlags.Incomplete) != 0 || amount <= 0)
            {
                charged = checked(charged + amount);
                continue;
            }

            var allowed = amount;
            for (var c = 0; c < _caps.Count; c++)
            {
                var cap = _caps[c];
                if (!applicable[c] || (cap.NetworkId is not null && cap.NetworkId != leg.NetworkId))
                {
                    continue;
                }

                inScopeFare[c] = checked(inScopeFare[c] + amount);
                var limit = freeByRides[c] ? 0 : cap.Amount is { } capAmount ? Math.Max(0, capAmount - states[c].Spent) : long.MaxValue;
                if (limit < allowed)
                {
                    allowed = limit;
                    reduced[c] = true;
                }
            }

            for (var c = 0; c < _caps.Count; c++)
            {
                if (applicable[c] && _caps[c].Amount is not null && (_caps[c].NetworkId is null || _caps[c].NetworkId == leg.NetworkId))
                {
                    states[c].Spent = checked(states[c].Spent + allowed);
                }
            }

            charged = checked(charged + allowed);
        }

        var applied = new List<string>();
        for (var c = 0; c < _caps.Count; c++)
        {
            if (applicable[c] && _caps[c].RideCount is not null && inScopeFare[c] > 0 && !freeByRides[c])
            {
                states[c].Rides++;
            }

            if (reduced[c])
            {
                applied.Add(_caps[c].Id);
            }
        }

        return new CappedJourney(journey, charged, checked(journey.Total - charged), applied);
    }

    private bool Applies(FareCap cap, JourneyFare journey)
    {
        if ((cap.Currency is not null && cap.Currency != journey.Currency)
            || (cap.RiderCategoryId is not null && cap.RiderCategoryId != journey.RiderCategoryId)
            || (cap.FareMediaId is not null && cap.FareMediaId != journey.FareMediaId))
        {
            return false;
        }

        if (cap.TimeframeGroupId is null)
        {
            return true;
        }

        var (date, seconds) = _clock.LocalDateAndTime(journey.Start.UtcTicks);
        foreach (var timeframe in _feed.Timeframes)
        {
            if (timeframe.GroupId == cap.TimeframeGroupId && seconds >= timeframe.StartSeconds && seconds < timeframe.EndSeconds
                && _feed.ServiceRunsOn(timeframe.ServiceId, date))
            {
                return true;
            }
        }

        return false;
    }

    private long PeriodKey(FareCap cap, DateTimeOffset start, CapState state)
    {
        var local = _clock.LocalTicks(start.UtcTicks) - (cap.DayStartSeconds * TimeSpan.TicksPerSecond);
        var serviceDay = DateOnly.FromDayNumber((int)(local / TimeSpan.TicksPerDay));
        switch (cap.Period)
        {
            case CapPeriod.ServiceDay:
                return serviceDay.DayNumber;
            case CapPeriod.CalendarWeek:
                return serviceDay.DayNumber - (((int)serviceDay.DayOfWeek + 6) % 7);
            case CapPeriod.CalendarMonth:
                return (serviceDay.Year * 12L) + serviceDay.Month;
            default:
                var duration = (cap.PeriodDurationSeconds ?? 0) * TimeSpan.TicksPerSecond;
                if (state.WindowStart is not { } opened || start.UtcTicks >= opened + duration)
                {
                    state.WindowStart = start.UtcTicks;
                }

                return state.WindowStart.Value;
        }
    }

    private sealed class CapState
    {
        public long? Period { get; set; }

        public long Spent { get; set; }

        public int Rides { get; set; }

        public long? WindowStart { get; set; }
    }
}
