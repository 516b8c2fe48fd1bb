using System.Globalization;

namespace Transit.Simulation;

/// <summary>Which riders a city is populated with.</summary>
public enum PopulationModel
{
    /// <summary>Segments with their own daily activity chains, hourly departure profiles and gravity destinations (<see cref="Demand"/>).</summary>
    Realistic,

    /// <summary>Everyone rides home → work 06:30–08:45 and back 16:00–18:45: the simple model many tests are written against.</summary>
    Commuters,
}

/// <summary>What kind of traveller a rider is; each segment has its own activity chains.</summary>
public enum Segment
{
    /// <summary>Full-time worker: home → work → home, some with a midday or after-work stop.</summary>
    Commuter,

    /// <summary>Part-time worker: a morning or an afternoon shift.</summary>
    PartTime,

    /// <summary>Pupil or student: school hours, some with an after-school stop.</summary>
    Student,

    /// <summary>Shopping and errands: off-peak, one to three stops.</summary>
    Shopper,

    /// <summary>Visitor staying near the centre: several short trips a day, every day.</summary>
    Visitor,

    /// <summary>Night-shift worker: home in the early morning, back to work late in the evening.</summary>
    NightShift,

    /// <summary>Rides all day (couriers, carers, sales): enough journeys to reach the daily and weekly caps.</summary>
    HeavyRider,
}

/// <summary>
/// Departure times of transit trips by hour of the day. The shape follows published hourly distributions of transit
/// trips — the US National Household Travel Survey (NHTS 2017, transit trips by start hour) and TfL's hourly
/// entry/exit profiles of its stations: a sharp AM peak at 07–09, a midday base of about half the peak, a broader PM
/// peak at 16–18, an evening tail to midnight and a thin early morning; weekends have no commuter peaks and a midday
/// hump. The figures are shaped after those sources, not copied from them.
/// </summary>
public static class RidershipProfile
{
    /// <summary>Relative weight of departures in each hour (0–23) of a weekday.</summary>
    public static IReadOnlyList<double> Weekday { get; } =
        [0.3, 0.1, 0.05, 0.05, 0.3, 1.5, 4.5, 8.8, 8.2, 5.2, 4.0, 4.1, 4.5, 4.5, 5.0, 6.5, 8.0, 8.6, 6.4, 4.2, 3.0, 2.4, 1.8, 1.0];

    /// <summary>Relative weight of departures in each hour of a Saturday.</summary>
    public static IReadOnlyList<double> Saturday { get; } =
        [0.6, 0.3, 0.1, 0.05, 0.2, 0.6, 1.5, 2.6, 3.8, 5.0, 6.2, 6.8, 7.0, 7.0, 6.8, 6.5, 6.2, 5.8, 5.0, 4.2, 3.5, 3.0, 2.4, 1.6];

    /// <summary>Relative weight of departures in each hour of a Sunday (and holiday).</summary>
    public static IReadOnlyList<double> Sunday { get; } =
        [0.8, 0.4, 0.1, 0.05, 0.1, 0.4, 1.0, 1.6, 2.6, 3.8, 5.0, 5.8, 6.2, 6.4, 6.4, 6.2, 5.9, 5.4, 4.8, 4.0, 3.2, 2.5, 1.8, 1.0];

    /// <summary>The profile of <paramref name="date"/>'s day of the week.</summary>
    public static IReadOnlyList<double> Of(DateOnly date) => date.DayOfWeek switch
    {
        DayOfWeek.Saturday => Saturday,
        DayOfWeek.Sunday => Sunday,
        _ => Weekday,
    };

    /// <summary>A minute of the day in [<paramref name="from"/>, <paramref name="to"/>), hours weighted by the profile.</summary>
    public static int Draw(IReadOnlyList<double> profile, int from, int to, Random random)
    {
        if (to <= from + 1)
        {
            return from;
        }

        var weights = new double[24];
        for (var hour = 0; hour < 24; hour++)
        {
            var overlap = Math.Min(to, (hour + 1) * 60) - Math.Max(from, hour * 60);
            weights[hour] = overlap > 0 ? profile[hour] * overlap : 0;
        }

        var chosen = Demand.Pick(weights, random);
        var start = Math.Max(from, chosen * 60);
        var end = Math.Min(to, (chosen + 1) * 60);
        return start + random.Next(Math.Max(1, end - start));
    }
}

