using System.Device.I2c;
using Microsoft.Extensions.Logging;
using Transit.GateAgent.Configuration;

namespace Transit.GateAgent.Hardware;

/// <summary>The output devices of one gate.</summary>
public sealed record GateHardware(IBarrier Barrier, IIndicatorLights Lights, IBuzzer Buzzer, ITextDisplay Display, IDisposable? Owner = null) : IDisposable
{
    /// <summary>Creates the devices configured in <paramref name="settings"/>.</summary>
    /// <exception cref="HardwareException">GPIO chip, line or library missing; the message says which and what to do.</exception>
    public static GateHardware Create(HardwareSettings settings, SimulatedHardwareLog log, ILogger logger) => Create(settings, log, logger, gpioDriver: null);

    /// <summary>
    /// As <see cref="Create(HardwareSettings, SimulatedHardwareLog, ILogger)"/>, with the GPIO lines on
    /// <paramref name="gpioDriver"/> and an I²C display on the device <paramref name="openI2c"/> gives, when given.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA2000", Justification = "Every output opened here is handed to the GateHardware returned, whose Dispose closes them.")]
    internal static GateHardware Create(
        HardwareSettings settings, SimulatedHardwareLog log, ILogger logger, System.Device.Gpio.GpioDriver? gpioDriver, Func<I2cConnectionSettings, I2cDevice>? openI2c = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var display = OpenDisplay(settings, logger, openI2c ?? I2cDevice.Create);
        if (settings.Kind == "gpio")
        {
            var gpio = gpioDriver is null ? GpioOutputs.Open(settings.Gpio) : GpioOutputs.Open(settings.Gpio, gpioDriver);
            return new GateHardware(gpio.Barrier, gpio.Lights, gpio.Buzzer, display, gpio);
        }

        return new GateHardware(new SimulatedBarrier(log), new SimulatedLights(log), new SimulatedBuzzer(log), new SimulatedDisplay(log, display));
    }

    private static ITextDisplay OpenDisplay(HardwareSettings settings, ILogger logger, Func<I2cConnectionSettings, I2cDevice> openI2c)
    {
        if (settings.DisplayDevice is not { Length: > 0 } device)
        {
            return new LogTextDisplay(logger);
        }

        if (!LcdAddress.IsLcd(device))
        {
            return new DeviceTextDisplay(device);
        }

        try
        {
            return CharacterLcdDisplay.Open(LcdAddress.Parse(device), LcdAddress.ParseSize(settings.DisplaySize), openI2c);
        }
        catch (FormatException ex)
        {
            throw new HardwareException(ex.Message, ex);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Barrier.Dispose();
        Lights.Dispose();
        Buzzer.Dispose();
        Display.Dispose();
        Owner?.Dispose();
    }
}
