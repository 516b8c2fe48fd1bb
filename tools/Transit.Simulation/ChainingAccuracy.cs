using System.Globalization;
using System.Text;
using Transit.Analytics;
using Transit.Analytics.Chaining;
using Transit.Analytics.Gtfs;
using Transit.DeviceApi;

namespace Transit.Simulation;

/// <summary>How often trip chaining gave one (segment, mode) group's legs a destination, and how often the right one.</summary>
/// <param name="Segment">The riders' segment, or null for every segment.</param>
/// <param name="Mode"><c>metro</c>, <c>bus</c>, or null for both.</param>
/// <param name="Legs">True legs whose boarding analytics saw.</param>
/// <param name="Inferred">Legs given a destination (a metro exit tap counts).</param>
/// <param name="Right">Legs whose destination is the true one (the same stop or station).</param>
/// <param name="Unresolved">Legs left without destination, by reason.</param>
public sealed record AccuracyCell(Segment? Segment, string? Mode, int Legs, int Inferred, int Right, IReadOnlyDictionary<Unresolved, int> Unresolved)
{
    /// <summary>Share of the legs given a destination.</summary>
    public double InferredShare => Legs == 0 ? double.NaN : Inferred / (double)Legs;

    /// <summary>Share of the inferred destinations that are right.</summary>
    public double RightShare => Inferred == 0 ? double.NaN : Right / (double)Inferred;
}

/// <summary>
/// Trip chaining measured against the simulation's ground truth: each planned day's taps that the gates accept are
/// chained by the same <see cref="TripChainer"/> clearing's analytics runs, and each leg's inferred destination is
/// compared with the stop the rider really got off at, by segment and by mode. It needs no gates or database: the
/// gates' decisions are the plan's expected ones (the simulation checks elsewhere that the gates answer exactly those).
/// </summary>
public sealed class ChainingAccuracy(string city, int riders, int seed, DateOnly firstDay, int days)
{
    private readonly Dictionary<(Segment, string), Counts> _cells = [];

    public string City => city;

    public int Riders => riders;

    public int Seed => seed;

    public DateOnly FirstDay => firstDay;

    public int Days => days;

    /// <summary>Rider-days whose chained legs could not be paired with the true legs (different counts or origins); zero when the harness is sound.</summary>
    public int UnmatchedRiderDays { get; private set; }

    /// <summary>One cell per segment and mode with legs, segments in order, metro before bus.</summary>
    public IReadOnlyList<AccuracyCell> Cells =>
        [.. _cells.OrderBy(c => c.Key.Item1).ThenByDescending(c => c.Key.Item2, StringComparer.Ordinal).Select(c => c.Value.Cell(c.Key.Item1, c.Key.Item2))];

    /// <summary>Every segment of one mode (or of both when <paramref name="mode"/> is null).</summary>
    public AccuracyCell Total(string? mode) => Sum(null, mode, _cells.Where(c => mode is null || c.Key.Item2 == mode).Select(c => c.Value));

    /// <summary>Both modes of one segment.</summary>
    public AccuracyCell Total(Segment segment) => Sum(segment, null, _cells.Where(c => c.Key.Item1 == segment).Select(c => c.Value));

