using System.Globalization;
using Transit.RideCodes;
using Transit.DeviceApi;

namespace Transit.Simulation;

/// <summary>How a rider travels.</summary>
public enum RiderKind
{
    /// <summary>Metro from a home station to a work station (changing lines inside the paid area).</summary>
    Metro,

    /// <summary>Bus to the metro, then metro to work; the reverse at night.</summary>
    BusThenMetro,

    /// <summary>Bus only, on one route or with a change at a crossing stop.</summary>
    Bus,
}

/// <summary>Something planted in a rider's day that a gate must refuse, or that clearing must flag.</summary>
public enum Planted
{
    /// <summary>Nothing: an ordinary tap.</summary>
    None,

    /// <summary>The account is blocked before the day: every tap is <c>denied</c>.</summary>
    Blocked,

    /// <summary>A screenshot older than the freshness window is shown first: <c>stale</c>, then a fresh code.</summary>
    Stale,

    /// <summary>The same code is scanned twice: the second is <c>replayed</c>.</summary>
    Replayed,

    /// <summary>A code under a credential the issuer never signed: <c>bad-issuer-signature</c>.</summary>
    Forged,

    /// <summary>The rider leaves the metro without tapping out: an incomplete journey.</summary>
    SkipsExit,

    /// <summary>
    /// On this day the rider, once through the entry gate, hands the phone back to a friend, who shows a fresh code of
    /// the same account at the same gate: <c>passback</c>. Planned by <see cref="Population.PlanDay(IReadOnlyList{Rider}, DateOnly, int, IReadOnlySet{string}?)"/> only.
    /// </summary>
    Passback,
}

/// <summary>A rider of the simulated city.</summary>
public sealed record Rider(
    string Account,
    string Category,
    RiderKind Kind,
    string HomeStop,
    string WorkStop,
    Planted Planted)
{
    /// <summary>What kind of traveller the rider is (<see cref="PopulationModel.Realistic"/>); commuters in the simple model.</summary>
    public Segment Segment { get; init; } = Segment.Commuter;

    /// <summary>The issuer whose app or card the rider's codes come from (<see cref="SimulatedIssuers"/>).</summary>
    public string Issuer { get; init; } = IssuerIds.Home;
}

/// <summary>One leg a rider really travelled (the ground truth).</summary>
/// <param name="Account">The rider.</param>
/// <param name="JourneyIndex">Index of the journey in the rider's day.</param>
/// <param name="Mode">metro or bus.</param>
/// <param name="RouteId">Bus route, or the metro line boarded first.</param>
/// <param name="FromStop">Metro station or bus stop where the leg starts.</param>
/// <param name="ToStop">Metro station or bus stop where it ends.</param>
/// <param name="Start">Local start time.</param>
/// <param name="End">Local end time.</param>
/// <param name="TapsOut">False when the rider skipped the exit gate.</param>
public sealed record TrueLeg(
    string Account,
    int JourneyIndex,
    string Mode,
    string RouteId,
    string FromStop,
    string ToStop,
    DateTime Start,
    DateTime End,
    bool TapsOut);

/// <summary>A tap the simulation will present at a device.</summary>
/// <param name="At">Local time of the tap.</param>
/// <param name="DeviceKey">Which device: <c>STATION/entry</c>, <c>STATION/exit</c> or <c>bus/ROUTE</c>.</param>
/// <param name="StopId">The station or stop (for buses, what the validator's stop must be set to).</param>
/// <param name="Account">The rider.</param>
/// <param name="CodeAgeSeconds">How old the code is when shown (a stale screenshot is older than the window).</param>
/// <param name="Forged">Show a code under a credential the issuer never signed.</param>
/// <param name="RepeatOfPrevious">Show exactly the previous code again.</param>
/// <param name="ExpectedReason">What the gate must answer.</param>
public sealed record PlannedTap(
    DateTime At,
    string DeviceKey,
    string StopId,
    string Account,
    int CodeAgeSeconds,
    bool Forged,
    bool RepeatOfPrevious,
    string ExpectedReason);

