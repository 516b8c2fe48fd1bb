using System.Collections.Concurrent;
using System.Device.I2c;
using Microsoft.Extensions.Logging;
using Transit.GateAgent.Configuration;
using Transit.GateAgent.Status;
using Transit.DeviceApi;

namespace Transit.GateAgent.Hardware;

/// <summary>The barrier (metro gate flaps or turnstile lock) behind a relay.</summary>
public interface IBarrier : IDisposable
{
    /// <summary>Releases the barrier so one rider can pass.</summary>
    void Open();

    /// <summary>Locks the barrier again.</summary>
    void Close();
}

/// <summary>What the indicator lights show.</summary>
public enum Light
{
    /// <summary>Idle: waiting for a code.</summary>
    Off,

    /// <summary>Accepted: go.</summary>
    Green,

    /// <summary>Refused: stop.</summary>
    Red,

    /// <summary>Idle with a fault that staff should look at (clearing refuses the device, journal conflict).</summary>
    Amber,
}

/// <summary>The indicator lights.</summary>
public interface IIndicatorLights : IDisposable
{
    /// <summary>Shows <paramref name="light"/> (and nothing else).</summary>
    void Show(Light light);
}

/// <summary>Buzzer sounds.</summary>
public enum Beep
{
    /// <summary>One short beep.</summary>
    Accept,

    /// <summary>Two short beeps.</summary>
    Refuse,
}

/// <summary>The buzzer.</summary>
public interface IBuzzer : IDisposable
{
    /// <summary>Sounds <paramref name="beep"/> without blocking the caller.</summary>
    void Sound(Beep beep);
}

/// <summary>A one-line text display for riders.</summary>
public interface ITextDisplay : IDisposable
{
    /// <summary>Shows <paramref name="text"/>.</summary>
    void Show(string text);
}

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

/// <summary>Hardware that cannot be used; the message names the setting and the remedy.</summary>
public sealed class HardwareException : Exception
{
    /// <summary>Creates the exception.</summary>
    public HardwareException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public HardwareException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public HardwareException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Turns decisions into what the rider sees: green, open, one beep; or red, two beeps and the reason. Everything
/// returns to idle after the configured time; a later tap extends or replaces what is shown.
/// </summary>
public sealed class GateController : IDisposable
{
    private readonly GateHardware _hardware;
    private readonly GateMetrics _metrics;
    private readonly GateHealth _health;
    private readonly TimeSpan _open;
    private readonly TimeSpan _refusal;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly ITimer _timer;
    private bool _barrierOpen;
    private bool _idle;
    private DateTimeOffset _barrierUntil;