    /// <summary>Plays <paramref name="days"/> days of <paramref name="riders"/> riders of <paramref name="city"/> and chains them.</summary>
    public static ChainingAccuracy Measure(CityModel city, int riders, int seed, DateOnly firstDay, int days = 1, AnalyticsOptions? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(riders);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(days);
        var directory = Path.Combine(Path.GetTempPath(), "transit-accuracy-" + Guid.NewGuid().ToString("N"));
        try
        {
            city.WriteFeed(directory);
            var network = TransitNetwork.Load(directory);
            options = (options ?? new AnalyticsOptions()) with { TimeZone = TimeZoneInfo.FindSystemTimeZoneById(city.TimeZone) };
            var chainer = new TripChainer(network, options);
            var population = city.Riders(riders, seed);
            var result = new ChainingAccuracy(city.Name, riders, seed, firstDay, days);
            for (var d = 0; d < days; d++)
            {
                result.Add(city, chainer, city.PlanDay(population, firstDay.AddDays(d), seed, blocked: null));
            }

            return result;
        }
        finally
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    private void Add(CityModel city, TripChainer chainer, DayPlan plan)
    {
        var slots = city.Slots.ToDictionary(s => s.Key, StringComparer.Ordinal);
        var riders = plan.Riders.ToDictionary(r => r.Account, StringComparer.Ordinal);
        var zone = chainer.Options.TimeZone;
        var truth = plan.Legs.ToLookup(l => l.Account, StringComparer.Ordinal);
        foreach (var day in plan.Taps.Where(t => t.ExpectedReason == "ok").GroupBy(t => t.Account, StringComparer.Ordinal))
        {
            var rider = riders[day.Key];
            var taps = day.Select(t =>
            {
                var slot = slots[t.DeviceKey];
                if (!TapModes.TryParse(slot.Mode, out var mode))
                {
                    throw new InvalidOperationException($"device slot {slot.Key} has mode '{slot.Mode}', not a device API mode");
                }

                return new AnalyticsTap(0, new DateTimeOffset(t.At, zone.GetUtcOffset(t.At)), mode, slot.OperatorId, t.StopId, slot.RouteId, true, "ok", rider.Category);
            });
            var legs = chainer.Chain(0, plan.Date, taps);
            var trueLegs = truth[day.Key].OrderBy(l => l.Start).ToList();
            if (legs.Count != trueLegs.Count || legs.Zip(trueLegs).Any(p => p.First.Origin != p.Second.FromStop))
            {
                UnmatchedRiderDays++;
                continue;
            }

            foreach (var (leg, trueLeg) in legs.Zip(trueLegs))
            {
                var key = (rider.Segment, trueLeg.Mode);
                if (!_cells.TryGetValue(key, out var counts))
                {
                    _cells[key] = counts = new Counts();
                }

                counts.Add(leg, trueLeg);
            }
        }
    }

    /// <summary>The table of <see cref="Cells"/> with totals per segment and per mode, as printed by <c>transit sim --accuracy</c>.</summary>
    public string Format()
    {
        var sb = new StringBuilder();
        sb.AppendLine(Invariant($"Trip chaining against the ground truth: {City}; {Riders:N0} riders, seed {Seed}, {Days} day(s) from {FirstDay:yyyy-MM-dd} ({FirstDay.DayOfWeek})"));
        sb.AppendLine(Invariant($"{"segment",-12} {"mode",-6} {"legs",8} {"given a destination",20} {"right of those",15}   without destination (single boarding / too far / unknown stop)"));
        foreach (var cell in Cells.Concat(Enum.GetValues<Segment>().Where(s => _cells.Keys.Any(k => k.Item1 == s)).Select(Total)).Concat([Total("metro"), Total("bus"), Total((string?)null)]))
        {
            var missing = string.Join(" / ", new[] { Transit.Analytics.Chaining.Unresolved.SingleBoarding, Transit.Analytics.Chaining.Unresolved.TooFar, Transit.Analytics.Chaining.Unresolved.UnknownStop }.Select(u => cell.Unresolved.GetValueOrDefault(u).ToString("N0", CultureInfo.InvariantCulture)));
            sb.AppendLine(Invariant($"{cell.Segment?.ToString() ?? "all",-12} {cell.Mode ?? "all",-6} {cell.Legs,8:N0} {Percent(cell.InferredShare),20} {Percent(cell.RightShare),15}   {missing}"));
        }

        if (UnmatchedRiderDays > 0)
        {
            sb.AppendLine(Invariant($"{UnmatchedRiderDays:N0} rider-days could not be paired with their true legs and are left out"));
        }

        return sb.ToString();
    }

    private static AccuracyCell Sum(Segment? segment, string? mode, IEnumerable<Counts> counts)
    {
        var all = new Counts();
        foreach (var c in counts)
        {
            all.Merge(c);
        }

        return all.Cell(segment, mode);
    }

    private static string Percent(double share) => double.IsNaN(share) ? "—" : (100 * share).ToString("F1", CultureInfo.InvariantCulture) + " %";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private sealed class Counts
    {
        private readonly Dictionary<Unresolved, int> _unresolved = [];
        private int _legs;
        private int _inferred;
        private int _right;

        public void Add(RiderLeg leg, TrueLeg truth)
        {
            _legs++;
            if (leg.Destination is null)
            {
                _unresolved[leg.Unresolved] = _unresolved.GetValueOrDefault(leg.Unresolved) + 1;
                return;
            }

            _inferred++;
            _right += leg.Destination == truth.ToStop ? 1 : 0;
        }

        public void Merge(Counts other)
        {
            (_legs, _inferred, _right) = (_legs + other._legs, _inferred + other._inferred, _right + other._right);
            foreach (var (reason, n) in other._unresolved)
            {
                _unresolved[reason] = _unresolved.GetValueOrDefault(reason) + n;
            }
        }

        public AccuracyCell Cell(Segment? segment, string? mode) => new(segment, mode, _legs, _inferred, _right, new Dictionary<Unresolved, int>(_unresolved));
    }
}