/// <summary>One simulated service day: riders, the taps to present in time order, and the truth to check against.</summary>
public sealed record DayPlan(DateOnly Date, IReadOnlyList<Rider> Riders, IReadOnlyList<PlannedTap> Taps, IReadOnlyList<TrueLeg> Legs)
{
    /// <summary>Accounts to put on the deny list before the day starts.</summary>
    public IEnumerable<string> BlockedAccounts => Riders.Where(r => r.Planted == Planted.Blocked).Select(r => r.Account);
}

/// <summary>
/// Builds a rider population over the synthetic city and plays out a service day: home → work → home, some with a
/// midday trip, with transfers, and with planted refusals and incomplete journeys. Deterministic for a seed.
/// </summary>
public static class Population
{
    private const int MinutesPerMetroStop = 3;
    private const int MinutesPerBusStop = 2;
    private const int MetroChangeMinutes = 3;

    /// <summary>Plans one day for <paramref name="riders"/> riders.</summary>
    public static DayPlan Plan(DateOnly date, int riders, int seed = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(riders);
        var random = new Random(seed);
        var people = Enumerable.Range(0, riders).Select(i => NewRider(i, random)).ToList();
        return PlanDay(people, date, random);
    }

    /// <summary>The riders of a population that travels on several days (<see cref="PlanDay(IReadOnlyList{Rider}, DateOnly, int, IReadOnlySet{string}?)"/>).</summary>
    public static IReadOnlyList<Rider> Riders(int riders, int seed = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(riders);
        var random = new Random(seed);
        return [.. Enumerable.Range(0, riders).Select(i => NewRider(i, random))];
    }

    /// <summary>
    /// Plans one day of <paramref name="riders"/>, with times drawn for that day. Accounts in <paramref name="blocked"/>
    /// (for example blocked by clearing after a declined payment) are blocked riders on this day, whatever else they do.
    /// </summary>
    public static DayPlan PlanDay(IReadOnlyList<Rider> riders, DateOnly date, int seed, IReadOnlySet<string>? blocked = null) =>
        PlanDay(PassingBack(Blocking(riders, blocked), new Random(~DaySeed(seed, date))), date, new Random(DaySeed(seed, date)));

    /// <summary>The riders of the realistic population (<see cref="PopulationModel.Realistic"/>): segments, homes and work or school stops by gravity.</summary>
    public static IReadOnlyList<Rider> RealisticRiders(int riders, int seed = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(riders);
        var random = new Random(seed);
        return [.. Enumerable.Range(0, riders).Select(i => NewRealisticRider(i, random))];
    }

    /// <summary>
    /// Plans one day of the realistic population: each rider's activity chain of the day (<see cref="Demand"/>) over the
    /// synthetic city, with pass-backs and blocked accounts as in <see cref="PlanDay(IReadOnlyList{Rider}, DateOnly, int, IReadOnlySet{string}?)"/>.
    /// </summary>
    public static DayPlan PlanRealisticDay(IReadOnlyList<Rider> riders, DateOnly date, int seed, IReadOnlySet<string>? blocked = null)
    {
        var people = PassingBack(Blocking(riders, blocked), new Random(~DaySeed(seed, date)));
        var random = new Random(DaySeed(seed, date));
        var taps = new List<PlannedTap>();
        var legs = new List<TrueLeg>();
        foreach (var rider in people)
        {
            Demand.Play(rider, date, random, (from, r) => Errand(rider, from, r),
                (journey, leave, from, to, skipsExit) => Ride(rider, journey, leave, from, to, skipsExit, random, taps, legs));
        }

        taps.Sort((a, b) => a.At.CompareTo(b.At));
        return new DayPlan(date, people, taps, legs);
    }

    private static Rider NewRealisticRider(int index, Random random)
    {
        var segment = Demand.DrawSegment(random);
        var category = Demand.DrawCategory(segment, random);
        var kind = segment is Segment.Visitor or Segment.HeavyRider
            ? RiderKind.Metro
            : random.NextDouble() switch
            {
                < 0.45 => RiderKind.Metro,
                < 0.75 => RiderKind.BusThenMetro,
                _ => RiderKind.Bus,
            };
        var planted = DrawPlanted(random, tapsOut: kind == RiderKind.Metro);
        var homes = Reachable(kind);
        var home = segment == Segment.Visitor
            ? Demand.Gravity([.. homes.Select(s => (s, Attraction(s, segment), Kilometres("CEN", s)))], 1.5, random)!
            : homes[random.Next(homes.Count)];
        var work = Errand(new Rider("", category, kind, home, home, planted) { Segment = segment }, home, random)!;
        return new Rider(string.Create(CultureInfo.InvariantCulture, $"r{index:D7}"), category, kind, home, work, planted) { Segment = segment };
    }

