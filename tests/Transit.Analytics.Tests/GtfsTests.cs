using Transit.Analytics.Gtfs;

namespace Transit.Analytics.Tests;

public sealed class GtfsTests(SimulatedCity city) : IClassFixture<SimulatedCity>
{
    [Fact]
    public void Load_SyntheticCity_BuildsOnePatternPerRouteDirection()
    {
        Assert.Equal(12, city.Network.Patterns.Count);
        var b1 = city.Network.PatternsOf("B1");
        Assert.Equal(2, b1.Count);
        Assert.Equal(b1[0].StopIds.Reverse(), b1[1].StopIds);
        Assert.Equal(0, b1[0].Offsets[0]);
        Assert.Equal(120, b1[0].Offsets[1]);
        Assert.Equal(114, b1[0].Trips.Count);
        Assert.Equal(["CEN", "E1", "E2", "N1", "S1", "W1"], city.Network.StationsOf("metro").Order());
    }

    [Fact]
    public void DistanceMeters_GridStopsHalfAKilometreApart_IsAboutFiveHundred()
    {
        Assert.InRange(city.Network.DistanceMeters("BS1624", "BS1724")!.Value, 498, 502);
        Assert.Equal(0, city.Network.DistanceMeters("CEN-M1", "CEN"));
    }

    [Fact]
    public void Load_MessyFeed_ToleratesBomQuotesExtraColumnsAndMissingTimes()
    {
        var dir = Directory.CreateTempSubdirectory("gtfs-messy").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "stops.txt"), "\uFEFFstop_id, stop_name ,stop_lat,stop_lon,extra\r\nA,\"Main St, North\",52.0,13.0,x\r\nB,B,52.001,13.0,\r\n\r\nC,C,52.002,13.0,y\r\n");
            File.WriteAllText(Path.Combine(dir, "routes.txt"), "route_id,route_type,route_short_name,network_id\n7,3,7,n\n");
            File.WriteAllText(Path.Combine(dir, "trips.txt"), "route_id,service_id,trip_id\n7,s,t1\n7,s,t2\n");
            File.WriteAllText(Path.Combine(dir, "stop_times.txt"), "trip_id,arrival_time,departure_time,stop_id,stop_sequence\nt1,25:00:00,25:00:00,A,1\nt1,,,B,2\nt1,25:10:00,25:10:00,C,3\nt2,06:00:00,06:00:00,A,1\nt2,,,B,2\nt2,06:10:00,06:10:00,C,3\n");
            var network = TransitNetwork.Load(dir);
            Assert.Equal("Main St, North", network.Stop("A")!.Name);
            var pattern = Assert.Single(network.Patterns);
            Assert.Equal(["A", "B", "C"], pattern.StopIds);
            Assert.Equal([0, 300, 600], pattern.Offsets);
            Assert.Equal(["t2", "t1"], pattern.Trips.Select(t => t.TripId));
            Assert.Equal("", network.Route("7")!.AgencyId);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void NearestTrip_TapBetweenDepartures_PicksTheCloserOne()
    {
        var pattern = city.Network.PatternsOf("B1")[0];

        // Trips leave the first stop every 10 minutes from 05:00; stop 3 is 4 minutes in.
        Assert.Equal("B1-0-0800", pattern.NearestTrip(2, (8 * 3600) + (4 * 60) + 30)!.Value.TripId);
        Assert.Equal("B1-0-0810", pattern.NearestTrip(2, (8 * 3600) + (11 * 60))!.Value.TripId);
    }
}
