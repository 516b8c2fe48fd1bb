using System.Drawing;
using System.Globalization;

namespace Transit.GateAgent.Configuration;

/// <summary>
/// Where <c>Hardware:DisplayDevice</c> names an I²C character LCD: <c>i2c:&lt;bus&gt;:&lt;address&gt;</c>, e.g.
/// <c>i2c:1:0x27</c> for an HD44780 behind a PCF8574 backpack on /dev/i2c-1.
/// </summary>
internal readonly record struct LcdAddress(int Bus, int Address)
{
    private const string Prefix = "i2c:";

    /// <summary>The device node of the bus.</summary>
    public string BusDevice => string.Create(CultureInfo.InvariantCulture, $"/dev/i2c-{Bus}");

    /// <summary>The address as <c>i2cdetect</c> prints it.</summary>
    public string AddressText => string.Create(CultureInfo.InvariantCulture, $"0x{Address:x2}");

    /// <summary>Whether <paramref name="device"/> is meant as an I²C display rather than a TTY or file.</summary>
    public static bool IsLcd(string device) => device.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>Reads <c>i2c:&lt;bus&gt;:&lt;address&gt;</c>; the address in hex (<c>0x27</c>) or decimal.</summary>
    /// <exception cref="FormatException">Not that form, or the address is outside the 7-bit range 0x03–0x77.</exception>
    public static LcdAddress Parse(string device)
    {
        var parts = device.Split(':');
        if (parts.Length != 3 || parts[0] + ":" != Prefix
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var bus) || bus > 255
            || !TryAddress(parts[2], out var address))
        {
            throw new FormatException(
                $"Hardware:DisplayDevice '{device}' is not an I²C display (expected i2c:<bus>:<address> with a 7-bit address 0x03-0x77, e.g. i2c:1:0x27)");
        }

        return new LcdAddress(bus, address);
    }

    /// <summary>Reads <c>Hardware:DisplaySize</c>: <c>&lt;columns&gt;x&lt;rows&gt;</c>, 8–40 columns, 1, 2 or 4 rows.</summary>
    /// <exception cref="FormatException">Not that form, or a size the HD44780 cannot address.</exception>
    public static Size ParseSize(string size)
    {
        var parts = size.Split('x');
        if (parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var columns) && columns is >= 8 and <= 40
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var rows) && rows is 1 or 2 or 4
            && columns * rows <= 80)
        {
            return new Size(columns, rows);
        }

        throw new FormatException($"Hardware:DisplaySize '{size}' is not a character display size (expected <columns>x<rows>, e.g. 16x2 or 20x4)");
    }

    private static bool TryAddress(string text, out int address)
    {
        var hex = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase);
        var parsed = int.TryParse(hex ? text.AsSpan(2) : text, hex ? NumberStyles.AllowHexSpecifier : NumberStyles.None, CultureInfo.InvariantCulture, out address);

        // 0x00-0x02 and 0x78-0x7f are reserved by the I²C specification; no display answers there.
        return parsed && address is >= 0x03 and <= 0x77;
    }
}