    /// <summary>Metro riders use stations, bus riders bus stops, the others both; bus stops at a station are the station's.</summary>
    private static IReadOnlyList<string> Reachable(RiderKind kind) => kind switch
    {
        RiderKind.Metro => StationIds,
        RiderKind.Bus => OwnBusStops,
        _ => AllStops,
    };

    private static readonly IReadOnlyList<string> StationIds = [.. SyntheticCity.Stations.Select(s => s.Id)];

    private static readonly IReadOnlyList<string> OwnBusStops =
        [.. SyntheticCity.BusStops.Select(b => b.Id).Except(SyntheticCity.Stations.Select(BusStopAt))];

    private static readonly IReadOnlyList<string> AllStops = [.. StationIds, .. OwnBusStops];

    /// <summary>Gravity over the stops the rider uses: attraction, decaying with distance (3 km scale).</summary>
    private static string? Errand(Rider rider, string from, Random random) =>
        Demand.Gravity([.. Reachable(rider.Kind).Where(s => s != from).Select(s => (s, Attraction(s, rider.Segment), Kilometres(from, s)))], 3, random);

    /// <summary>
    /// How much a stop draws trips: the centre most, then the other interchanges (stations, crossing bus stops),
    /// nearness to the centre, and words of its name (University draws students, Harbour shoppers and visitors).
    /// </summary>
    private static double Attraction(string stop, Segment segment) => Attractions[(stop, segment)];

    private static readonly Dictionary<string, Place> Places =
        SyntheticCity.Stations.Concat(SyntheticCity.BusStops).ToDictionary(p => p.Id, StringComparer.Ordinal);

    private static readonly Dictionary<(string, Segment), double> Attractions = Places.Values
        .SelectMany(place => Enum.GetValues<Segment>().Select(segment =>
        {
            var lines = SyntheticCity.MetroLines.Concat(SyntheticCity.BusLines).Count(l => l.Stops.Contains(place.Id));
            var central = 1 + (3 / (1 + Math.Sqrt((place.X * place.X) + (place.Y * place.Y))));
            return (Key: (place.Id, segment), Weight: (place.Zone is null ? 1 : 4) * lines * central * Demand.NameBonus(place.Name, segment));
        }))
        .ToDictionary(a => a.Key, a => a.Weight);

    private static double Kilometres(string a, string b) => SyntheticCity.DistanceMeters(Places[a], Places[b]) / 1000;

    /// <summary>
    /// 1 % of the metro riders with nothing else planted, and at least one, try a pass-back on the day (their own random
    /// stream, so the day's times stay those of the seed).
    /// </summary>
    private static IReadOnlyList<Rider> PassingBack(IReadOnlyList<Rider> riders, Random random)
    {
        var eligible = riders.Select((r, i) => (r, i)).Where(p => p.r.Kind == RiderKind.Metro && p.r.Planted == Planted.None).Select(p => p.i).ToList();
        var chosen = eligible.Where(_ => random.NextDouble() < 0.01).ToHashSet();
        if (chosen.Count == 0 && eligible.Count > 0)
        {
            chosen.Add(eligible[random.Next(eligible.Count)]);
        }

        return [.. riders.Select((r, i) => chosen.Contains(i) ? r with { Planted = Planted.Passback } : r)];
    }

    /// <summary>A seed for one day of a population's <paramref name="seed"/>.</summary>
    /// <remarks>A fixed mix (SplitMix64's finaliser): <see cref="HashCode"/> is seeded anew in every process, and a run must replay with its seed.</remarks>
    public static int DaySeed(int seed, DateOnly date)
    {
        var x = unchecked(((ulong)(uint)seed << 32) | (uint)date.DayNumber);
        x = unchecked((x ^ (x >> 30)) * 0xbf58476d1ce4e5b9UL);
        x = unchecked((x ^ (x >> 27)) * 0x94d049bb133111ebUL);
        return (int)((x ^ (x >> 31)) & int.MaxValue);
    }