    /// <summary>Creates the controller and shows idle; the idle light follows <paramref name="health"/> from then on.</summary>
    public GateController(GateHardware hardware, HardwareSettings settings, GateMetrics metrics, GateHealth health, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(health);
        _hardware = hardware;
        _metrics = metrics;
        _health = health;
        _time = time;
        _open = TimeSpan.FromMilliseconds(settings.BarrierOpenMillis);
        _refusal = TimeSpan.FromMilliseconds(settings.RefusalShowMillis);
        _timer = time.CreateTimer(_ => Idle(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        hardware.Barrier.Close();
        ShowIdle();
        health.Changed += HealthChanged;
    }

    /// <summary>Shows a committed decision.</summary>
    public void Show(bool accepted, string reason)
    {
        lock (_lock)
        {
            _idle = false;
            var now = _time.GetUtcNow();
            TimeSpan until;
            if (accepted)
            {
                _hardware.Lights.Show(Light.Green);
                _hardware.Barrier.Open();
                _barrierOpen = true;
                _barrierUntil = now + _open;
                _metrics.RecordBarrierOpen();
                _hardware.Buzzer.Sound(Beep.Accept);
                _hardware.Display.Show("Welcome - please pass");
                until = _open;
            }
            else
            {
                _hardware.Lights.Show(Light.Red);
                _hardware.Buzzer.Sound(Beep.Refuse);
                _hardware.Display.Show(RiderMessage(reason));
                until = _barrierOpen && _barrierUntil - now > _refusal ? _barrierUntil - now : _refusal;
            }

            _timer.Change(until, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>
    /// The refusal of a scan the journal could not commit (disk full): the gate stays shut for it, since a tap that
    /// is not journaled could never be billed or checked for replay.
    /// </summary>
    public const string JournalFull = "journal-full";

    /// <summary>What a rider reads for a refusal.</summary>
    public static string RiderMessage(string reason) => reason switch
    {
        "stale" => "Code expired - refresh it",
        "future" => "Check phone clock",
        "replayed" => "Code already used",
        TapReasons.Passback => "Already entered",
        "denied" => "Account blocked - see staff",
        "credential-expired" or "credential-not-yet-valid" => "Open your app online",
        "malformed" or "unsupported-version" => "Not a ride code",
        JournalFull => "Gate closed - use another gate",
        _ => "Code not valid - see staff",
    };

    /// <inheritdoc />
    public void Dispose()
    {
        _health.Changed -= HealthChanged;
        _timer.Dispose();
        lock (_lock)
        {
            _hardware.Barrier.Close();
            _hardware.Lights.Show(Light.Off);
        }
    }

    private void Idle()
    {
        lock (_lock)
        {
            if (_barrierOpen && _time.GetUtcNow() >= _barrierUntil - TimeSpan.FromMilliseconds(5))
            {
                _hardware.Barrier.Close();
                _barrierOpen = false;
            }

            ShowIdle();
        }
    }

    private void ShowIdle()
    {
        _idle = true;
        _hardware.Lights.Show(IdleLight);
        _hardware.Display.Show("Scan your code");
    }

    private Light IdleLight => _health.Amber ? Light.Amber : Light.Off;

    /// <summary>An alarm raised or cleared while idle shows at once; during a decision it shows when that ends.</summary>
    private void HealthChanged()
    {
        lock (_lock)
        {
            if (_idle)
            {
                _hardware.Lights.Show(IdleLight);
            }
        }
    }
}

/// <summary>What the simulated hardware did, in order; kept short (the newest 10,000 actions).</summary>
public sealed class SimulatedHardwareLog
{
    private const int Keep = 10_000;
    private readonly ConcurrentQueue<string> _actions = new();

    /// <summary>Records an action such as <c>barrier:open</c>.</summary>
    public void Record(string action)
    {
        _actions.Enqueue(action);
        while (_actions.Count > Keep && _actions.TryDequeue(out _))
        {
        }
    }

    /// <summary>The recorded actions, oldest first.</summary>
    public IReadOnlyList<string> Actions => [.. _actions];
}

internal sealed class SimulatedBarrier(SimulatedHardwareLog log) : IBarrier
{
    public void Open() => log.Record("barrier:open");

    public void Close() => log.Record("barrier:close");

    public void Dispose()
    {
    }
}

internal sealed class SimulatedLights(SimulatedHardwareLog log) : IIndicatorLights
{
    public void Show(Light light) => log.Record("light:" + light.ToString().ToLowerInvariant());

    public void Dispose()
    {
    }
}

internal sealed class SimulatedBuzzer(SimulatedHardwareLog log) : IBuzzer
{
    public void Sound(Beep beep) => log.Record("buzzer:" + beep.ToString().ToLowerInvariant());

    public void Dispose()
    {
    }
}

internal sealed class SimulatedDisplay(SimulatedHardwareLog log, ITextDisplay inner) : ITextDisplay
{
    public void Show(string text)
    {
        log.Record("display:" + text);
        inner.Show(text);
    }

    public void Dispose() => inner.Dispose();
}

internal sealed class LogTextDisplay(ILogger logger) : ITextDisplay
{
    public void Show(string text) => logger.LogTrace("display: {Text}", text);

    public void Dispose()
    {
    }
}

/// <summary>A character display on a TTY or a file: one line per message.</summary>
internal sealed class DeviceTextDisplay : ITextDisplay
{
    private readonly StreamWriter _writer;

    public DeviceTextDisplay(string device)
    {
        try
        {
            // Append mode would seek, which a TTY cannot: open, and seek only what is seekable (a log file).
            var stream = new FileStream(device, FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite);
            if (stream.CanSeek)
            {
                stream.Seek(0, SeekOrigin.End);
            }

            _writer = new StreamWriter(stream) { AutoFlush = true };
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new HardwareException($"Hardware:DisplayDevice {device} cannot be opened: {ex.Message}", ex);
        }
    }

    public void Show(string text)
    {
        try
        {
            _writer.WriteLine(text);
        }
        catch (IOException)
        {
            // A display that went away must not stop the gate; the decision is journaled and the barrier works.
        }
    }

    public void Dispose() => _writer.Dispose();
}