/// <summary>
/// The realistic population's day: which segments ride, the activity chains each segment makes on a weekday, a
/// Saturday and a Sunday, when they leave (<see cref="RidershipProfile"/>) and the share of days skipped or ended
/// without transit. Cities supply where people go (a gravity model over their stops) and how they get there.
/// </summary>
public static class Demand
{
    /// <summary>
    /// Shortest stay between two journeys, longer than the longest transfer window of the fare rules (90 minutes):
    /// a shorter stop would be one journey with a transfer to clearing, and the truth's journeys must be clearing's.
    /// </summary>
    public const int MinimumStayMinutes = 95;

    /// <summary>No journey starts later than this (minutes of the day), so every journey ends within its service day.</summary>
    public const int LastDeparture = (23 * 60) + 10;

    /// <summary>Share of riders in each segment.</summary>
    public static IReadOnlyList<(Segment Segment, double Share)> Shares { get; } =
    [
        (Segment.Commuter, 0.42),
        (Segment.PartTime, 0.10),
        (Segment.Student, 0.16),
        (Segment.Shopper, 0.16),
        (Segment.Visitor, 0.05),
        (Segment.NightShift, 0.05),
        (Segment.HeavyRider, 0.06),
    ];

    /// <summary>Where a step of a chain goes.</summary>
    public enum Place
    {
        /// <summary>The rider's home stop.</summary>
        Home,

        /// <summary>The rider's work or school stop (<see cref="Rider.WorkStop"/>).</summary>
        Anchor,

        /// <summary>A stop drawn by the city's gravity model from where the rider is.</summary>
        Errand,
    }

    /// <summary>One journey of a chain: where to, the window its departure is drawn in, and whether it is by transit.</summary>
    public sealed record Step(Place To, int Earliest, int Latest, bool ByTransit = true);

    /// <summary>A rider's plan for the day: where the day starts and the journeys in order (empty: the rider stays home).</summary>
    public sealed record Chain(bool StartsAtAnchor, IReadOnlyList<Step> Steps);

    /// <summary>Draws a segment by <see cref="Shares"/>.</summary>
    public static Segment DrawSegment(Random random) => Shares[Pick([.. Shares.Select(s => s.Share)], random)].Segment;

    /// <summary>Rider category by segment: students are mostly children, the rest mostly adults.</summary>
    public static string DrawCategory(Segment segment, Random random) => (segment, random.NextDouble()) switch
    {
        (Segment.HeavyRider, _) => "adult",
        (Segment.Student, < 0.7) => "child",
        (Segment.Student, _) => "adult",
        (Segment.Shopper, < 0.35) => "senior",
        (_, < 0.92) => "adult",
        (_, < 0.96) => "child",
        _ => "senior",
    };

