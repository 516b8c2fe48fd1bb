using Transit.DeviceApi;
using Transit.GateAgent.Configuration;
using Transit.GateAgent.Status;

namespace Transit.GateAgent.Hardware;

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
