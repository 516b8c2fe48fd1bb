using System.Device.I2c;
using System.Drawing;
using Microsoft.Extensions.Logging.Abstractions;
using Transit.GateAgent.Configuration;
using Transit.GateAgent.Hardware;
using Transit.GateAgent.Status;
using Transit.GateAgent.Tests.Infrastructure;

namespace Transit.GateAgent.Tests;

/// <summary>
/// The rider's display as an HD44780 character LCD on a PCF8574 I²C backpack, through Iot.Device.CharacterLcd, on an
/// I²C device that records every byte written: the bytes are decoded as the controller would latch them.
/// </summary>
public sealed class CharacterLcdTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public void CharacterLcd_IdleAcceptRefuse_DisplayRamHoldsTheDecisionOnTwoRows()
    {
        RecordingI2cDevice? device = null;
        var settings = new HardwareSettings { DisplayDevice = "i2c:1:0x27" };
        var hardware = GateHardware.Create(settings, new SimulatedHardwareLog(), NullLogger.Instance, gpioDriver: null, s => device = new RecordingI2cDevice(s));
        Assert.NotNull(device);
        Assert.Equal(1, device.ConnectionSettings.BusId);
        Assert.Equal(0x27, device.ConnectionSettings.DeviceAddress);
        using (var controller = new GateController(hardware, settings, new GateMetrics(), new GateHealth(), TimeProvider.System))
        {
            WaitForScreen(device, "Scan your code  ", "                ");
            controller.Show(true, "ok");
            WaitForScreen(device, "Welcome         ", "Please pass     ");
            controller.Show(false, "stale");
            WaitForScreen(device, "Code expired    ", "Refresh it      ");
            controller.Show(false, "passback");
            WaitForScreen(device, "Already entered ", "                ");
        }

        hardware.Dispose();
        Assert.True(device.Disposed);

        // The wire format itself: every byte keeps the backlight (P3) on and never reads (P1); the last character
        // written, the row's final space (0x20) as data (RS, P0), goes as its high then its low nibble on P4-P7, each
        // latched by E (P2) going high then low.
        var written = device.Written;
        Assert.All(written, b => Assert.Equal(0x08, b & 0x0a));
        Assert.Equal([0x2d, 0x29, 0x0d, 0x09], written[^4..]);
    }

    [Fact]
    public void CharacterLcd_TwentyByFour_LongMessageWrapsOverTheRows()
    {
        RecordingI2cDevice? device = null;
        var settings = new HardwareSettings { DisplayDevice = "i2c:3:0x3f", DisplaySize = "20x4" };
        using var hardware = GateHardware.Create(settings, new SimulatedHardwareLog(), NullLogger.Instance, gpioDriver: null, s => device = new RecordingI2cDevice(s));
        hardware.Display.Show("Gate closed - use another gate, the one on the left");
        WaitForScreen(device!, "Gate closed         ", "Use another gate,   ", "the one on the left ", "                    ");
    }

    [Fact]
    public void CharacterLcd_NothingAtTheAddress_StopsNamingBusAddressAndRemedy()
    {
        RecordingI2cDevice? device = null;
        var error = Assert.Throws<HardwareException>(() => GateHardware.Create(
            new HardwareSettings { DisplayDevice = "i2c:1:0x27" }, new SimulatedHardwareLog(), NullLogger.Instance, gpioDriver: null,
            s => device = new RecordingI2cDevice(s) { Missing = true }));
        Assert.StartsWith("Hardware:DisplayDevice i2c:1:0x27: no display answers at address 0x27 on /dev/i2c-1: Error 6", error.Message, StringComparison.Ordinal);
        Assert.Contains("'i2cdetect -y 1'", error.Message, StringComparison.Ordinal);
        Assert.True(device!.Disposed);
    }

    [Fact]
    public void CharacterLcd_BusDoesNotExist_StopsNamingTheBusDevice()
    {
        // The real I²C stack (System.Device.Gpio's Linux device) on a bus number no machine has.
        var error = Assert.Throws<HardwareException>(() => GateHardware.Create(
            new HardwareSettings { DisplayDevice = "i2c:250:0x27" }, new SimulatedHardwareLog(), NullLogger.Instance));
        Assert.StartsWith("Hardware:DisplayDevice i2c:250:0x27: the bus /dev/i2c-250 cannot be opened", error.Message, StringComparison.Ordinal);
        Assert.Contains("'i2cdetect -l'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("i2c:1", "Hardware:DisplayDevice 'i2c:1' is not an I²C display")]
    [InlineData("i2c:one:0x27", "Hardware:DisplayDevice 'i2c:one:0x27' is not an I²C display")]
    [InlineData("i2c:1:0x78", "Hardware:DisplayDevice 'i2c:1:0x78' is not an I²C display")]
    [InlineData("i2c:1:0xzz", "Hardware:DisplayDevice 'i2c:1:0xzz' is not an I²C display")]
    public void Settings_MalformedI2cDisplay_RefusedNamingTheSetting(string device, string expected)
    {
        var errors = GateSettingsLoader.Validate(new GateSettings { Hardware = new HardwareSettings { DisplayDevice = device } });
        Assert.Contains(errors, e => e.StartsWith(expected, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("16")]
    [InlineData("16x3")]
    [InlineData("100x2")]
    [InlineData("40x4")]
    public void Settings_ImpossibleDisplaySize_RefusedNamingTheSetting(string size)
    {
        var errors = GateSettingsLoader.Validate(new GateSettings { Hardware = new HardwareSettings { DisplayDevice = "i2c:1:0x27", DisplaySize = size } });
        Assert.Contains(errors, e => e.StartsWith($"Hardware:DisplaySize '{size}' is not a character display size", StringComparison.Ordinal));
    }

    [Fact]
    public void Layout_EveryRiderMessage_FitsSixteenByTwoWithoutLosingAWord()
    {
        string[] reasons = ["ok", "stale", "future", "replayed", "passback", "denied", "credential-expired", "malformed", "unsupported-version", GateController.JournalFull, "bad-signature"];
        foreach (var text in reasons.Select(GateController.RiderMessage).Append("Welcome - please pass").Append("Scan your code"))
        {
            var rows = CharacterLcdDisplay.Layout(text, new Size(16, 2));
            Assert.All(rows, r => Assert.Equal(16, r.Length));
            var words = string.Join(' ', rows).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(text.Replace(" - ", " ", StringComparison.Ordinal).Split(' '), words, StringComparer.OrdinalIgnoreCase);
        }

        Assert.Equal(["Refused: ?t?    ", "                "], CharacterLcdDisplay.Layout("Refused: \u00e9t\u0007", new Size(16, 2)));
        Assert.Equal(["ABCDEFGHIJKLMNOP", "QRS             "], CharacterLcdDisplay.Layout("ABCDEFGHIJKLMNOPQRS", new Size(16, 2)));
    }

    private static void WaitForScreen(RecordingI2cDevice device, params string[] rows)
    {
        var deadline = DateTime.UtcNow + Patience;
        string[] shown;
        while (!(shown = Hd44780Screen.Rows(device.Written, rows[0].Length, rows.Length)).SequenceEqual(rows) && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(10);
        }

        Assert.Equal(rows, shown);
    }
}