    /// <summary>
    /// The rider's chain on <paramref name="date"/>. Riders with something planted always travel, so that every day shows
    /// what the gates must refuse.
    /// </summary>
    public static Chain ChainOf(Rider rider, DateOnly date, Random random)
    {
        var day = date.DayOfWeek switch { DayOfWeek.Saturday => 1, DayOfWeek.Sunday => 2, _ => 0 };
        var travels = random.NextDouble() < TravelProbability(rider.Segment, day) || rider.Planted != Planted.None;
        var steps = new List<Step>();
        var startsAtAnchor = false;
        var r = random.NextDouble();
        switch (rider.Segment)
        {
            case Segment.Commuter when day == 0 || (day == 1 && r < 0.45):
                steps.Add(new Step(Place.Anchor, H(6), H(9, 30)));
                if (day == 0 && random.NextDouble() < 0.2)
                {
                    steps.Add(new Step(Place.Errand, H(11, 30), H(13, 30)));
                    steps.Add(new Step(Place.Anchor, H(13), H(15, 30)));
                }

                AfterWork(steps, random, H(15, 30), H(19, 15), afterWorkStop: 0.25, otherwayHome: 0.08);
                break;
            case Segment.PartTime when day < 2:
                var morningShift = random.NextDouble() < 0.5;
                steps.Add(morningShift ? new Step(Place.Anchor, H(7, 30), H(10)) : new Step(Place.Anchor, H(11), H(14)));
                AfterWork(steps, random, morningShift ? H(12, 30) : H(16, 30), morningShift ? H(15, 30) : H(21), afterWorkStop: 0.15, otherwayHome: 0.1);
                break;
            case Segment.Student when day == 0:
                steps.Add(new Step(Place.Anchor, H(6, 45), H(8, 15)));
                AfterWork(steps, random, H(13), H(16, 30), afterWorkStop: 0.3, otherwayHome: 0.1);
                break;
            case Segment.NightShift when day < 2 || r < 0.4:
                // Last night's shift ends at dawn; tonight's starts late in the evening.
                startsAtAnchor = true;
                steps.Add(new Step(Place.Home, H(5), H(6, 45)));
                steps.Add(new Step(Place.Anchor, H(20, 30), H(22, 45), ByTransit: random.NextDouble() >= 0.05));
                break;
            case Segment.HeavyRider:
                steps.Add(new Step(Place.Anchor, H(6, 30), H(8, 30)));
                Errands(steps, random, 2 + random.Next(3), H(9), H(19), H(22), otherwayHome: 0);
                break;
            case Segment.Visitor:
                Errands(steps, random, 3 + random.Next(3), H(8, 30), H(20), H(23), otherwayHome: 0.1);
                break;
            case Segment.Shopper:
                Errands(steps, random, 1 + random.Next(3), H(9), H(17, 30), H(20, 30), otherwayHome: 0.15);
                break;
            default:
                // Leisure on days without work or school: one or two outings around midday.
                Errands(steps, random, 1 + random.Next(2), H(10), H(18), H(22), otherwayHome: 0.15);
                break;
        }

        return travels ? new Chain(startsAtAnchor, steps) : new Chain(false, []);
    }

    private static double TravelProbability(Segment segment, int day) => (segment, day) switch
    {
        (Segment.Commuter, 0) => 0.9,
        (Segment.Commuter, 1) => 0.5,
        (Segment.PartTime, 0) => 0.6,
        (Segment.PartTime, 1) => 0.35,
        (Segment.Student, 0) => 0.93,
        (Segment.Shopper, 0) => 0.6,
        (Segment.Shopper, 1) => 0.7,
        (Segment.Shopper, _) => 0.35,
        (Segment.Visitor, _) => 0.95,
        (Segment.NightShift, 0) => 0.85,
        (Segment.NightShift, 1) => 0.5,
        (Segment.HeavyRider, 0) => 0.97,
        (Segment.HeavyRider, 1) => 0.6,
        (Segment.HeavyRider, _) => 0.4,
        _ => 0.3,
    };

    private static void AfterWork(List<Step> steps, Random random, int from, int to, double afterWorkStop, double otherwayHome)
    {
        if (random.NextDouble() < afterWorkStop)
        {
            steps.Add(new Step(Place.Errand, from, to));
            to = Math.Min(LastDeparture, to + 180);
        }

        steps.Add(new Step(Place.Home, from, to, ByTransit: random.NextDouble() >= otherwayHome));
    }

    private static void Errands(List<Step> steps, Random random, int count, int from, int to, int home, double otherwayHome)
    {
        for (var i = 0; i < count; i++)
        {
            steps.Add(new Step(Place.Errand, from, to));
        }

        steps.Add(new Step(Place.Home, from, home, ByTransit: random.NextDouble() >= otherwayHome));
    }

    private static int H(int hour, int minute = 0) => (hour * 60) + minute;

