using System.Globalization;
using Iot.Device.Common;
using Iot.Device.Nmea0183;
using Iot.Device.Nmea0183.Sentences;

namespace Transit.GateAgent.Gps;

/// <summary>What one NMEA sentence says about the position.</summary>
public enum NmeaFix
{
    /// <summary>Valid, but not a position sentence (GSV, GSA, VTG, …): says nothing about the fix.</summary>
    None,

    /// <summary>A position the receiver marks as valid.</summary>
    Valid,

    /// <summary>The receiver says it has no fix (RMC status V or mode N, GGA quality 0, 7 or 8).</summary>
    Lost,
}

/// <summary>A parsed NMEA 0183 sentence; the position is set only for <see cref="NmeaFix.Valid"/>.</summary>
public readonly record struct NmeaSentence(string Type, NmeaFix Fix, double Latitude, double Longitude);

/// <summary>
/// Reads the two NMEA 0183 position sentences a bus needs, RMC and GGA, from any talker (GP, GN, GL, GA, BD), with
/// Iot.Device.Nmea0183 (Iot.Device.Bindings). The receiver is a device on a serial line, so a sentence passes
/// stricter checks than the library's before it counts: a checksum is required (the library takes a sentence
/// without one), only printable ASCII, and a coordinate field must be ddmm.mmmm with minutes below 60 and within
/// ±90°/±180° (the library turns latitude 5260.0000 into 53° and longitude 18130.0000 into 181.5°, a position in the
/// wrong place or off the globe; it refuses only latitudes beyond 90.1°).
/// </summary>
public static class Nmea
{
    /// <summary>NMEA 0183 limits a sentence to 82 characters; longer lines are noise.</summary>
    public const int MaxSentence = 82;

    /// <summary>Parses one line (without CR LF); false with a reason when it is not a valid sentence.</summary>
    public static bool TryParse(string line, out NmeaSentence sentence, out string error)
    {
        sentence = default;
        error = "";
        if (line.Length is < 10 or > MaxSentence || line[0] != '$')
        {
            error = "not an NMEA sentence ($…*hh, at most 82 characters)";
            return false;
        }

        var star = line.LastIndexOf('*');
        if (star < 6 || star != line.Length - 3 || !byte.TryParse(line.AsSpan(star + 1), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out _))
        {
            error = "no *hh checksum";
            return false;
        }

        if (line.AsSpan().ContainsAnyExceptInRange(' ', '~'))
        {
            error = "control or non-ASCII character";
            return false;
        }

        var talker = TalkerSentence.FromSentenceString(line, out var nmeaError);
        if (talker is null || nmeaError != NmeaError.None)
        {
            error = nmeaError == NmeaError.InvalidChecksum ? "checksum does not match" : $"not a sentence ({nmeaError})";
            return false;
        }

        var type = talker.Id.ToString();
        if (type is not ("RMC" or "GGA"))
        {
            sentence = new NmeaSentence(type, NmeaFix.None, double.NaN, double.NaN);
            return true;
        }

        // The library dates a sentence that carries only a time of day with the last one's day; only the position matters here.
        var lastTime = DateTimeOffset.UnixEpoch;
        var fields = talker.Fields.ToArray();
        var (fix, position, latField) = talker.TryGetTypedValue(ref lastTime) switch
        {
            RecommendedMinimumNavigationInformation rmc when fields.Length >= 6 =>
                (rmc.Status == NavigationStatus.Valid && rmc.Status2 != (NavigationStatus)'N' ? NmeaFix.Valid : NmeaFix.Lost, rmc.Position, 2),
            GlobalPositioningSystemFixData gga when fields.Length >= 6 =>
                (gga.Status is >= GpsQuality.Fix and <= GpsQuality.Estimated ? NmeaFix.Valid : NmeaFix.Lost, gga.Position, 1),
            _ => ((NmeaFix?)null, (GeographicPosition?)null, 0),
        };
        if (fix is null)
        {
            error = $"{type} with missing or unreadable fields";
            return false;
        }

        if (fix == NmeaFix.Lost)
        {
            sentence = new NmeaSentence(type, NmeaFix.Lost, double.NaN, double.NaN);
            return true;
        }

        if (position is null || !WellFormed(fields[latField], fields[latField + 1], 2, 'N', 'S', 90)
            || !WellFormed(fields[latField + 2], fields[latField + 3], 3, 'E', 'W', 180))
        {
            error = $"{type} position is not ddmm.mmmm,N|S,dddmm.mmmm,E|W";
            return false;
        }

        sentence = new NmeaSentence(type, NmeaFix.Valid, position.Latitude, position.Longitude);
        return true;
    }

    private static bool WellFormed(string value, string hemisphere, int degreeDigits, char positive, char negative, int limit) =>
        value.Length >= degreeDigits + 2
        && (value.IndexOf('.', StringComparison.Ordinal) == degreeDigits + 2 || !value.Contains('.', StringComparison.Ordinal))
        && int.TryParse(value.AsSpan(0, degreeDigits), NumberStyles.None, CultureInfo.InvariantCulture, out var whole)
        && double.TryParse(value.AsSpan(degreeDigits), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var minutes)
        && minutes < 60 && whole + (minutes / 60) <= limit
        && hemisphere.Length == 1 && (hemisphere[0] == positive || hemisphere[0] == negative);
}
