using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Transit.GateAgent.Configuration;
using Transit.GateAgent.Gps;
using Transit.GateAgent.Journal;
using Transit.GateAgent.Tests.Infrastructure;
using Transit.GateAgent.Trust;

namespace Transit.GateAgent.Tests;

/// <summary>Bus validators follow their stop by GPS: NMEA parsing, snapping with hysteresis, lost fixes, the agent.</summary>
[Trait("Category", "Process")]
public sealed class GpsTests : IDisposable
{
    private static readonly string DataDirectory = Path.Combine(AppContext.BaseDirectory, "data", "nmea");
    private static readonly string StopsFile = Path.Combine(DataDirectory, "zakroczym-z1-stops.json");

    // Real stops of tests/data/gtfs/zakroczym: 100 Czarna and 101 Zaręby-Pętla are 776 m apart on route Z1.
    private static readonly (double Lat, double Lon) Czarna = (52.51630347749553, 20.608054161609914);
    private static readonly (double Lat, double Lon) Zareby = (52.50932811413766, 20.60805143052903);
    private static readonly (double Lat, double Lon) Between = ((Czarna.Lat + Zareby.Lat) / 2, Czarna.Lon);

    private readonly GateEnvironment _env = new();

    public void Dispose() => _env.Dispose();

    [Fact]
    public void Nmea_RecordedSentences_PositionsFixLossAndCorruptionRecognised()
    {
        Assert.True(Nmea.TryParse("$GPRMC,071500.00,A,5230.9782,N,02036.4832,E,0.0,0.0,021226,,,A*52", out var rmc, out _));
        Assert.Equal(("RMC", NmeaFix.Valid), (rmc.Type, rmc.Fix));
        Assert.InRange(StopSnapper.Distance(rmc.Latitude, rmc.Longitude, Czarna.Lat, Czarna.Lon), 0, 1);

        Assert.True(Nmea.TryParse(Sentence("GNGGA,071500.00,5230.9782,S,02036.4832,W,1,08,1.01,98.1,M,33.9,M,,"), out var south, out var e), e);
        Assert.Equal((-52.51630, -20.60805), (Math.Round(south.Latitude, 5), Math.Round(south.Longitude, 5)));

        Assert.True(Nmea.TryParse("$GPRMC,071700.00,V,,,,,0.0,0.0,021226,,,N*79", out var warning, out _));
        Assert.Equal(NmeaFix.Lost, warning.Fix);
        Assert.True(Nmea.TryParse("$GPGGA,071700.00,,,,,0,00,99.99,,,,,,*67", out var noFix, out _));
        Assert.Equal(NmeaFix.Lost, noFix.Fix);
        Assert.True(Nmea.TryParse("$GPGSV,2,1,08,01,40,083,46,02,17,308,41,12,07,344,39,14,22,228,45*75", out var satellites, out _));
        Assert.Equal(NmeaFix.None, satellites.Fix);

        // A corrupted byte, a wrong or missing checksum, minutes past 59, a latitude beyond 90° and a longitude beyond 180° are
        // refused (Iot.Device.Nmea0183 alone takes the missing checksum, the minutes and the longitude).
        Assert.False(Nmea.TryParse("$GPRMC,071500.00,A,5230.9782,N,02036.4833,E,0.0,0.0,021226,,,A*52", out _, out var corrupted));
        Assert.Contains("checksum", corrupted, StringComparison.Ordinal);
        Assert.False(Nmea.TryParse("$GPRMC,071631.00,A,5230.5597,N,02036.4831,E,0.0,0.0,021226,,,A*00", out _, out _));
        Assert.False(Nmea.TryParse("$GPRMC,071500.00,A,5230.9782,N,02036.4832,E,0.0,0.0,021226,,,A", out _, out _));
        Assert.False(Nmea.TryParse(Sentence("GPRMC,071500.00,A,5260.0000,N,02036.4832,E,0.0,0.0,021226,,,A"), out _, out _));
        Assert.False(Nmea.TryParse(Sentence("GPRMC,071500.00,A,9130.0000,N,02036.4832,E,0.0,0.0,021226,,,A"), out _, out _));
        Assert.False(Nmea.TryParse(Sentence("GPRMC,071500.00,A,5230.9782,N,18130.0000,E,0.0,0.0,021226,,,A"), out _, out _));
        Assert.False(Nmea.TryParse(Sentence("GPRMC,071500.00,A"), out _, out _));
        Assert.False(Nmea.TryParse("TR1:not a sentence", out _, out _));
    }

