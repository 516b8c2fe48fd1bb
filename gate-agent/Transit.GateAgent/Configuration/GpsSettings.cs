using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Transit.DeviceApi;

namespace Transit.GateAgent.Configuration;

/// <summary>
/// A serial NMEA 0183 GPS receiver that sets the stop of a bus validator (section <c>Gps</c>; off without a device).
/// </summary>
public sealed class GpsSettings
{
    /// <summary>TTY of the receiver, e.g. <c>/dev/ttyUSB0</c>; absent turns GPS off.</summary>
    public string? Device { get; set; }

    /// <summary>Line speed in baud (NMEA receivers default to 9600 or 4800).</summary>
    public int Baud { get; set; } = 9600;

    /// <summary>JSON file with an array of stops (same fields as <see cref="Stops"/>), e.g. derived from GTFS.</summary>
    public string? StopsFile { get; set; }

    /// <summary>Stops listed inline; used together with <see cref="StopsFile"/>.</summary>
    public List<GpsStop> Stops { get; set; } = [];

    /// <summary>The bus is at a stop within this many metres of it.</summary>
    public int SnapMeters { get; set; } = 60;

    /// <summary>
    /// The bus has left its stop beyond this many metres; coming back into that stop's radius then counts as a new
    /// arrival (it overrides a stop the driver console set meanwhile). Must not be less than <see cref="SnapMeters"/>.
    /// </summary>
    public int LeaveMeters { get; set; } = 120;

    /// <summary>Without a valid position for this many seconds the GPS is reported degraded.</summary>
    public int FixTimeoutSeconds { get; set; } = 5;

    /// <summary>Every problem with the section, each naming its setting.</summary>
    internal IEnumerable<string> Validate(GateSettings settings)
    {
        if (string.IsNullOrWhiteSpace(Device))
        {
            yield break;
        }

        if (!TapModes.TryParse(settings.Device.Mode, out var mode) || mode != TapMode.Bus)
        {
            yield return "Gps:Device is set but Device:Mode is not bus (only bus validators follow their stop by GPS)";
        }

        if (!SerialLineSpeeds.TryGet(Baud, out _))
        {
            yield return string.Create(CultureInfo.InvariantCulture, $"Gps:Baud {Baud} is not a standard line speed (e.g. 4800, 9600)");
        }

        if (SnapMeters is < 5 or > 1000)
        {
            yield return string.Create(CultureInfo.InvariantCulture, $"Gps:SnapMeters must be between 5 and 1000 (got {SnapMeters})");
        }

        if (LeaveMeters < SnapMeters || LeaveMeters > 5000)
        {
            yield return string.Create(CultureInfo.InvariantCulture, $"Gps:LeaveMeters must be between Gps:SnapMeters ({SnapMeters}) and 5000 (got {LeaveMeters})");
        }

        if (FixTimeoutSeconds is < 1 or > 600)
        {
            yield return string.Create(CultureInfo.InvariantCulture, $"Gps:FixTimeoutSeconds must be between 1 and 600 (got {FixTimeoutSeconds})");
        }

        if (!string.IsNullOrWhiteSpace(StopsFile) && !File.Exists(StopsFile))
        {
            yield return $"Gps:StopsFile: file {StopsFile} does not exist";
        }
        else if (string.IsNullOrWhiteSpace(StopsFile) && Stops.Count == 0)
        {
            yield return "Gps: no stops (set Gps:StopsFile or Gps:Stops; the bus can only snap to known stops)";
        }
    }

    /// <summary>The inline stops and those of <see cref="StopsFile"/>, each checked.</summary>
    /// <exception cref="GateConfigurationException">The file is unreadable or a stop is invalid; the message names it.</exception>
    internal List<GpsStop> LoadStops()
    {
        var all = new List<(GpsStop Stop, string Where)>();
        all.AddRange(Stops.Select((s, i) => (s, string.Create(CultureInfo.InvariantCulture, $"Gps:Stops:{i}"))));
        if (!string.IsNullOrWhiteSpace(StopsFile))
        {
            List<GpsStop>? fromFile;
            try
            {
                using var stream = File.OpenRead(StopsFile);
                fromFile = JsonSerializer.Deserialize(stream, GpsJson.Default.ListGpsStop);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
            {
                throw new GateConfigurationException($"Gps:StopsFile {StopsFile}: {ex.Message}", ex);
            }

            all.AddRange((fromFile ?? []).Select((s, i) => (s ?? new GpsStop(), string.Create(CultureInfo.InvariantCulture, $"Gps:StopsFile {StopsFile} entry {i}"))));
        }

        var errors = all.SelectMany(e => e.Stop.Problems().Select(p => $"{e.Where}: {p}")).ToList();
        if (errors.Count > 0)
        {
            throw new GateConfigurationException("invalid GPS stops:\n  " + string.Join("\n  ", errors.Take(20)));
        }

        return all.Select(e => e.Stop).ToList();
    }
}

/// <summary>One stop of a route pattern with its GTFS coordinates.</summary>
public sealed class GpsStop
{
    /// <summary>GTFS stop_id stamped on taps made there.</summary>
    [JsonPropertyName("stopId")]
    public string? StopId { get; set; }

    /// <summary>WGS 84 latitude in degrees (GTFS stop_lat).</summary>
    [JsonPropertyName("lat")]
    public double Lat { get; set; }

    /// <summary>WGS 84 longitude in degrees (GTFS stop_lon).</summary>
    [JsonPropertyName("lon")]
    public double Lon { get; set; }

    /// <summary>GTFS route_id whose patterns serve the stop; absent means every route.</summary>
    [JsonPropertyName("routeId")]
    public string? RouteId { get; set; }

    /// <summary>Position in the pattern (GTFS stop_sequence); breaks ties between equally near stops.</summary>
    [JsonPropertyName("sequence")]
    public int Sequence { get; set; }

    internal IEnumerable<string> Problems()
    {
        if (string.IsNullOrWhiteSpace(StopId) || StopId.Length > 64)
        {
            yield return "stopId is required (the GTFS stop_id, at most 64 characters)";
        }

        if (!double.IsFinite(Lat) || Lat is < -90 or > 90 || !double.IsFinite(Lon) || Lon is < -180 or > 180)
        {
            yield return string.Create(CultureInfo.InvariantCulture, $"lat {Lat} / lon {Lon} is not a position");
        }
        else if (Lat == 0 && Lon == 0)
        {
            // 0,0 is what a missing GTFS coordinate turns into; no bus stop is there.
            yield return "lat/lon 0,0 (missing coordinates?)";
        }
    }
}

/// <summary>JSON of the GPS stop file.</summary>
[JsonSourceGenerationOptions(ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true)]
[JsonSerializable(typeof(List<GpsStop>))]
internal sealed partial class GpsJson : JsonSerializerContext;
