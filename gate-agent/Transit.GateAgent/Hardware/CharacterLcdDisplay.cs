using System.Device.I2c;
using System.Drawing;
using System.Globalization;
using System.Text;
using Iot.Device.CharacterLcd;

using Transit.GateAgent.Configuration;

namespace Transit.GateAgent.Hardware;

/// <summary>
/// An HD44780 character LCD on an I²C backpack (PCF8574: RS, RW, E, backlight on P0–P3, D4–D7 on P4–P7), driven
/// through Iot.Device.CharacterLcd. The bus is slow (each character is four bus writes, about 0.8 ms at 100 kHz),
/// so a message is written by a thread of its own: the decision path only hands it over, and a message that is
/// replaced before it was written is skipped.
/// </summary>
internal sealed class CharacterLcdDisplay : ITextDisplay
{
    private readonly I2cDevice _device;
    private readonly Hd44780 _lcd;
    private readonly Size _size;
    private readonly Thread _writer;
    private readonly SemaphoreSlim _wake = new(0);
    private string? _pending;
    private volatile bool _stopping;

    private CharacterLcdDisplay(I2cDevice device, Hd44780 lcd, Size size)
    {
        _device = device;
        _lcd = lcd;
        _size = size;
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "character-lcd" };
        _writer.Start();
    }

    /// <summary>Opens the display at <paramref name="address"/> and initialises it (cleared, backlight on).</summary>
    /// <param name="address">The bus and address, as configured.</param>
    /// <param name="size">Columns and rows.</param>
    /// <param name="open">Opens the I²C device; <see cref="I2cDevice.Create"/> on a gate.</param>
    /// <exception cref="HardwareException">The bus does not exist or cannot be opened, or nothing answers at the address.</exception>
    public static CharacterLcdDisplay Open(LcdAddress address, Size size, Func<I2cConnectionSettings, I2cDevice> open)
    {
        var where = $"Hardware:DisplayDevice i2c:{address.Bus}:{address.AddressText}";
        I2cDevice device;
        try
        {
            device = open(new I2cConnectionSettings(address.Bus, address.Address));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            throw new HardwareException(
                $"{where}: the bus {address.BusDevice} cannot be opened: {ex.Message} " +
                "(list the buses with 'i2cdetect -l'; enable I²C on the board, e.g. dtparam=i2c_arm=on; the service user needs the group i2c)", ex);
        }

        try
        {
            // A PCF8574 backpack only ever takes writes, so the first write of the initialisation is the one that finds
            // out whether anything is at the address (the kernel reports the missing acknowledge as an I/O error).
            return new CharacterLcdDisplay(device, new Hd44780(size, LcdInterface.CreateI2c(device, uses8Bit: false)), size);
        }
        catch (IOException ex)
        {
            device.Dispose();
            throw new HardwareException(
                $"{where}: no display answers at address {address.AddressText} on {address.BusDevice}: {ex.Message} " +
                $"(list what answers with 'i2cdetect -y {address.Bus}'; PCF8574 backpacks are at 0x20-0x27, PCF8574A ones at 0x38-0x3f)", ex);
        }
    }

    /// <summary>
    /// Lays <paramref name="text"/> out on <paramref name="size"/>: the parts around " - " each start a row (the
    /// decision, then what to do: "Code expired" / "Refresh it"), words wrap, and every row is padded with spaces so
    /// that it overwrites what the previous message left. Only printable ASCII reaches the display.
    /// </summary>
    public static string[] Layout(string text, Size size)
    {
        var lines = new List<string>();
        foreach (var part in text.Split(" - ", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var first = lines.Count;
            var line = new StringBuilder();
            foreach (var word in Printable(part).Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                var rest = word;
                while (rest.Length > 0)
                {
                    if (line.Length > 0 && line.Length + 1 + Math.Min(rest.Length, size.Width) > size.Width)
                    {
                        lines.Add(line.ToString());
                        line.Clear();
                    }

                    if (line.Length > 0)
                    {
                        line.Append(' ');
                    }

                    var take = Math.Min(rest.Length, size.Width - line.Length);
                    line.Append(rest.AsSpan(0, take));
                    rest = rest[take..];
                }
            }

            if (line.Length > 0)
            {
                lines.Add(line.ToString());
            }

            if (lines.Count > first)
            {
                lines[first] = char.ToUpperInvariant(lines[first][0]) + lines[first][1..];
            }
        }

        return [.. Enumerable.Range(0, size.Height).Select(row => (row < lines.Count ? lines[row] : "").PadRight(size.Width))];
    }

    /// <inheritdoc />
    public void Show(string text)
    {
        Volatile.Write(ref _pending, text);
        _wake.Release();
    }

    /// <summary>Writes what is still pending, then releases the display (its text stays shown).</summary>
    public void Dispose()
    {
        _stopping = true;
        _wake.Release();
        _writer.Join(TimeSpan.FromSeconds(5));
        _lcd.Dispose();
        _device.Dispose();
        _wake.Dispose();
    }

    private static string Printable(string text) =>
        string.Create(text.Length, text, (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                span[i] = source[i] is >= ' ' and <= '~' ? source[i] : '?';
            }
        });

    private void WriteLoop()
    {
        while (true)
        {
            _wake.Wait();
            if (Interlocked.Exchange(ref _pending, null) is { } text)
            {
                try
                {
                    var rows = Layout(text, _size);
                    for (var row = 0; row < rows.Length; row++)
                    {
                        _lcd.SetCursorPosition(0, row);
                        _lcd.Write(rows[row]);
                    }
                }
                catch (IOException)
                {
                    // A display that went away must not stop the gate; the decision is journaled and the barrier
                    // works. The next message tries again.
                }
            }

            if (_stopping && Volatile.Read(ref _pending) is null)
            {
                return;
            }
        }
    }
}