    [Fact]
    public void Snapper_NearestStopWithinRadius_SnapsAndKeepsItBetweenStops()
    {
        var snapper = Snapper();
        Assert.Null(snapper.Update(Between.Lat, Between.Lon, "Z1"));
        Assert.Null(snapper.HeldStopId);

        Assert.Equal("100", snapper.Update(Czarna.Lat + 0.0003, Czarna.Lon, "Z1"));
        Assert.Null(snapper.Update(Czarna.Lat, Czarna.Lon, "Z1"));

        // Waiting at a light halfway to the next stop: the bus is still at its last stop for the taps.
        Assert.Null(snapper.Update(Between.Lat, Between.Lon, "Z1"));
        Assert.Equal("100", snapper.HeldStopId);

        Assert.Equal("101", snapper.Update(Zareby.Lat, Zareby.Lon, "Z1"));
        Assert.Equal("101", snapper.HeldStopId);
    }

    [Fact]
    public void Snapper_OppositePlatformsJitter_HeldStopKeptUntilTheBusLeavesIt()
    {
        // Zakroczym Urząd Miejski 01 and 02 stand 17 m apart, inside each other's 60 m radius.
        GpsStop[] stops = [Stop("113", 52.43302298009019, 20.611806713998558, "Z1"), Stop("113-2", 52.433092329909236, 20.61203045726605, "Z1")];
        var snapper = new StopSnapper(stops, 60, 120);
        Assert.Equal("113", snapper.Update(52.43302298009019, 20.611806713998558, "Z1"));
        Assert.Null(snapper.Update(52.4330923, 20.6120304, "Z1"));
        Assert.Equal("113", snapper.HeldStopId);
    }

    [Fact]
    public void Snapper_LeftBeyondLeaveRadiusAndBack_ArrivesAgain_WithinItNot()
    {
        var snapper = Snapper();
        Assert.Equal("100", snapper.Update(Czarna.Lat, Czarna.Lon, "Z1"));

        // 90 m away: outside the snap radius but not gone (the bus pulled forward at the stop).
        Assert.Null(snapper.Update(Czarna.Lat - 0.00081, Czarna.Lon, "Z1"));
        Assert.Null(snapper.Update(Czarna.Lat, Czarna.Lon, "Z1"));

        // 388 m away and back (a loop): a new arrival, which overrides a stop the console set meanwhile.
        Assert.Null(snapper.Update(Between.Lat, Between.Lon, "Z1"));
        Assert.Equal("100", snapper.Update(Czarna.Lat, Czarna.Lon, "Z1"));
    }

    [Fact]
    public void Snapper_OtherRoutesStops_Ignored()
    {
        var snapper = new StopSnapper([Stop("101", Zareby.Lat, Zareby.Lon, "Z1"), Stop("Z2-101", Zareby.Lat, Zareby.Lon + 0.0001, "Z2")], 60, 120);
        Assert.Equal("Z2-101", snapper.Update(Zareby.Lat, Zareby.Lon + 0.0001, "Z2"));
        Assert.Equal("101", snapper.Update(Zareby.Lat, Zareby.Lon + 0.0001, "Z1"));
        Assert.False(snapper.Serves("Z3"));
    }

