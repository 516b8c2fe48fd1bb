using System.Device.Gpio;
using System.Device.Gpio.Drivers;
using System.Globalization;
using Transit.GateAgent.Configuration;

namespace Transit.GateAgent.Hardware;

/// <summary>
/// Barrier relay, lights and buzzer on GPIO lines of one chip, through System.Device.Gpio's
/// <see cref="GpioController"/> over the libgpiod driver (Debian package libgpiod2).
/// </summary>
internal sealed class GpioOutputs : IDisposable
{
    private readonly GpioController _controller;
    private readonly bool _activeLow;
    private readonly string _chip;

    // One lock for every line: a write never races the release of the chip on shutdown.
    private readonly Lock _lock = new();
    private bool _released;

    private GpioOutputs(GpioController controller, GpioSettings settings)
    {
        _controller = controller;
        _activeLow = settings.ActiveLow;
        _chip = settings.Chip;
    }

    public IBarrier Barrier { get; private set; } = null!;

    public IIndicatorLights Lights { get; private set; } = null!;

    public IBuzzer Buzzer { get; private set; } = null!;

    /// <summary>Opens the chip and requests every configured line as an output, all off.</summary>
    /// <exception cref="HardwareException">The library, chip or a line is not available.</exception>
    public static GpioOutputs Open(GpioSettings settings) => Open(settings, OpenDriver(settings.Chip));

    /// <summary>Requests the lines on <paramref name="driver"/>, which the outputs own from then on.</summary>
    /// <exception cref="HardwareException">A line does not exist or cannot be requested.</exception>
    internal static GpioOutputs Open(GpioSettings settings, GpioDriver driver)
    {
        var outputs = new GpioOutputs(new GpioController(driver), settings);
        try
        {
            var barrier = outputs.Request(settings.Barrier!.Value, "Barrier");
            var green = outputs.Request(settings.Green!.Value, "Green");
            var red = outputs.Request(settings.Red!.Value, "Red");
            var amber = settings.Amber is { } a ? outputs.Request(a, "Amber") : null;
            var buzzer = settings.Buzzer is { } b ? outputs.Request(b, "Buzzer") : null;
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

    /// <summary>
    /// The libgpiod driver for <paramref name="chip"/>: a kernel name (<c>gpiochip0</c>) or a chip label as
    /// <c>gpiodetect</c> prints it (e.g. <c>pinctrl-bcm2711</c>), which stays the same when chips are numbered anew.
    /// </summary>
    /// <exception cref="HardwareException">libgpiod is missing or the chip cannot be opened.</exception>
    internal static LibGpiodDriver OpenDriver(string chip)
    {
        try
        {
            return new LibGpiodDriver(ChipNumber(chip));
        }
        catch (Exception ex) when (ex is DllNotFoundException or PlatformNotSupportedException or TypeInitializationException)
        {
            // The driver's type initializer asks libgpiod for its version, so a missing library can also surface here.
            throw new HardwareException(
                "Hardware:Kind is gpio but libgpiod is not installed (install the Debian package libgpiod2, or set Hardware:Kind to simulated)", ex);
        }
        catch (IOException ex)
        {
            throw new HardwareException(
                $"Hardware:Gpio:Chip '{chip}' cannot be opened: /dev/{chip}: {ex.Message} " +
                "(list the chips with 'gpiodetect'; the service user needs access to /dev/gpiochip*)", ex);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_released)
            {
                return;
            }

            _released = true;
        }

        // Releasing the lines leaves them as last set: the controller has shown idle (barrier shut, lights off).
        _controller.Dispose();
    }

    private static int ChipNumber(string chip)
    {
        const string KernelPrefix = "gpiochip";
        if (chip.StartsWith(KernelPrefix, StringComparison.Ordinal)
            && int.TryParse(chip.AsSpan(KernelPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return number;
        }

        var chips = LibGpiodDriver.GetAvailableChips();
        return chips.FirstOrDefault(c => c.Label == chip)?.Id
            ?? throw new IOException($"no chip is named or labelled so (chips: {string.Join(", ", chips.Select(c => $"{c.Name} [{c.Label}]"))})");
    }

    private GpioLine Request(int offset, string name)
    {
        if (offset >= _controller.PinCount)
        {
            throw new HardwareException(string.Create(
                CultureInfo.InvariantCulture, $"Hardware:Gpio:{name} line {offset} does not exist on {_chip} ({_controller.PinCount} lines)"));
        }

        try
        {
            // Requested with its "off" level at once, so the relay never clicks on while the agent starts.
            _controller.OpenPin(offset, PinMode.Output, Level(false));
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException)
        {
            throw new HardwareException(string.Create(
                CultureInfo.InvariantCulture,
                $"Hardware:Gpio:{name} line {offset} on {_chip} cannot be requested as an output: {ex.Message} (is another program using it? see 'gpioinfo')"), ex);
        }

        return new GpioLine(this, offset, string.Create(CultureInfo.InvariantCulture, $"{_chip}:{offset} ({name})"));
    }

    private PinValue Level(bool on) => on ^ _activeLow ? PinValue.High : PinValue.Low;

    private void Write(int offset, bool on, string name)
    {
        lock (_lock)
        {
            if (_released)
            {
                return;
            }

            try
            {
                _controller.Write(offset, Level(on));
            }
            catch (Exception ex) when (ex is IOException or InvalidOperationException)
            {
                throw new IOException($"GPIO line {name}: set value failed ({ex.Message})", ex);
            }
        }
    }

    /// <summary>One requested output line; "on" is the line's active level.</summary>
    private sealed class GpioLine(GpioOutputs outputs, int offset, string name)
    {
        public void Set(bool on) => outputs.Write(offset, on, name);
    }

    private sealed class GpioBarrier(GpioLine relay) : IBarrier
    {
        public void Open() => relay.Set(true);

        public void Close() => relay.Set(false);

        public void Dispose()
        {
            // Lines are released by the owning GpioOutputs.
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

    /// <summary>An active buzzer (its own oscillator) switched on and off by one line.</summary>
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
