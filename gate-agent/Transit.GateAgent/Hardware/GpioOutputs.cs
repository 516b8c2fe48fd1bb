using System.Runtime.InteropServices;
using Transit.GateAgent.Configuration;

namespace Transit.GateAgent.Hardware;

/// <summary>libgpiod v1 (Debian package libgpiod2), the Linux GPIO character device's user-space library.</summary>
internal static partial class Libgpiod
{
    private const string Library = "libgpiod.so.2";

    [LibraryImport(Library, EntryPoint = "gpiod_chip_open_by_name", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial nint ChipOpenByName(string name);

    [LibraryImport(Library, EntryPoint = "gpiod_chip_close")]
    public static partial void ChipClose(nint chip);

    [LibraryImport(Library, EntryPoint = "gpiod_chip_num_lines")]
    public static partial uint ChipNumLines(nint chip);

    [LibraryImport(Library, EntryPoint = "gpiod_chip_get_line", SetLastError = true)]
    public static partial nint ChipGetLine(nint chip, uint offset);

    [LibraryImport(Library, EntryPoint = "gpiod_line_request_output", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int LineRequestOutput(nint line, string consumer, int defaultValue);

    [LibraryImport(Library, EntryPoint = "gpiod_line_set_value", SetLastError = true)]
    public static partial int LineSetValue(nint line, int value);

    [LibraryImport(Library, EntryPoint = "gpiod_line_release")]
    public static partial void LineRelease(nint line);
}

/// <summary>One requested output line.</summary>
internal sealed class GpioLine : IDisposable
{
    private readonly nint _line;
    private readonly bool _activeLow;
    private readonly string _name;
    private readonly Lock _lock = new();
    private bool _released;

    public GpioLine(nint line, bool activeLow, string name)
    {
        _line = line;
        _activeLow = activeLow;
        _name = name;
    }

    public void Set(bool on)
    {
        lock (_lock)
        {
            if (_released)
            {
                return;
            }

            if (Libgpiod.LineSetValue(_line, on ^ _activeLow ? 1 : 0) < 0)
            {
                throw new IOException($"GPIO line {_name}: set value failed ({Marshal.GetLastPInvokeErrorMessage()})");
            }
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (!_released)
            {
                _released = true;
                Libgpiod.LineRelease(_line);
            }
        }
    }
}

/// <summary>Barrier relay, lights and buzzer on GPIO lines of one chip.</summary>
internal sealed class GpioOutputs : IDisposable
{
    private const string Consumer = "transit-gate";
    private readonly nint _chip;
    private readonly List<GpioLine> _lines = [];

    private GpioOutputs(nint chip) => _chip = chip;

    public IBarrier Barrier { get; private set; } = null!;

    public IIndicatorLights Lights { get; private set; } = null!;

    public IBuzzer Buzzer { get; private set; } = null!;

    /// <summary>Opens the chip and requests every configured line as an output, all off.</summary>
    /// <exception cref="HardwareException">The library, chip or a line is not available.</exception>
    public static GpioOutputs Open(GpioSettings settings)
    {
        nint chip;
        try
        {
            chip = Libgpiod.ChipOpenByName(settings.Chip);
        }
        catch (DllNotFoundException ex)
        {
            throw new HardwareException(
                "Hardware:Kind is gpio but libgpiod is not installed (install the Debian package libgpiod2, or set Hardware:Kind to simulated)", ex);
        }

        if (chip == 0)
        {
            throw new HardwareException(
                $"Hardware:Gpio:Chip '{settings.Chip}' cannot be opened: /dev/{settings.Chip}: {Marshal.GetLastPInvokeErrorMessage()} " +
                "(list the chips with 'gpiodetect'; the service user needs access to /dev/gpiochip*)");
        }

        var outputs = new GpioOutputs(chip);
        try
        {
            var lineCount = Libgpiod.ChipNumLines(chip);
            var barrier = outputs.Request(settings.Barrier!.Value, "Barrier", settings, lineCount);
            var green = outputs.Request(settings.Green!.Value, "Green", settings, lineCount);
            var red = outputs.Request(settings.Red!.Value, "Red", settings, lineCount);
            var amber = settings.Amber is { } a ? outputs.Request(a, "Amber", settings, lineCount) : null;
            var buzzer = settings.Buzzer is { } b ? outputs.Request(b, "Buzzer", settings, lineCount) : null;
            outputs.Barrier = new GpioBarrier(barrier);
            outputs.Lights = new GpioLights(green, red, amber);
            outputs.Buzzer = new GpioBuzzer(buzzer);
            return outputs;
        }
        catch
        {
            outputs.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        foreach (var line in _lines)
        {
            line.Dispose();
        }

        _lines.Clear();
        Libgpiod.ChipClose(_chip);
    }

    private GpioLine Request(int offset, string name, GpioSettings settings, uint lineCount)
    {
        if ((uint)offset >= lineCount)
        {
            throw new HardwareException($"Hardware:Gpio:{name} line {offset} does not exist on {settings.Chip} ({lineCount} lines)");
        }

        var line = Libgpiod.ChipGetLine(_chip, (uint)offset);
        if (line == 0 || Libgpiod.LineRequestOutput(line, Consumer, settings.ActiveLow ? 1 : 0) < 0)
        {
            throw new HardwareException(
                $"Hardware:Gpio:{name} line {offset} on {settings.Chip} cannot be requested as an output: {Marshal.GetLastPInvokeErrorMessage()} (is another program using it? see 'gpioinfo')");
        }

        var gpio = new GpioLine(line, settings.ActiveLow, $"{settings.Chip}:{offset} ({name})");
        _lines.Add(gpio);
        return gpio;
    }

    private sealed class GpioBarrier(GpioLine relay) : IBarrier
    {
        public void Open() => relay.Set(true);

        public void Close() => relay.Set(false);

        public void Dispose()
        {
            // Lines are released by the owning GpioOutputs, which releases the relay last-known-off.
        }
    }

    private sealed class GpioLights(GpioLine green, GpioLine red, GpioLine? amber) : IIndicatorLights
    {
        public void Show(Light light)
        {
            green.Set(light == Light.Green);
            red.Set(light == Light.Red);
            amber?.Set(light == Light.Amber);
        }

        public void Dispose()
        {
        }
    }

    private sealed class GpioBuzzer(GpioLine? line) : IBuzzer
    {
        private static readonly TimeSpan Pulse = TimeSpan.FromMilliseconds(80);

        public void Sound(Beep beep)
        {
            if (line is null)
            {
                return;
            }

            // Timed off the tap path: a beep must never delay the next decision.
            _ = Task.Run(async () =>
            {
                try
                {
                    for (var i = 0; i < (beep == Beep.Accept ? 1 : 2); i++)
                    {
                        line.Set(true);
                        await Task.Delay(Pulse).ConfigureAwait(false);
                        line.Set(false);
                        await Task.Delay(Pulse).ConfigureAwait(false);
                    }
                }
                catch (IOException)
                {
                    // A failing buzzer is reported by nothing else; the lights and journal still work.
                }
            });
        }

        public void Dispose()
        {
        }
    }
}