    [Fact]
    public void Tracker_LostFixSilenceAndConsole_StopKeptAndGpsDegraded()
    {
        var time = new ManualTime();
        using var journal = TapJournal.Open(_env.JournalPath, GateEnvironment.DeviceId);
        var state = GateState.Load(BusSettings(), journal.Documents, TimeProvider.System, NullLogger.Instance);
        var tracker = new GpsTracker(Snapper(), state, TimeSpan.FromSeconds(5), time, NullLogger.Instance);
        Assert.Equal(("degraded", "no position received yet"), (tracker.Health().Status, tracker.Health().Reason));

        tracker.Accept("$GPRMC,071500.00,A,5230.9782,N,02036.4832,E,0.0,0.0,021226,,,A*52");
        Assert.Equal(("100", "ok", "100"), (state.Context.StopId, tracker.Health().Status, tracker.Health().StopId));

        tracker.Accept("$GPRMC,071700.00,V,,,,,0.0,0.0,021226,,,N*79");
        Assert.Equal("100", state.Context.StopId);
        Assert.Equal("degraded", tracker.Health().Status);
        Assert.Contains("no fix", tracker.Health().Reason, StringComparison.Ordinal);

        tracker.Accept("$GPGGA,071630.00,5230.7689,N,02036.4832,E,1,08,1.01,98.1,M,33.9,M,,*60");
        Assert.Equal(("100", "ok"), (state.Context.StopId, tracker.Health().Status));
        time.Advance(TimeSpan.FromSeconds(6));
        Assert.Equal(("100", "degraded", "no position for 6 s"), (state.Context.StopId, tracker.Health().Status, tracker.Health().Reason));

        // The driver console's stop holds while the bus stays where it was, until it arrives at another stop.
        tracker.Accept("$GPRMC,071800.00,A,5230.5597,N,02036.4831,E,0.0,0.0,021226,,,A*56");
        Assert.Equal("101", state.Context.StopId);
        state.ChangeRoute(null, "CONSOLE-7");
        tracker.Accept("$GPRMC,071810.00,A,5230.5645,N,02036.4861,E,0.0,0.0,021226,,,A*5E");
        Assert.Equal(("CONSOLE-7", "Z1"), (state.Context.StopId, state.Context.RouteId));
        tracker.Accept("$GPRMC,072000.00,A,5229.6689,N,02035.6341,E,0.0,0.0,021226,,,A*57");
        Assert.Equal("102", state.Context.StopId);

        tracker.Accept("$GPRMC,072000.00,A,5229.6689,N,02035.6341,E,0.0,0.0,021226,,,A*58");
        Assert.Equal(1, tracker.Health().Rejected);
    }