    /// <summary>The riders with those in <paramref name="blocked"/> turned into blocked riders.</summary>
    public static IReadOnlyList<Rider> Blocking(IReadOnlyList<Rider> riders, IReadOnlySet<string>? blocked) =>
        blocked is null || blocked.Count == 0
            ? riders
            : [.. riders.Select(r => blocked.Contains(r.Account) ? r with { Planted = Planted.Blocked } : r)];

    private static DayPlan PlanDay(IReadOnlyList<Rider> people, DateOnly date, Random random)
    {
        var taps = new List<PlannedTap>();
        var legs = new List<TrueLeg>();
        foreach (var rider in people)
        {
            PlanDay(rider, date, random, taps, legs);
        }

        taps.Sort((a, b) => a.At.CompareTo(b.At));
        return new DayPlan(date, people, taps, legs);
    }

    private static Rider NewRider(int index, Random random)
    {
        var account = string.Create(CultureInfo.InvariantCulture, $"r{index:D7}");
        var category = random.NextDouble() switch
        {
            < 0.80 => "adult",
            < 0.90 => "child",
            _ => "senior",
        };
        var kind = random.NextDouble() switch
        {
            < 0.5 => RiderKind.Metro,
            < 0.75 => RiderKind.BusThenMetro,
            _ => RiderKind.Bus,
        };
        var planted = DrawPlanted(random, tapsOut: kind == RiderKind.Metro);
        var (home, work) = kind switch
        {
            RiderKind.Metro => TwoDistinct(SyntheticCity.Stations.Select(s => s.Id).ToList(), random),
            RiderKind.BusThenMetro => BusThenMetroEnds(random),
            _ => BusEnds(random),
        };
        return new Rider(account, category, kind, home, work, planted);
    }

    /// <summary>What a rider does wrong: 1% blocked, 2% stale screenshots, 2% replays, 1% forgeries, 2% of tap-out riders skip the exit.</summary>
    internal static Planted DrawPlanted(Random random, bool tapsOut) => random.NextDouble() switch
    {
        < 0.01 => Planted.Blocked,
        < 0.03 => Planted.Stale,
        < 0.05 => Planted.Replayed,
        < 0.06 => Planted.Forged,
        < 0.08 when tapsOut => Planted.SkipsExit,
        _ => Planted.None,
    };

    private static (string, string) TwoDistinct(List<string> ids, Random random)
    {
        var a = ids[random.Next(ids.Count)];
        string b;
        do
        {
            b = ids[random.Next(ids.Count)];
        }
        while (b == a);
        return (a, b);
    }

    /// <summary>Home is a bus stop on a route that meets the metro; work is a metro station other than the meeting one.</summary>
    private static (string, string) BusThenMetroEnds(Random random)
    {
        var line = SyntheticCity.BusLines[random.Next(SyntheticCity.BusLines.Count)];
        var meeting = MeetingStation(line);
        var feeder = line.Stops.Where(s => s != BusStopAt(meeting)).ToList();
        var work = SyntheticCity.Stations.Where(s => s.Id != meeting.Id).ToList();
        return (feeder[random.Next(feeder.Count)], work[random.Next(work.Count)].Id);
    }

    private static (string, string) BusEnds(Random random)
    {
        var line = SyntheticCity.BusLines[random.Next(SyntheticCity.BusLines.Count)];
        var (home, work) = TwoDistinct([.. line.Stops], random);
        if (random.NextDouble() < 0.3)
        {
            // Change at a crossing: work lies on a crossing route instead.
            var crossing = SyntheticCity.BusLines.First(other => other != line && other.Stops.Intersect(line.Stops).Any());
            var change = crossing.Stops.Intersect(line.Stops).First();
            var onward = crossing.Stops.Where(s => s != change && !line.Stops.Contains(s)).ToList();
            work = onward[random.Next(onward.Count)];
            if (home == change)
            {
                home = line.Stops.First(s => s != change);
            }
        }

        return (home, work);
    }

