using System.Device.I2c;

namespace Transit.GateAgent.Tests.Infrastructure;

/// <summary>
/// An I²C device in memory that records every byte written to it, in order (as dotnet/iot's own binding tests do
/// with their mock devices); <see cref="Missing"/> makes every transfer fail as the kernel reports a device that
/// does not acknowledge its address.
/// </summary>
internal sealed class RecordingI2cDevice(I2cConnectionSettings settings) : I2cDevice
{
    private readonly Lock _lock = new();
    private readonly List<byte> _written = [];

    /// <summary>Nothing answers at the address: each transfer throws as UnixI2cDevice does on ENXIO.</summary>
    public bool Missing { get; init; }

    /// <summary>Whether the device was released.</summary>
    public bool Disposed { get; private set; }

    public override I2cConnectionSettings ConnectionSettings => settings;

    /// <summary>Every byte written so far, oldest first.</summary>
    public byte[] Written
    {
        get
        {
            lock (_lock)
            {
                return [.. _written];
            }
        }
    }

    public override byte ReadByte() => throw new IOException("a PCF8574 backpack is only written to");

    public override void Read(Span<byte> buffer) => throw new IOException("a PCF8574 backpack is only written to");

    public override void WriteByte(byte value) => Write([value]);

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (Missing)
        {
            throw new IOException($"Error 6 performing I2C data transfer to address 0x{settings.DeviceAddress:x2}");
        }

        lock (_lock)
        {
            _written.AddRange(buffer);
        }
    }

    public override void WriteRead(ReadOnlySpan<byte> writeBuffer, Span<byte> readBuffer) => throw new IOException("a PCF8574 backpack is only written to");

    protected override void Dispose(bool disposing)
    {
        Disposed = true;
        base.Dispose(disposing);
    }
}

/// <summary>
/// What an HD44780 behind a PCF8574 backpack shows after a byte stream: the controller latches D4–D7 (P4–P7) with RS
/// (P0) when E (P2) falls, two nibbles make one instruction or character, and the characters land in display RAM at
/// the address counter. Only what the gate sends is modelled: clear, home, entry mode, set DDRAM address, data.
/// </summary>
internal static class Hd44780Screen
{
    private const byte RegisterSelect = 0x01;
    private const byte Enable = 0x04;

    /// <summary>The rows shown on a display of <paramref name="columns"/> × <paramref name="rows"/>.</summary>
    public static string[] Rows(IReadOnlyList<byte> written, int columns, int rows)
    {
        var ram = Enumerable.Repeat((byte)' ', 128).ToArray();
        var address = 0;
        int? high = null;
        for (var i = 1; i < written.Count; i++)
        {
            if ((written[i - 1] & Enable) == 0 || (written[i] & Enable) != 0)
            {
                continue;
            }

            var nibble = written[i - 1] >> 4;
            if (high is not { } h)
            {
                high = nibble;
                continue;
            }

            high = null;
            var value = (byte)((h << 4) | nibble);
            if ((written[i - 1] & RegisterSelect) != 0)
            {
                ram[address] = value;
                address = (address + 1) & 0x7f;
            }
            else if (value >= 0x80)
            {
                address = value & 0x7f;
            }
            else if (value == 0x01)
            {
                Array.Fill(ram, (byte)' ');
                address = 0;
            }
            else if (value is 0x02 or 0x03)
            {
                address = 0;
            }
        }

        int[] offsets = [0x00, 0x40, columns, 0x40 + columns];
        return [.. Enumerable.Range(0, rows).Select(r => System.Text.Encoding.ASCII.GetString(ram, offsets[r], columns))];
    }
}
