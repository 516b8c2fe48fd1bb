namespace Transit.Simulation;

/// <summary>A kind of device riders tap at; the simulation places one or more devices of each.</summary>
/// <param name="Key">The <see cref="PlannedTap.DeviceKey"/> of taps at it: <c>STATION/entry</c>, <c>STATION/exit</c> or <c>bus/ROUTE</c>.</param>
/// <param name="OperatorId">GTFS agency_id of the devices' operator.</param>
/// <param name="Mode"><c>metro-entry</c>, <c>metro-exit</c> or <c>bus</c>.</param>
/// <param name="StationId">The station of a metro gate.</param>
/// <param name="RouteId">The route of a bus validator.</param>
/// <param name="FirstStopId">Where a bus validator starts (its stop then changes with each boarding).</param>
public sealed record DeviceSlot(string Key, string OperatorId, string Mode, string? StationId, string? RouteId, string? FirstStopId);

/// <summary>A city the simulation can play: its GTFS feed, where riders tap, and its riders' days.</summary>
public abstract class CityModel
{
    /// <summary>The built-in synthetic city (<see cref="SyntheticCity"/>, <see cref="Population"/>) with the realistic population.</summary>
    public static CityModel Synthetic { get; } = new SyntheticCityModel(PopulationModel.Realistic);

    /// <summary>The synthetic city populated by <paramref name="model"/>.</summary>
    public static CityModel SyntheticWith(PopulationModel model) => model == PopulationModel.Realistic ? Synthetic : new SyntheticCityModel(model);

    /// <summary>A short description for progress displays.</summary>
    public abstract string Name { get; }

    /// <summary>IANA time zone of the feed's service days; planned times are local to it.</summary>
    public abstract string TimeZone { get; }

    /// <summary>Where riders tap.</summary>
    public abstract IReadOnlyList<DeviceSlot> Slots { get; }

    /// <summary>Fare of an incomplete journey per network, in minor units (clearing's <c>MaximumFares</c>).</summary>
    public abstract IReadOnlyDictionary<string, long> MaximumFares { get; }

    /// <summary>Writes the city's GTFS feed (with Fares v2) into <paramref name="directory"/>.</summary>
    public abstract void WriteFeed(string directory);

    /// <summary>The riders: the same on every day for a seed.</summary>
    public abstract IReadOnlyList<Rider> Riders(int count, int seed);

    /// <summary>Plans one service day; accounts in <paramref name="blocked"/> are blocked riders on it.</summary>
    public abstract DayPlan PlanDay(IReadOnlyList<Rider> riders, DateOnly date, int seed, IReadOnlySet<string>? blocked);

    /// <summary>Loads a GTFS feed with trips and stop times (<see cref="FeedCity"/>), populated by <paramref name="model"/>.</summary>
    public static CityModel FromFeed(string directory, PopulationModel model = PopulationModel.Realistic) => FeedCity.Load(directory, model);

    private sealed class SyntheticCityModel(PopulationModel model) : CityModel
    {
        public override string Name => "synthetic city (metro: 6 stations, 2 zones; bus: 4 routes)";

        public override string TimeZone => SyntheticCity.TimeZone;

        public override IReadOnlyList<DeviceSlot> Slots { get; } =
        [
            .. SyntheticCity.Stations.SelectMany(s => new[]
            {
                new DeviceSlot($"{s.Id}/entry", SyntheticCity.MetroOperator, "metro-entry", s.Id, null, null),
                new DeviceSlot($"{s.Id}/exit", SyntheticCity.MetroOperator, "metro-exit", s.Id, null, null),
            }),
            .. SyntheticCity.BusLines.Select(l => new DeviceSlot($"bus/{l.Id}", SyntheticCity.BusOperator, "bus", null, l.Id, l.Stops[0])),
        ];

        public override IReadOnlyDictionary<string, long> MaximumFares { get; } =
            new Dictionary<string, long> { ["metro"] = SyntheticCity.MetroMaximumFare };

        public override void WriteFeed(string directory) => SyntheticCity.Write(directory);

        public override IReadOnlyList<Rider> Riders(int count, int seed) =>
            model == PopulationModel.Realistic ? Population.RealisticRiders(count, seed) : Population.Riders(count, seed);

        public override DayPlan PlanDay(IReadOnlyList<Rider> riders, DateOnly date, int seed, IReadOnlySet<string>? blocked) =>
            model == PopulationModel.Realistic ? Population.PlanRealisticDay(riders, date, seed, blocked) : Population.PlanDay(riders, date, seed, blocked);
    }
}