    private static void PlanDay(Rider rider, DateOnly date, Random random, List<PlannedTap> taps, List<TrueLeg> legs)
    {
        var morning = date.ToDateTime(new TimeOnly(6, 30)).AddMinutes(random.Next(0, 135)).AddSeconds(random.Next(60));
        var evening = date.ToDateTime(new TimeOnly(16, 0)).AddMinutes(random.Next(0, 165)).AddSeconds(random.Next(60));
        Ride(rider, 0, morning, rider.HomeStop, rider.WorkStop, skipsExit: false, random, taps, legs);
        Ride(rider, 1, evening, rider.WorkStop, rider.HomeStop, skipsExit: rider.Planted == Planted.SkipsExit, random, taps, legs);
    }

    /// <summary>
    /// Plays one journey of <paramref name="rider"/> from <paramref name="from"/> to <paramref name="to"/> leaving at
    /// <paramref name="start"/>: its taps, and its legs as ground truth. Returns when the rider arrives.
    /// </summary>
    internal static DateTime Ride(Rider rider, int journeyIndex, DateTime start, string from, string to, bool skipsExit, Random random, List<PlannedTap> taps, List<TrueLeg> legs)
    {
        var time = start;
        var end = start;
        var firstTapOfDay = journeyIndex == 0;
        foreach (var leg in Route(from, to))
        {
            end = time.AddMinutes(leg.Minutes);
            var skips = skipsExit && leg.Mode == "metro";
            if (rider.Planted != Planted.Blocked && rider.Planted != Planted.Forged)
            {
                legs.Add(new TrueLeg(rider.Account, journeyIndex, leg.Mode, leg.RouteId, leg.From, leg.To, time, end, !skips));
            }

            var entryKey = leg.Mode == "metro" ? $"{leg.From}/entry" : $"bus/{leg.RouteId}";
            AddTaps(rider, time, entryKey, leg.From, firstTapOfDay, taps);
            firstTapOfDay = false;
            if (leg.Mode == "metro" && !skips)
            {
                AddTaps(rider, end, $"{leg.To}/exit", leg.To, first: false, taps);
            }

            time = end.AddMinutes(2).AddSeconds(random.Next(60));
        }

        return end;
    }

    /// <summary>The planted behaviour shows on the rider's first tap of the day; blocked and forged riders never get in.</summary>
    internal static void AddTaps(Rider rider, DateTime at, string device, string stop, bool first, List<PlannedTap> taps)
    {
        switch (rider.Planted)
        {
            case Planted.Blocked:
                taps.Add(new PlannedTap(at, device, stop, rider.Account, 2, false, false, "denied"));
                return;
            case Planted.Forged:
                taps.Add(new PlannedTap(at, device, stop, rider.Account, 2, true, false, "bad-issuer-signature"));
                return;
            case Planted.Stale when first:
                taps.Add(new PlannedTap(at, device, stop, rider.Account, 600, false, false, "stale"));
                taps.Add(new PlannedTap(at.AddSeconds(8), device, stop, rider.Account, 2, false, false, "ok"));
                return;
            case Planted.Replayed when first:
                taps.Add(new PlannedTap(at, device, stop, rider.Account, 2, false, false, "ok"));
                taps.Add(new PlannedTap(at.AddSeconds(1), device, stop, rider.Account, 3, false, true, "replayed"));
                return;
            case Planted.Passback when first:
                taps.Add(new PlannedTap(at, device, stop, rider.Account, 2, false, false, "ok"));
                taps.Add(new PlannedTap(at.AddSeconds(20), device, stop, rider.Account, 2, false, false, TapReasons.Passback));
                return;
            default:
                taps.Add(new PlannedTap(at, device, stop, rider.Account, 2, false, false, "ok"));
                return;
        }
    }

