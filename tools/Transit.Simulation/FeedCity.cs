using System.Globalization;
using System.Text;
using Transit.FareRules;
using Transit.Gtfs;

namespace Transit.Simulation;

/// <summary>
/// A city made from any GTFS feed with trips and stop times (<c>transit sim --feed DIR</c>): every route is ridden
/// with an on-board validator (no tap-out), one per route and operator. Each rider lives at one stop and works at a
/// later stop of the same trip pattern, boards the first trip leaving home after a morning departure time and rides
/// back on the first trip of a pattern serving work before home after an evening one (riders with no way back walk).
/// Service calendars are not consulted: every trip is taken to run on every day.
/// </summary>
public sealed class FeedCity : CityModel
{
    private readonly string _directory;
    private readonly FareFeed _feed;
    private readonly List<Pattern> _patterns;
    private readonly List<(string Id, double Weight)> _categories;
    private readonly Dictionary<(string, string), List<Pattern>> _serving = [];
    private readonly Dictionary<string, List<(string Stop, int Hops)>> _reachable = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _patternsThrough;
    private readonly PopulationModel _model;

    private FeedCity(string directory, FareFeed feed, List<Pattern> patterns, PopulationModel model)
    {
        _directory = directory;
        _model = model;
        _patternsThrough = patterns.SelectMany(p => p.Stops.Distinct()).GroupBy(s => s, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        _feed = feed;
        _patterns = patterns;
        var categories = feed.RiderCategories.Values.OrderBy(c => c.Id, StringComparer.Ordinal).ToList();
        _categories = categories.Count == 0
            ? [("", 1.0)]
            : [.. categories.Select(c => (c.Id, c.IsDefault || categories.Count == 1 ? 0.8 : 0.2 / Math.Max(1, categories.Count(o => !o.IsDefault))))];
        Slots = [.. patterns.GroupBy(p => p.RouteId, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new DeviceSlot($"bus/{g.Key}", feed.Routes[g.Key].AgencyId, "bus", null, g.Key, g.First().Stops[0]))];
    }

    /// <inheritdoc />
    public override string Name => $"GTFS feed {Path.GetFileName(_directory)} ({Slots.Count} routes, {_feed.Stops.Count} stops)";

    /// <inheritdoc />
    public override string TimeZone => _feed.Agencies.Values.OrderBy(a => a.Id, StringComparer.Ordinal).First().TimeZoneId;

    /// <inheritdoc />
    public override IReadOnlyList<DeviceSlot> Slots { get; }

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, long> MaximumFares { get; } = new Dictionary<string, long>();

    /// <summary>Reads the feed; throws <see cref="InvalidDataException"/> naming what is missing.</summary>
    public static FeedCity Load(string directory, PopulationModel model = PopulationModel.Realistic)
    {
        directory = Path.GetFullPath(directory);
        var feed = FareFeed.Load(directory);
        if (feed.Agencies.Count == 0 || feed.Routes.Count == 0)
        {
            throw new InvalidDataException($"{directory}: the feed has no agency or no route");
        }

        var trips = ReadTable(directory, "trips.txt").ToDictionary(r => r.Row["trip_id"], r => r.Row["route_id"], StringComparer.Ordinal);
        var times = new Dictionary<string, List<(int Sequence, string Stop, int Seconds)>>(StringComparer.Ordinal);
        foreach (var (line, row) in ReadTable(directory, "stop_times.txt"))
        {
            // A stop without times is one the feed leaves to interpolation: not a place to board or alight here.
            var column = row.GetValueOrDefault("departure_time") is { Length: > 0 } ? "departure_time" : "arrival_time";
            var time = row.GetValueOrDefault(column) ?? "";
            if (!trips.ContainsKey(row["trip_id"]) || time.Length == 0)
            {
                continue;
            }

            var seconds = GtfsTime.Parse(time, Path.Combine(directory, "stop_times.txt"), line, column);

            if (!times.TryGetValue(row["trip_id"], out var list))
            {
                times[row["trip_id"]] = list = [];
            }

            list.Add((int.Parse(row["stop_sequence"], CultureInfo.InvariantCulture), row["stop_id"], seconds));
        }

        var patterns = times
            .Where(t => t.Value.Count >= 2 && feed.Routes.ContainsKey(trips[t.Key]))
            .Select(t => (Route: trips[t.Key], Stops: t.Value.OrderBy(s => s.Sequence).ToList()))
            .GroupBy(t => t.Route + "\0" + string.Join('\0', t.Stops.Select(s => s.Stop)), StringComparer.Ordinal)
            .Select(g =>
            {
                var first = g.First();
                return new Pattern(
                    first.Route,
                    [.. first.Stops.Select(s => s.Stop)],
                    [.. g.Select(t => t.Stops.Select(s => s.Seconds).ToArray()).OrderBy(t => t[0])]);
            })
            .OrderBy(p => p.RouteId, StringComparer.Ordinal).ThenBy(p => string.Join(',', p.Stops), StringComparer.Ordinal)
            .ToList();
        if (patterns.Count == 0)
        {
            throw new InvalidDataException($"{directory}: no trip with two or more timed stops (trips.txt and stop_times.txt are needed)");
        }

        return new FeedCity(directory, feed, patterns, model);
    }

    /// <inheritdoc />
    public override void WriteFeed(string directory)
    {
        Directory.CreateDirectory(directory);
        foreach (var file in Directory.GetFiles(_directory, "*.txt"))
        {
            File.Copy(file, Path.Combine(directory, Path.GetFileName(file)), overwrite: true);
        }
    }

    /// <inheritdoc />
    public override IReadOnlyList<Rider> Riders(int count, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var random = new Random(seed);
        var weights = _patterns.Select(p => (double)p.Trips.Count).ToList();
        var riders = new List<Rider>(count);
        for (var i = 0; i < count; i++)
        {
            var pattern = _patterns[Demand.Pick(weights, random)];
            var segment = _model == PopulationModel.Realistic ? Demand.DrawSegment(random) : Segment.Commuter;
            var home = random.Next(pattern.Stops.Count - 1);
            var work = home + 1 + random.Next(pattern.Stops.Count - home - 1);
            var category = _categories[Demand.Pick([.. _categories.Select(c => c.Weight)], random)].Id;
            var workStop = _model == PopulationModel.Realistic ? Errand(pattern.Stops[home], segment, random) ?? pattern.Stops[work] : pattern.Stops[work];
            riders.Add(new Rider(
                string.Create(CultureInfo.InvariantCulture, $"r{i:D7}"), category, RiderKind.Bus, pattern.Stops[home], workStop,
                Population.DrawPlanted(random, tapsOut: false)) { Segment = segment });
        }

        return riders;
    }

    /// <inheritdoc />
    public override DayPlan PlanDay(IReadOnlyList<Rider> riders, DateOnly date, int seed, IReadOnlySet<string>? blocked)
    {
        var random = new Random(Population.DaySeed(seed, date));
        var people = Population.Blocking(riders, blocked);
        var taps = new List<PlannedTap>();
        var legs = new List<TrueLeg>();
        if (_model == PopulationModel.Realistic)
        {
            foreach (var rider in people)
            {
                Demand.Play(rider, date, random, (from, r) => Errand(from, rider.Segment, r),
                    (journey, leave, from, to, _) => Ride(rider, journey, date, leave, from, to, taps, legs));
            }

            taps.Sort((a, b) => a.At.CompareTo(b.At));
            return new DayPlan(date, people, taps, legs);
        }

        foreach (var rider in people)
        {
            var morning = (6 * 3600) + 1800 + random.Next(135 * 60);
            var evening = (16 * 3600) + random.Next(165 * 60);
            var journeyIndex = 0;
            foreach (var (from, to, leave) in new[] { (rider.HomeStop, rider.WorkStop, morning), (rider.WorkStop, rider.HomeStop, evening) })
            {
                if (NextTrip(from, to, leave) is not { } ride)
                {
                    continue;
                }

                var start = date.ToDateTime(TimeOnly.MinValue).AddSeconds(ride.Board);
                if (rider.Planted is not (Planted.Blocked or Planted.Forged))
                {
                    legs.Add(new TrueLeg(rider.Account, journeyIndex, "bus", ride.RouteId, from, to, start, date.ToDateTime(TimeOnly.MinValue).AddSeconds(ride.Alight), true));
                }

                Population.AddTaps(rider, start, $"bus/{ride.RouteId}", from, first: journeyIndex == 0, taps);
                journeyIndex++;
            }
        }

        taps.Sort((a, b) => a.At.CompareTo(b.At));
        return new DayPlan(date, people, taps, legs);
    }

    /// <summary>
    /// Rides from <paramref name="from"/> to <paramref name="to"/> on the first trip after <paramref name="leave"/>,
    /// or with one change where no pattern serves both (the connection within an hour); null when neither exists.
    /// </summary>
    private DateTime? Ride(Rider rider, int journeyIndex, DateOnly date, DateTime leave, string from, string to, List<PlannedTap> taps, List<TrueLeg> legs)
    {
        var after = (int)(leave - date.ToDateTime(TimeOnly.MinValue)).TotalSeconds;
        List<(string From, string To, (string RouteId, int Board, int Alight) Trip)>? best = null;
        if (NextTrip(from, to, after) is { } direct)
        {
            best = [(from, to, direct)];
        }
        else
        {
            foreach (var change in Reachable(from).Where(r => r.Hops < ChangePenalty).Select(r => r.Stop))
            {
                if (NextTrip(from, change, after) is { } first && NextTrip(change, to, first.Alight + 120) is { } second
                    && second.Board - first.Alight <= 3600 && (best is null || second.Alight < best[^1].Trip.Alight))
                {
                    best = [(from, change, first), (change, to, second)];
                }
            }
        }

        if (best is null || best[^1].Trip.Alight >= 86_400)
        {
            // No way there today (or only after midnight): the rider walks or takes a taxi.
            return null;
        }

        var midnight = date.ToDateTime(TimeOnly.MinValue);
        foreach (var (legFrom, legTo, trip) in best)
        {
            var start = midnight.AddSeconds(trip.Board);
            if (rider.Planted is not (Planted.Blocked or Planted.Forged))
            {
                legs.Add(new TrueLeg(rider.Account, journeyIndex, "bus", trip.RouteId, legFrom, legTo, start, midnight.AddSeconds(trip.Alight), true));
            }

            Population.AddTaps(rider, start, $"bus/{trip.RouteId}", legFrom, first: journeyIndex == 0 && legFrom == from, taps);
        }

        return midnight.AddSeconds(best[^1].Trip.Alight);
    }

    private const int ChangePenalty = 1000;

    /// <summary>Gravity over the stops reachable from <paramref name="from"/> (hops along the route as cost; a change costs five more).</summary>
    private string? Errand(string from, Segment segment, Random random) =>
        Demand.Gravity([.. Reachable(from).Select(r => (r.Stop, Attraction(r.Stop, segment), (double)(r.Hops % ChangePenalty) + (r.Hops >= ChangePenalty ? 5 : 0)))], 8, random);

    /// <summary>Where a feed has nothing better: the patterns through a stop (interchanges draw more) and words of its name.</summary>
    private double Attraction(string stop, Segment segment) =>
        _patternsThrough.GetValueOrDefault(stop, 1) * Demand.NameBonus(_feed.Stops.GetValueOrDefault(stop)?.Name, segment);

    /// <summary>
    /// Stops reachable from <paramref name="from"/> with the number of stops ridden: directly, or (plus
    /// <see cref="ChangePenalty"/>) with one change.
    /// </summary>
    private List<(string Stop, int Hops)> Reachable(string from)
    {
        lock (_reachable)
        {
            if (_reachable.TryGetValue(from, out var known))
            {
                return known;
            }
        }

        var hops = new Dictionary<string, int>(StringComparer.Ordinal);
        void Ride(string origin, int offset)
        {
            foreach (var pattern in _patterns)
            {
                var i = pattern.IndexOf(origin);
                for (var j = i + 1; i >= 0 && j < pattern.Stops.Count; j++)
                {
                    if (pattern.Stops[j] != from && (!hops.TryGetValue(pattern.Stops[j], out var h) || h > offset + j - i))
                    {
                        hops[pattern.Stops[j]] = offset + j - i;
                    }
                }
            }
        }

        Ride(from, 0);
        foreach (var (direct, ridden) in hops.ToList())
        {
            Ride(direct, ChangePenalty + ridden);
        }

        var list = hops.OrderBy(h => h.Key, StringComparer.Ordinal).Select(h => (h.Key, h.Value)).ToList();
        lock (_reachable)
        {
            _reachable[from] = list;
        }

        return list;
    }

    /// <summary>The first trip leaving <paramref name="from"/> at or after <paramref name="after"/> (seconds of the day) that reaches <paramref name="to"/>.</summary>
    private (string RouteId, int Board, int Alight)? NextTrip(string from, string to, int after)
    {
        (string, int, int)? best = null;
        foreach (var pattern in Serving(from, to))
        {
            var (i, j) = (pattern.IndexOf(from), pattern.IndexOf(to));
            var trip = pattern.Trips.FirstOrDefault(t => t[i] >= after);
            if (trip is not null && (best is null || trip[i] < best.Value.Item2))
            {
                best = (pattern.RouteId, trip[i], trip[j]);
            }
        }

        return best;
    }

    private List<Pattern> Serving(string from, string to)
    {
        lock (_serving)
        {
            if (!_serving.TryGetValue((from, to), out var list))
            {
                _serving[(from, to)] = list = [.. _patterns.Where(p => p.IndexOf(from) is var i and >= 0 && p.IndexOf(to) > i)];
            }

            return list;
        }
    }

    /// <summary>
    /// Rows of a GTFS file as column → value with their line, read by the shared <see cref="CsvReader"/> as they are
    /// needed (stop_times.txt may be large).
    /// </summary>
    private static IEnumerable<(int Line, Dictionary<string, string> Row)> ReadTable(string directory, string name)
    {
        var path = Path.Combine(directory, name);
        if (!File.Exists(path))
        {
            throw new InvalidDataException($"{directory}: {name} is missing (a simulation needs trips and stop times)");
        }

        return Rows();

        IEnumerable<(int Line, Dictionary<string, string> Row)> Rows()
        {
            using var reader = new StreamReader(path, Encoding.UTF8);
            string[]? header = null;
            foreach (var record in CsvReader.Read(reader))
            {
                if (header is null)
                {
                    header = record.Fields;
                    continue;
                }

                yield return (record.Line, header.Select((h, i) => (h, v: record.Get(i))).ToDictionary(p => p.h, p => p.v, StringComparer.Ordinal));
            }
        }
    }

    /// <summary>A route's stop sequence and the departure times (seconds of the day) of its trips at each stop.</summary>
    private sealed record Pattern(string RouteId, IReadOnlyList<string> Stops, IReadOnlyList<int[]> Trips)
    {
        public int IndexOf(string stop)
        {
            for (var i = 0; i < Stops.Count; i++)
            {
                if (Stops[i] == stop)
                {
                    return i;
                }
            }

            return -1;
        }
    }
}
