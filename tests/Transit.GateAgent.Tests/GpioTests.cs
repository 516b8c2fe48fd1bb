using System.Device.Gpio;
using Microsoft.Extensions.Logging.Abstractions;
using Transit.GateAgent.Configuration;
using Transit.GateAgent.Hardware;
using Transit.GateAgent.Status;
using Transit.GateAgent.Tests.Infrastructure;

namespace Transit.GateAgent.Tests;

/// <summary>The barrier, lights and buzzer through System.Device.Gpio, on a chip that records every line change.</summary>
public sealed class GpioTests
{
    private const int Barrier = 17;
    private const int Green = 27;
    private const int Red = 22;
    private const int Amber = 23;
    private const int Buzzer = 5;

    [Fact]
    public void Gpio_ActiveLowAcceptThenRefuse_EveryLineChangeInOrder()
    {
        var driver = new RecordingGpioDriver(54);
        var settings = Settings(activeLow: true);
        var hardware = GateHardware.Create(settings, new SimulatedHardwareLog(), NullLogger.Instance, driver);
        var controller = new GateController(hardware, settings, new GateMetrics(), new GateHealth(), TimeProvider.System);
        controller.Show(true, "ok");
        WaitForBuzzerChanges(driver, 2);
        controller.Show(false, "replayed");
        WaitForBuzzerChanges(driver, 6);
        controller.Dispose();
        hardware.Dispose();

        // Active-low: every line is requested at High (off) so the relay never pulls in while the agent starts;
        // "on" is Low.
        Assert.Equal(
            [
                "17 out High", "27 out High", "22 out High", "23 out High", "5 out High",
                "17=High", "27=High", "22=High", "23=High",   // idle: barrier shut, lights off
                "27=Low", "22=High", "23=High", "17=Low",     // accepted: green, barrier open
                "27=High", "22=Low", "23=High",               // refused: red; the barrier keeps its open time
                "17=High", "27=High", "22=High", "23=High",   // shutdown: barrier shut, lights off
            ],
            driver.Changes.Where(c => !c.StartsWith("5=", StringComparison.Ordinal) && !c.EndsWith(" closed", StringComparison.Ordinal)));
        Assert.Equal(["17 closed", "22 closed", "23 closed", "27 closed", "5 closed"], driver.Changes.Where(c => c.EndsWith(" closed", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        Assert.EndsWith(" closed", driver.Changes[^1], StringComparison.Ordinal);

        // One beep for the accept, two for the refusal, each ending silent.
        Assert.Equal(["5=Low", "5=High", "5=Low", "5=High", "5=Low", "5=High"], driver.Changes.Where(c => c.StartsWith("5=", StringComparison.Ordinal)));
        Assert.True(driver.Disposed);
    }

    [Fact]
    public void Gpio_ActiveHigh_OnIsHigh()
    {
        var driver = new RecordingGpioDriver(54);
        var settings = Settings(activeLow: false);
        using var hardware = GateHardware.Create(settings, new SimulatedHardwareLog(), NullLogger.Instance, driver);
        Assert.Equal(PinValue.Low, driver.Level(Barrier));
        hardware.Barrier.Open();
        hardware.Lights.Show(Light.Amber);
        Assert.Equal((PinValue.High, PinValue.Low, PinValue.Low, PinValue.High), (driver.Level(Barrier), driver.Level(Green), driver.Level(Red), driver.Level(Amber)));
    }

    [Fact]
    public void Gpio_LineBeyondTheChipOrHeldByAnotherProgram_RefusedNamingSettingLineAndChip_ChipReleased()
    {
        var small = new RecordingGpioDriver(20);
        var beyond = Assert.Throws<HardwareException>(() => GateHardware.Create(Settings(activeLow: false), new SimulatedHardwareLog(), NullLogger.Instance, small));
        Assert.Equal("Hardware:Gpio:Green line 27 does not exist on gpiochip0 (20 lines)", beyond.Message);
        Assert.Equal(["17 out Low", "17 closed"], small.Changes);
        Assert.True(small.Disposed);

        var busy = new RecordingGpioDriver(54) { Busy = { Red } };
        var held = Assert.Throws<HardwareException>(() => GateHardware.Create(Settings(activeLow: false), new SimulatedHardwareLog(), NullLogger.Instance, busy));
        Assert.StartsWith("Hardware:Gpio:Red line 22 on gpiochip0 cannot be requested as an output: Device or resource busy", held.Message, StringComparison.Ordinal);
        Assert.True(busy.Disposed);
    }

    [Fact]
    public void Gpio_ChipNotPresent_ErrorNamesTheChipOrTheLibrary()
    {
        foreach (var chip in new[] { "gpiochip97", "no-such-label" })
        {
            var error = Assert.Throws<HardwareException>(() => GpioOutputs.OpenDriver(chip));
            Assert.True(
                error.Message.StartsWith($"Hardware:Gpio:Chip '{chip}' cannot be opened", StringComparison.Ordinal) || error.Message.Contains("libgpiod2", StringComparison.Ordinal),
                error.Message);
        }
    }

    private static HardwareSettings Settings(bool activeLow) => new()
    {
        Kind = "gpio",
        BarrierOpenMillis = 60_000,
        Gpio = new GpioSettings { Chip = "gpiochip0", Barrier = Barrier, Green = Green, Red = Red, Amber = Amber, Buzzer = Buzzer, ActiveLow = activeLow },
    };

    private static void WaitForBuzzerChanges(RecordingGpioDriver driver, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (driver.Changes.Count(c => c.StartsWith("5=", StringComparison.Ordinal)) < count)
        {
            Assert.True(DateTime.UtcNow < deadline, "the buzzer did not finish its beeps: " + string.Join(", ", driver.Changes));
            Thread.Sleep(20);
        }

        // The last pulse's trailing pause: the next beep must not start inside it in this test.
        Thread.Sleep(100);
    }
}
