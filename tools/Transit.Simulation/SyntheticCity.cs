using System.Globalization;
using System.Text;

namespace Transit.Simulation;

/// <summary>
/// The built-in demo city: a metro of two lines with tap-in/tap-out stations in two fare zones (operator
/// <c>metro</c>) and four bus routes on a grid (operator <c>bus</c>), with GTFS Fares v2 rules, transfers between
/// and within the networks, three rider categories and caps. <see cref="Write"/> produces a complete GTFS feed.
/// </summary>
public static class SyntheticCity
{
    public const string TimeZone = "Europe/Berlin";
    public const string Currency = "EUR";
    public const string MetroOperator = "metro";
    public const string BusOperator = "bus";

    private const double CenterLat = 52.2300;
    private const double CenterLon = 13.4000;
    private const double KmPerDegreeLat = 111.32;
    private static readonly double KmPerDegreeLon = 111.32 * Math.Cos(CenterLat * Math.PI / 180);

    /// <summary>Metro stations: id, name, x and y in km from the centre, fare zone.</summary>
    public static readonly IReadOnlyList<Place> Stations =
    [
        new("W1", "Westpark", -2, 0, "zone-a"),
        new("CEN", "Central", 0, 0, "zone-a"),
        new("E1", "Eastgate", 2, 0, "zone-b"),
        new("E2", "Harbour", 4, 0, "zone-b"),
        new("N1", "University", 0, 2, "zone-a"),
        new("S1", "Southfield", 0, -2, "zone-b"),
    ];

    /// <summary>Metro lines as station sequences.</summary>
    public static readonly IReadOnlyList<Line> MetroLines =
    [
        new("M1", "M1 Westpark – Harbour", 1, MetroOperator, ["W1", "CEN", "E1", "E2"], "E4002B"),
        new("M2", "M2 University – Southfield", 1, MetroOperator, ["N1", "CEN", "S1"], "0079C1"),
    ];

    /// <summary>Bus lines as stop sequences; stops every 500 m (stop ids encode their grid position).</summary>
    public static readonly IReadOnlyList<Line> BusLines =
    [
        new("B1", "B1 North Avenue", 3, BusOperator, Row("B1", y: 2, from: -4, to: 4), "FFB81C"),
        new("B2", "B2 South Avenue", 3, BusOperator, Row("B2", y: -2, from: -4, to: 4), "6CC24A"),
        new("B3", "B3 East Street", 3, BusOperator, Column("B3", x: 2, from: -4, to: 4), "8E44AD"),
        new("B4", "B4 West Street", 3, BusOperator, Column("B4", x: -2, from: -4, to: 4), "16A085"),
    ];

    /// <summary>Every bus stop with its position.</summary>
    public static IReadOnlyList<Place> BusStops { get; } = BuildBusStops();

    /// <summary>Maximum fare for a metro journey with no entry or no exit, in minor units.</summary>
    public const long MetroMaximumFare = 400;

