using System.Globalization;

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
/// Parses the two NMEA 0183 position sentences a bus needs, RMC and GGA, from any talker (GP, GN, GL, GA, BD).
/// The receiver is a device on a serial line: every sentence must carry a correct checksum, and a field that is
/// out of range makes the sentence invalid rather than a position in the sea.
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
        if (star < 6 || star != line.Length - 3
            || !byte.TryParse(line.AsSpan(star + 1), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var expected))
        {
            error = "no *hh checksum";
            return false;
        }

        byte sum = 0;
        foreach (var c in line.AsSpan(1, star - 1))
        {
            if (c is < ' ' or > '~')
            {
                error = "control or non-ASCII character";
                return false;
            }

            sum ^= (byte)c;
        }

        if (sum != expected)
        {
            error = string.Create(CultureInfo.InvariantCulture, $"checksum {expected:X2} does not match {sum:X2}");
            return false;
        }

        var fields = line[1..star].Split(',');
        if (fields[0].Length != 5)
        {
            error = "address field is not talker + sentence type";
            return false;
        }

        var type = fields[0][2..];
        var fix = type switch
        {
            "RMC" when fields.Length >= 7 => Rmc(fields),
            "GGA" when fields.Length >= 7 => Gga(fields),
            "RMC" or "GGA" => (NmeaFix?)null,
            _ => NmeaFix.None,
        };
        if (fix is null)
        {
            error = $"{type} with missing fields";
            return false;
        }

        if (fix == NmeaFix.Valid)
        {
            var (latField, lonField) = type == "RMC" ? (3, 5) : (2, 4);
            if (!TryCoordinate(fields[latField], fields[latField + 1], 2, 'N', 'S', 90, out var lat)
                || !TryCoordinate(fields[lonField], fields[lonField + 1], 3, 'E', 'W', 180, out var lon))
            {
                error = $"{type} position is not ddmm.mmmm,N|S,dddmm.mmmm,E|W";
                return false;
            }

            sentence = new NmeaSentence(type, NmeaFix.Valid, lat, lon);
            return true;
        }

        sentence = new NmeaSentence(type, fix.Value, double.NaN, double.NaN);
        return true;
    }

    // $--RMC,time,status,lat,N,lon,E,speed,course,date,variation,E,mode: status A valid, V warning; mode N no fix.
    private static NmeaFix Rmc(string[] f) =>
        f[2] == "A" && !(f.Length >= 13 && f[12] == "N") ? NmeaFix.Valid : NmeaFix.Lost;

    // $--GGA,time,lat,N,lon,E,quality,…: 0 invalid, 7 manual input and 8 simulator are no position of the bus.
    private static NmeaFix Gga(string[] f) =>
        f[6] is "1" or "2" or "3" or "4" or "5" or "6" ? NmeaFix.Valid : NmeaFix.Lost;

    private static bool TryCoordinate(string value, string hemisphere, int degreeDigits, char positive, char negative, int limit, out double degrees)
    {
        degrees = double.NaN;
        if (value.Length < degreeDigits + 2 || value.IndexOf('.', StringComparison.Ordinal) != degreeDigits + 2 && value.Contains('.', StringComparison.Ordinal)
            || !int.TryParse(value.AsSpan(0, degreeDigits), NumberStyles.None, CultureInfo.InvariantCulture, out var whole)
            || !double.TryParse(value.AsSpan(degreeDigits), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var minutes)
            || minutes >= 60 || hemisphere.Length != 1 || (hemisphere[0] != positive && hemisphere[0] != negative))
        {
            return false;
        }

        degrees = whole + (minutes / 60);
        if (degrees > limit)
        {
            return false;
        }

        if (hemisphere[0] == negative)
        {
            degrees = -degrees;
        }

        return true;
    }
}