    [Fact]
    public void Settings_GpsOnMetroGateOrBadRadiiOrBadStops_RefusedNamingTheSetting()
    {
        var settings = BusSettings();
        settings.Gps.Device = "/dev/ttyUSB0";
        settings.Gps.StopsFile = null;
        settings.Gps.LeaveMeters = 30;
        settings.Device.Mode = "metro-entry";
        settings.Device.StationId = "S01";
        var errors = GateSettingsLoader.Validate(settings);
        Assert.Contains(errors, e => e.StartsWith("Gps:Device is set but Device:Mode is not bus", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Gps:LeaveMeters must be between", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Gps: no stops", StringComparison.Ordinal));

        settings.Gps.Stops = [Stop("100", Czarna.Lat, Czarna.Lon, "Z1"), Stop("", 95, 20, null), Stop("X", 0, 0, null)];
        var error = Assert.Throws<GateConfigurationException>(settings.Gps.LoadStops);
        Assert.Contains("Gps:Stops:1: stopId is required", error.Message, StringComparison.Ordinal);
        Assert.Contains("Gps:Stops:1: lat 95 / lon 20 is not a position", error.Message, StringComparison.Ordinal);
        Assert.Contains("Gps:Stops:2: lat/lon 0,0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_RecordedNmeaThroughPseudoTerminal_TapsCarryTheSnappedStop()
    {
        await using var pty = await PseudoTerminalPair.StartAsync(_env.Directory, "GPS");
        var (receiver, feeder) = (pty.Device, pty.Feeder);
        var config = _env.WriteConfig(change: c =>
        {
            c["Device"] = new JsonObject { ["Id"] = GateEnvironment.DeviceId, ["OperatorId"] = "metro", ["Mode"] = "bus", ["RouteId"] = "Z1" };
            c["Verification"]!["PassbackSeconds"] = 0;
            c["Gps"] = new JsonObject { ["Device"] = receiver, ["Baud"] = 9600, ["StopsFile"] = StopsFile, ["SnapMeters"] = 60, ["LeaveMeters"] = 120, ["FixTimeoutSeconds"] = 600 };
        });
        await using var gate = await GateProcess.StartAsync(config);
        using var client = gate.Connect();
        await GateProcess.WaitUntilAsync(() => Task.FromResult(gate.Errors.Contains("gps:" + receiver, StringComparison.Ordinal)), TimeSpan.FromSeconds(10), "the GPS line to open");
        Assert.Equal("degraded", (await gate.HealthAsync()).GetProperty("gps").GetProperty("status").GetString());

        var segments = Segments(File.ReadAllText(Path.Combine(DataDirectory, "zakroczym-z1.nmea")));
        var rider = _env.Rider("alice");
        var now = GateEnvironment.Now();
        byte counter = 0;
        await using var tty = new FileStream(feeder, FileMode.Open, FileAccess.Write);
        async Task<JsonElement> Replay(string segment, long sentences)
        {
            await tty.WriteAsync(System.Text.Encoding.ASCII.GetBytes(segment));
            await tty.FlushAsync();
            await GateProcess.WaitUntilAsync(
                async () => (await gate.HealthAsync()).GetProperty("gps") is var g && g.GetProperty("sentences").GetInt64() + g.GetProperty("rejected").GetInt64() >= sentences,
                TimeSpan.FromSeconds(20), $"{sentences} GPS sentences");
            Assert.Equal("ok", (await client.TapAsync(rider.Show(now, counter++).ToText())).Reason);
            return (await gate.HealthAsync()).GetProperty("gps");
        }

        Assert.Equal("100", (await Replay(segments[0], 3)).GetProperty("stopId").GetString());
        var between = await Replay(segments[1], 6);
        Assert.Equal(("100", 1L), (between.GetProperty("stopId").GetString(), between.GetProperty("rejected").GetInt64()));
        var lost = await Replay(segments[2], 8);
        Assert.Equal(("degraded", "100"), (lost.GetProperty("status").GetString(), lost.GetProperty("stopId").GetString()));
        Assert.Equal("degraded", (await gate.HealthAsync()).GetProperty("status").GetString());
        Assert.Equal("ok", (await Replay(segments[3], 10)).GetProperty("status").GetString());
        Assert.Equal(200, (await gate.PostAsync("/control/route", """{"stopId":"CONSOLE-7"}""")).Status);
        await Replay(segments[4], 11);
        await Replay(segments[5], 12);

        var rows = TapJournal.ReadAll(_env.JournalPath).ToList();
        Assert.Equal(["100", "100", "100", "101", "CONSOLE-7", "102"], rows.Select(r => r.StopId));
        Assert.All(rows, r => Assert.Equal("Z1", r.RouteId));
    }

    private static List<string> Segments(string recording) =>
        recording.Split("\n# ", StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(s => string.Concat(s.Split('\n').Skip(1).Select(l => l.TrimEnd('\r') is { Length: > 0 } line ? line + "\r\n" : "")))
            .ToList();

    private static StopSnapper Snapper()
    {
        var settings = new GpsSettings { StopsFile = StopsFile };
        return new StopSnapper(settings.LoadStops(), settings.SnapMeters, settings.LeaveMeters);
    }

    private static GpsStop Stop(string id, double lat, double lon, string? route) => new() { StopId = id, Lat = lat, Lon = lon, RouteId = route };

    private static string Sentence(string body)
    {
        byte sum = 0;
        foreach (var c in body)
        {
            sum ^= (byte)c;
        }

        return $"${body}*{sum:X2}";
    }

    private GateSettings BusSettings()
    {
        var path = _env.WriteConfig(change: c =>
        {
            c["Device"] = new JsonObject { ["Id"] = GateEnvironment.DeviceId, ["OperatorId"] = "metro", ["Mode"] = "bus", ["RouteId"] = "Z1" };
            c["Gps"] = new JsonObject { ["Device"] = "/dev/null", ["StopsFile"] = StopsFile };
        });
        return GateSettingsLoader.Load(GateSettingsLoader.BuildConfiguration(path), _env.Directory);
    }

    private sealed class ManualTime : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }
}