    /// <summary>Writes the feed (GTFS + Fares v2 + fare_caps.txt) into <paramref name="directory"/>.</summary>
    public static void Write(string directory)
    {
        Directory.CreateDirectory(directory);
        void File(string name, string header, IEnumerable<string> rows) =>
            System.IO.File.WriteAllText(Path.Combine(directory, name), header + "\n" + string.Concat(rows.Select(r => r + "\n")), Encoding.UTF8);

        File("agency.txt", "agency_id,agency_name,agency_url,agency_timezone,agency_lang",
        [
            $"{MetroOperator},City Metro,https://metro.transit.example/,{TimeZone},en",
            $"{BusOperator},City Bus,https://bus.transit.example/,{TimeZone},en",
        ]);
        File("feed_info.txt", "feed_publisher_name,feed_publisher_url,feed_lang,feed_start_date,feed_end_date,feed_version",
            ["Transit synthetic city,https://transit.example/,en,20260101,20271231,1"]);
        File("calendar.txt", "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date",
            ["daily,1,1,1,1,1,1,1,20260101,20271231"]);
        File("routes.txt", "route_id,agency_id,route_short_name,route_long_name,route_type,route_color",
            MetroLines.Concat(BusLines).Select(l => $"{l.Id},{l.Operator},{l.Id},{l.Name},{l.RouteType},{l.Color}"));
        File("stops.txt", "stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station,zone_id", StopRows());
        File("trips.txt", "route_id,service_id,trip_id,direction_id", Trips().Select(t => $"{t.Line.Id},daily,{t.Id},{t.Direction}"));
        File("stop_times.txt", "trip_id,arrival_time,departure_time,stop_id,stop_sequence", StopTimeRows());

        File("networks.txt", "network_id,network_name", ["metro,City Metro", "bus,City Bus"]);
        File("route_networks.txt", "network_id,route_id", MetroLines.Concat(BusLines).Select(l => $"{(l.RouteType == 1 ? "metro" : "bus")},{l.Id}"));
        File("areas.txt", "area_id,area_name", ["zone-a,Zone A (centre)", "zone-b,Zone B (outer)"]);
        File("stop_areas.txt", "area_id,stop_id", Stations.Select(s => $"{s.Zone},{s.Id}"));
        File("fare_media.txt", "fare_media_id,fare_media_name,fare_media_type", ["ride-code,Transit ride code,4"]);
        File("rider_categories.txt", "rider_category_id,rider_category_name,is_default_fare_category,eligibility_url",
            ["adult,Adult,1,", "child,Child (6-14),0,", "senior,Senior (65+),0,"]);
        File("fare_products.txt", "fare_product_id,fare_product_name,rider_category_id,fare_media_id,amount,currency", ProductRows());
        File("fare_leg_rules.txt", "leg_group_id,network_id,from_area_id,to_area_id,fare_product_id",
        [
            "metro-1z,metro,zone-a,zone-a,metro-1z",
            "metro-1z,metro,zone-b,zone-b,metro-1z",
            "metro-2z,metro,zone-a,zone-b,metro-2z",
            "metro-2z,metro,zone-b,zone-a,metro-2z",
            "bus,bus,,,bus-single",
        ]);
        File("fare_transfer_rules.txt", "from_leg_group_id,to_leg_group_id,transfer_count,duration_limit,duration_limit_type,fare_transfer_type,fare_product_id",
        [
            "bus,bus,1,3600,1,0,transfer-free",
            "bus,metro-1z,,5400,1,0,transfer-to-metro",
            "bus,metro-2z,,5400,1,0,transfer-to-metro",
            "metro-1z,bus,,3600,2,0,transfer-free",
            "metro-2z,bus,,3600,2,0,transfer-free",
        ]);
        File("fare_caps.txt", "cap_id,cap_name,period_type,period_duration,amount,currency,ride_count,rider_category_id,fare_media_id,network_id,timeframe_group_id,day_start_time",
        [
            $"adult-day,Adult daily cap,0,,6.00,{Currency},,adult,,,,04:00:00",
            $"child-day,Child daily cap,0,,3.00,{Currency},,child,,,,04:00:00",
            $"senior-day,Senior daily cap,0,,3.00,{Currency},,senior,,,,04:00:00",
            $"adult-week,Adult weekly cap,1,,22.00,{Currency},,adult,,,,04:00:00",
        ]);
    }

    /// <summary>Distance in metres between two places of the city.</summary>
    public static double DistanceMeters(Place a, Place b) => Math.Sqrt(Math.Pow(a.X - b.X, 2) + Math.Pow(a.Y - b.Y, 2)) * 1000;

    /// <summary>Looks a station or bus stop up by id.</summary>
    public static Place PlaceOf(string id) =>
        Stations.FirstOrDefault(s => s.Id == id) ?? BusStops.FirstOrDefault(s => s.Id == id) ?? throw new KeyNotFoundException(id);

    private static IEnumerable<string> StopRows()
    {
        foreach (var s in Stations)
        {
            yield return $"{s.Id},{s.Name},{Lat(s.Y)},{Lon(s.X)},1,,{s.Zone}";
            foreach (var line in MetroLines.Where(l => l.Stops.Contains(s.Id)))
            {
                yield return $"{s.Id}-{line.Id},{s.Name} ({line.Id}),{Lat(s.Y)},{Lon(s.X)},0,{s.Id},{s.Zone}";
            }
        }

        foreach (var s in BusStops)
        {
            yield return $"{s.Id},{s.Name},{Lat(s.Y)},{Lon(s.X)},0,,";
        }
    }