    private sealed record PlannedLeg(string Mode, string RouteId, string From, string To, int Minutes);

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string, string), List<PlannedLeg>> Routes = new();

    /// <summary>The legs from <paramref name="from"/> to <paramref name="to"/> (the same every time: routes are remembered).</summary>
    private static List<PlannedLeg> Route(string from, string to) => Routes.GetOrAdd((from, to), key => FindRoute(key.Item1, key.Item2));

    private static List<PlannedLeg> FindRoute(string from, string to)
    {
        var fromIsStation = SyntheticCity.Stations.Any(s => s.Id == from);
        var toIsStation = SyntheticCity.Stations.Any(s => s.Id == to);
        if (fromIsStation && toIsStation)
        {
            return [Metro(from, to)];
        }

        if (!fromIsStation && toIsStation)
        {
            var line = FeederLine(from, to);
            var meeting = MeetingStation(line);
            return meeting.Id == to ? [Bus(line, from, BusStopAt(meeting))] : [Bus(line, from, BusStopAt(meeting)), Metro(meeting.Id, to)];
        }

        if (fromIsStation && !toIsStation)
        {
            var line = FeederLine(to, from);
            var meeting = MeetingStation(line);
            return meeting.Id == from ? [Bus(line, BusStopAt(meeting), to)] : [Metro(from, meeting.Id), Bus(line, BusStopAt(meeting), to)];
        }

        var direct = SyntheticCity.BusLines.FirstOrDefault(l => l.Stops.Contains(from) && l.Stops.Contains(to));
        if (direct is not null)
        {
            return [Bus(direct, from, to)];
        }

        var first = SyntheticCity.BusLines.FirstOrDefault(l => l.Stops.Contains(from) && SyntheticCity.BusLines.Any(o => o != l && o.Stops.Contains(to) && o.Stops.Intersect(l.Stops).Any()));
        if (first is null)
        {
            // Parallel avenues do not cross: bus to the metro, metro across, bus again.
            var (outward, inward) = (SyntheticCity.BusLines.First(l => l.Stops.Contains(from)), SyntheticCity.BusLines.First(l => l.Stops.Contains(to)));
            var (board, alight) = (MeetingStation(outward), MeetingStation(inward));
            return [Bus(outward, from, BusStopAt(board)), Metro(board.Id, alight.Id), Bus(inward, BusStopAt(alight), to)];
        }

        var second = SyntheticCity.BusLines.First(o => o != first && o.Stops.Contains(to) && o.Stops.Intersect(first.Stops).Any());
        var change = first.Stops.Intersect(second.Stops).First();
        return [Bus(first, from, change), Bus(second, change, to)];
    }

    /// <summary>A bus line through <paramref name="busStop"/>, preferring one whose metro station is not <paramref name="station"/>.</summary>
    private static Line FeederLine(string busStop, string station)
    {
        var lines = SyntheticCity.BusLines.Where(l => l.Stops.Contains(busStop)).ToList();
        return lines.FirstOrDefault(l => MeetingStation(l).Id != station) ?? lines[0];
    }

    private static PlannedLeg Metro(string from, string to)
    {
        var a = SyntheticCity.PlaceOf(from);
        var b = SyntheticCity.PlaceOf(to);
        var sameLine = SyntheticCity.MetroLines.FirstOrDefault(l => l.Stops.Contains(from) && l.Stops.Contains(to));
        var stops = sameLine is not null
            ? Math.Abs(sameLine.Stops.ToList().IndexOf(from) - sameLine.Stops.ToList().IndexOf(to))
            : (int)((Math.Abs(a.X) + Math.Abs(a.Y) + Math.Abs(b.X) + Math.Abs(b.Y)) / 2);
        var first = sameLine ?? SyntheticCity.MetroLines.First(l => l.Stops.Contains(from));
        return new PlannedLeg("metro", first.Id, from, to, (stops * MinutesPerMetroStop) + (sameLine is null ? MetroChangeMinutes : 0) + 2);
    }

    private static PlannedLeg Bus(Line line, string from, string to)
    {
        var stops = Math.Abs(line.Stops.ToList().IndexOf(from) - line.Stops.ToList().IndexOf(to));
        return new PlannedLeg("bus", line.Id, from, to, stops * MinutesPerBusStop);
    }

    /// <summary>The metro station a bus route passes (each route of the grid meets exactly one).</summary>
    public static Place MeetingStation(Line busLine) =>
        SyntheticCity.Stations.First(s => busLine.Stops.Contains(BusStopAt(s)));

    /// <summary>The bus stop at a station's position, or "" when no bus stop is there.</summary>
    public static string BusStopAt(Place station) =>
        SyntheticCity.BusStops.FirstOrDefault(b => Math.Abs(b.X - station.X) < 0.01 && Math.Abs(b.Y - station.Y) < 0.01)?.Id ?? "";
}