    /// <summary>
    /// Plays <paramref name="rider"/>'s chain of the day: draws each departure from the day's profile no earlier than
    /// <see cref="MinimumStayMinutes"/> after the last arrival, each errand's stop from <paramref name="errand"/>, and
    /// rides with <paramref name="ride"/> (which returns the arrival, or null when the city has no way there and the
    /// rider goes on foot or by taxi). The last transit journey of a rider who skips exits is the one without a tap-out.
    /// </summary>
    public static void Play(
        Rider rider,
        DateOnly date,
        Random random,
        Func<string, Random, string?> errand,
        Func<int, DateTime, string, string, bool, DateTime?> ride)
    {
        var chain = ChainOf(rider, date, random);
        var profile = RidershipProfile.Of(date);
        var at = chain.StartsAtAnchor ? rider.WorkStop : rider.HomeStop;
        var free = 0;
        var journey = 0;
        for (var i = 0; i < chain.Steps.Count; i++)
        {
            var step = chain.Steps[i];
            var earliest = Math.Max(step.Earliest, free);
            if (earliest > LastDeparture)
            {
                break;
            }

            var leave = RidershipProfile.Draw(profile, earliest, Math.Max(earliest + 1, Math.Min(step.Latest, LastDeparture)), random);
            var to = step.To switch
            {
                Place.Home => rider.HomeStop,
                Place.Anchor => rider.WorkStop,
                _ => errand(at, random),
            };
            if (to is null || to == at)
            {
                continue;
            }

            var arrival = step.ByTransit
                ? ride(journey, date.ToDateTime(TimeOnly.MinValue).AddMinutes(leave).AddSeconds(random.Next(60)), at, to, i == chain.Steps.Count - 1 && rider.Planted == Planted.SkipsExit)
                : null;
            if (arrival is { } arrived)
            {
                journey++;
                free = (int)(arrived - date.ToDateTime(TimeOnly.MinValue)).TotalMinutes + MinimumStayMinutes;
            }
            else
            {
                // On foot, by taxi or given a lift: no taps, but the rider is there and stays a while.
                free = leave + 30 + MinimumStayMinutes;
            }

            at = to;
        }
    }

    /// <summary>Per segment of the day's riders: how many, how many rode, and their journeys (from the ground truth).</summary>
    public static IReadOnlyList<(Segment Segment, int Riders, int Rode, int Journeys)> JourneysBySegment(DayPlan plan)
    {
        var journeys = plan.Legs.GroupBy(l => l.Account, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(l => l.JourneyIndex).Distinct().Count(), StringComparer.Ordinal);
        return [.. plan.Riders.GroupBy(r => r.Segment).OrderBy(g => g.Key)
            .Select(g => (g.Key, g.Count(), g.Count(r => journeys.ContainsKey(r.Account)), g.Sum(r => journeys.GetValueOrDefault(r.Account))))];
    }

    /// <summary>Destination by a gravity model: attraction times a decay with the cost of getting there.</summary>
    public static string? Gravity(IReadOnlyList<(string Stop, double Attraction, double Cost)> candidates, double scale, Random random) =>
        candidates.Count == 0 ? null : candidates[Pick([.. candidates.Select(c => c.Attraction * Math.Exp(-c.Cost / scale))], random)].Stop;

    /// <summary>An index drawn with probability proportional to its weight.</summary>
    public static int Pick(IReadOnlyList<double> weights, Random random)
    {
        var x = random.NextDouble() * weights.Sum();
        for (var i = 0; i < weights.Count; i++)
        {
            x -= weights[i];
            if (x < 0)
            {
                return i;
            }
        }

        return weights.Count - 1;
    }

    /// <summary>Attraction bonus of a stop for <paramref name="segment"/> from words in its name (centre, station, school, shops).</summary>
    public static double NameBonus(string? name, Segment segment)
    {
        var n = (name ?? "").ToLower(CultureInfo.InvariantCulture);
        var bonus = 1.0;
        if (Any(n, "central", "centre", "center", "centrum", "rynek", "plac", "market", "square", "harbour"))
        {
            bonus *= 3;
        }

        if (Any(n, "station", "dworzec", "pkp", "stacja", "terminal", "pętla", "interchange"))
        {
            bonus *= 2;
        }

        if (Any(n, "school", "szkoła", "szkola", "liceum", "university", "uniwersytet", "college", "campus"))
        {
            bonus *= segment == Segment.Student ? 6 : 1.5;
        }

        if (Any(n, "shop", "mall", "galeria", "sklep", "market", "hospital", "szpital", "urząd", "park"))
        {
            bonus *= segment is Segment.Shopper or Segment.Visitor ? 3 : 1.5;
        }

        return bonus;
    }

    private static bool Any(string name, params string[] words) => words.Any(w => name.Contains(w, StringComparison.Ordinal));
}