    private static IEnumerable<string> ProductRows()
    {
        (string Id, string Name, long Adult)[] products =
        [
            ("metro-1z", "Metro one zone", 200),
            ("metro-2z", "Metro two zones", 280),
            ("bus-single", "Bus single ride", 160),
            ("transfer-to-metro", "Bus to metro transfer", 100),
        ];
        foreach (var (id, name, adult) in products)
        {
            yield return $"{id},{name},adult,ride-code,{Money(adult)},{Currency}";
            yield return $"{id},{name} (child),child,ride-code,{Money(adult / 2)},{Currency}";
            yield return $"{id},{name} (senior),senior,ride-code,{Money(adult / 2)},{Currency}";
        }

        yield return $"transfer-free,Free transfer,,ride-code,0.00,{Currency}";
    }

    /// <summary>Metro every 5 minutes and buses every 10, both directions, 05:00 to 24:00.</summary>
    public static IEnumerable<Trip> Trips()
    {
        foreach (var line in MetroLines.Concat(BusLines))
        {
            var headway = line.RouteType == 1 ? 5 : 10;
            for (var direction = 0; direction < 2; direction++)
            {
                for (var minute = 5 * 60; minute < 24 * 60; minute += headway)
                {
                    yield return new Trip($"{line.Id}-{direction}-{minute / 60:D2}{minute % 60:D2}", line, direction, minute);
                }
            }
        }
    }

    private static IEnumerable<string> StopTimeRows()
    {
        foreach (var trip in Trips())
        {
            var stops = trip.Direction == 0 ? trip.Line.Stops : trip.Line.Stops.Reverse().ToList();
            var perStop = trip.Line.RouteType == 1 ? 2 : 2;
            for (var i = 0; i < stops.Count; i++)
            {
                var stopId = trip.Line.RouteType == 1 ? $"{stops[i]}-{trip.Line.Id}" : stops[i];
                var time = Clock(trip.StartMinute + (i * perStop));
                yield return $"{trip.Id},{time},{time},{stopId},{i + 1}";
            }
        }
    }

    private static List<string> Row(string line, int y, int from, int to) =>
        [.. Enumerable.Range(0, ((to - from) * 2) + 1).Select(i => StopId(from + (i * 0.5), y))];

    private static List<string> Column(string line, int x, int from, int to) =>
        [.. Enumerable.Range(0, ((to - from) * 2) + 1).Select(i => StopId(x, from + (i * 0.5)))];

    /// <summary>Bus stop ids name their grid position in half-kilometres, so crossing routes share a stop.</summary>
    private static string StopId(double x, double y) =>
        string.Create(CultureInfo.InvariantCulture, $"BS{(int)Math.Round(x * 2) + 20:D2}{(int)Math.Round(y * 2) + 20:D2}");

    private static List<Place> BuildBusStops()
    {
        var stops = new Dictionary<string, Place>();
        foreach (var line in BusLines)
        {
            foreach (var id in line.Stops)
            {
                var x = (int.Parse(id.AsSpan(2, 2), CultureInfo.InvariantCulture) - 20) / 2.0;
                var y = (int.Parse(id.AsSpan(4, 2), CultureInfo.InvariantCulture) - 20) / 2.0;
                stops.TryAdd(id, new Place(id, string.Create(CultureInfo.InvariantCulture, $"Stop {x:+0.0;-0.0;0} / {y:+0.0;-0.0;0}"), x, y, null));
            }
        }

        return [.. stops.Values.OrderBy(s => s.Id, StringComparer.Ordinal)];
    }

    private static string Lat(double yKm) => (CenterLat + (yKm / KmPerDegreeLat)).ToString("F6", CultureInfo.InvariantCulture);

    private static string Lon(double xKm) => (CenterLon + (xKm / KmPerDegreeLon)).ToString("F6", CultureInfo.InvariantCulture);

    private static string Money(long minor) => (minor / 100m).ToString("F2", CultureInfo.InvariantCulture);

    private static string Clock(int minutes) => $"{minutes / 60:D2}:{minutes % 60:D2}:00";
}

/// <summary>A station or stop of the synthetic city, positioned in km from the centre.</summary>
public sealed record Place(string Id, string Name, double X, double Y, string? Zone);

/// <summary>A route: its stop (or station) sequence in direction 0.</summary>
public sealed record Line(string Id, string Name, int RouteType, string Operator, IReadOnlyList<string> Stops, string Color);

/// <summary>A scheduled trip.</summary>
public sealed record Trip(string Id, Line Line, int Direction, int StartMinute);
