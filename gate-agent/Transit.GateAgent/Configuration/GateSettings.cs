namespace Transit.GateAgent.Configuration;

/// <summary>What the device is and where it stands (section <c>Device</c>).</summary>
public sealed class DeviceSettings
{
    /// <summary>Device id; must equal the CN of the client certificate.</summary>
    public string? Id { get; set; }

    /// <summary>The operator the device belongs to.</summary>
    public string? OperatorId { get; set; }

    /// <summary><c>metro-entry</c>, <c>metro-exit</c> or <c>bus</c>.</summary>
    public string? Mode { get; set; }

    /// <summary>GTFS stop_id of the station (metro modes).</summary>
    public string? StationId { get; set; }

    /// <summary>GTFS stop_id of the current stop (bus; the driver console may change it).</summary>
    public string? StopId { get; set; }

    /// <summary>GTFS route_id the bus runs (bus; the driver console may change it).</summary>
    public string? RouteId { get; set; }
}

/// <summary>Freshness and pass-back limits (section <c>Verification</c>).</summary>
public sealed class VerificationSettings
{
    /// <summary>A code older than this many seconds is <c>stale</c>.</summary>
    public int MaxAgeSeconds { get; set; } = 60;

    /// <summary>A code further ahead of the gate's clock than this many seconds is <c>future</c>.</summary>
    public int MaxAheadSeconds { get; set; } = 30;

    /// <summary>The same account accepted again within this many seconds is refused as <c>passback</c>; 0 turns it off.</summary>
    public int PassbackSeconds { get; set; } = 120;
}

/// <summary>Trust anchors (section <c>Trust</c>).</summary>
public sealed class TrustSettings
{
    /// <summary>Path of root.pub.json, the operator's root public key.</summary>
    public string? RootPublicKey { get; set; }

    /// <summary>Path of the initial signed key set (used until sync brings a newer one).</summary>
    public string? KeySet { get; set; }

    /// <summary>Path of the initial signed full deny list; optional.</summary>
    public string? DenyList { get; set; }

    /// <summary>
    /// Section <c>Trust:Issuers</c>: the other issuers whose codes this gate accepts, each an independent chain. The
    /// operator's own issuer is the one above; a code naming an issuer not listed is refused as <c>unknown-issuer</c>.
    /// </summary>
    public List<IssuerTrustSettings> Issuers { get; set; } = [];
}

/// <summary>One accepted issuer's trust anchors (an element of <c>Trust:Issuers</c>).</summary>
public sealed class IssuerTrustSettings
{
    /// <summary>The issuer id its codes name; its key set must declare the same.</summary>
    public string? Id { get; set; }

    /// <summary>Path of the issuer's root public key.</summary>
    public string? RootPublicKey { get; set; }

    /// <summary>Path of the issuer's signed key set.</summary>
    public string? KeySet { get; set; }

    /// <summary>Path of the issuer's signed full deny list; optional.</summary>
    public string? DenyList { get; set; }
}

/// <summary>The clearing backend's device API (section <c>Clearing</c>).</summary>
public sealed class ClearingSettings
{
    /// <summary>Base URL, e.g. <c>https://clearing.example:8443/device/v1/</c>; without it the gate works alone.</summary>
    public string? Url { get; set; }

    /// <summary>PEM client certificate issued by the operator's device CA.</summary>
    public string? ClientCertificate { get; set; }

    /// <summary>PEM private key of the client certificate.</summary>
    public string? ClientKey { get; set; }

    /// <summary>PEM CA certificate that signed the server's certificate; the system trust store when absent.</summary>
    public string? ServerCaCertificate { get; set; }

    /// <summary>Taps per upload batch (the device API allows at most 5,000).</summary>
    public int UploadBatchSize { get; set; } = 1000;

    /// <summary>
    /// Gzip tap batches (<c>Content-Encoding: gzip</c>, which the device API allows): about half the bytes on a
    /// metered mobile link. Off by default until the clearing server in use is known to accept it.
    /// </summary>
    public bool CompressUploads { get; set; }

    /// <summary>How long the uploader waits for more taps before sending a partial batch.</summary>
    public int UploadDelayMillis { get; set; } = 500;

    /// <summary>Seconds between key set, deny list and configuration syncs.</summary>
    public int SyncIntervalSeconds { get; set; } = 300;

    /// <summary>Seconds between status heartbeats.</summary>
    public int StatusIntervalSeconds { get; set; } = 60;

    /// <summary>First retry delay after a failure; doubles on each further failure.</summary>
    public int BackoffInitialMillis { get; set; } = 1000;

    /// <summary>Longest retry delay.</summary>
    public int BackoffMaxMillis { get; set; } = 300_000;

    /// <summary>Per-request timeout.</summary>
    public int RequestTimeoutSeconds { get; set; } = 30;

    /// <summary>
    /// Consecutive failures of uploads (or of sync rounds) after which the gate raises its amber alarm, turns
    /// /health degraded, logs a warning with the cause and reports it in the status heartbeat.
    /// </summary>
    public int AlarmAfterFailures { get; set; } = 3;
}

/// <summary>The tap journal (section <c>Journal</c>).</summary>
public sealed class JournalSettings
{
    /// <summary>SQLite database file.</summary>
    public string? Path { get; set; }

    /// <summary>Uploaded taps are kept this many days before pruning.</summary>
    public int RetentionDays { get; set; } = 14;

    /// <summary>Minutes between pruning passes.</summary>
    public int PruneIntervalMinutes { get; set; } = 60;

    /// <summary>
    /// Below this many free bytes in the journal's file system the gate raises its amber alarm and /health turns
    /// degraded, well before commits fail (64 MiB: days of taps on a busy gate).
    /// </summary>
    public long MinFreeBytes { get; set; } = 64L * 1024 * 1024;
}

/// <summary>Scanner inputs (section <c>Scanner</c>); any number may be configured.</summary>
public sealed class ScannerSettings
{
    /// <summary>The loopback TCP simulation input.</summary>
    public TcpScannerSettings Tcp { get; set; } = new();

    /// <summary>Serial scanners (USB CDC-ACM or UART).</summary>
    public List<SerialScannerSettings> Serial { get; set; } = [];

    /// <summary>HID scanners in keyboard mode, read as Linux input events.</summary>
    public List<InputEventScannerSettings> InputEvents { get; set; } = [];
}

/// <summary>The TCP simulation input.</summary>
public sealed class TcpScannerSettings
{
    /// <summary>Loopback port; absent turns the input off, 0 picks a free port (printed in the ready line).</summary>
    public int? Port { get; set; }
}

/// <summary>One serial scanner.</summary>
public sealed class SerialScannerSettings
{
    /// <summary>TTY device, e.g. <c>/dev/ttyACM0</c>.</summary>
    public string? Device { get; set; }

    /// <summary>Line speed in baud.</summary>
    public int Baud { get; set; } = 115200;
}

/// <summary>One HID scanner.</summary>
public sealed class InputEventScannerSettings
{
    /// <summary>Event device, e.g. <c>/dev/input/by-id/usb-…-event-kbd</c>.</summary>
    public string? Device { get; set; }

    /// <summary>Take the device exclusively (EVIOCGRAB) so that its keystrokes reach no console.</summary>
    public bool Grab { get; set; } = true;
}

/// <summary>Barrier, lights, buzzer and display (section <c>Hardware</c>).</summary>
public sealed class HardwareSettings
{
    /// <summary><c>simulated</c> (records actions) or <c>gpio</c> (libgpiod).</summary>
    public string Kind { get; set; } = "simulated";

    /// <summary>How long the barrier stays open after an accepted tap.</summary>
    public int BarrierOpenMillis { get; set; } = 3000;

    /// <summary>How long a refusal stays shown.</summary>
    public int RefusalShowMillis { get; set; } = 1500;

    /// <summary>GPIO lines, for <c>gpio</c>.</summary>
    public GpioSettings Gpio { get; set; } = new();

    /// <summary>
    /// Optional character display: <c>i2c:&lt;bus&gt;:&lt;address&gt;</c> for an HD44780 LCD on a PCF8574 I²C backpack
    /// (e.g. <c>i2c:1:0x27</c>), otherwise a TTY or file fed one line of text per message; none when absent.
    /// </summary>
    public string? DisplayDevice { get; set; }

    /// <summary>Columns and rows of an I²C character LCD, e.g. <c>16x2</c> or <c>20x4</c>.</summary>
    public string DisplaySize { get; set; } = "16x2";
}

/// <summary>GPIO chip and line offsets.</summary>
public sealed class GpioSettings
{
    /// <summary>Chip name as in /dev, e.g. <c>gpiochip0</c>.</summary>
    public string Chip { get; set; } = "gpiochip0";

    /// <summary>Barrier relay line.</summary>
    public int? Barrier { get; set; }

    /// <summary>Green light line.</summary>
    public int? Green { get; set; }

    /// <summary>Red light line.</summary>
    public int? Red { get; set; }

    /// <summary>Amber (attention) light line; optional.</summary>
    public int? Amber { get; set; }

    /// <summary>Buzzer line; optional.</summary>
    public int? Buzzer { get; set; }

    /// <summary>Drive lines low for "on" (relay boards that switch on low).</summary>
    public bool ActiveLow { get; set; }
}

/// <summary>The loopback status endpoint (section <c>Status</c>).</summary>
public sealed class StatusSettings
{
    /// <summary>Loopback port of /health and /metrics; 0 picks a free port, absent turns it off.</summary>
    public int? Port { get; set; } = 9180;
}

/// <summary>Support for driving a real agent from a simulation (section <c>Simulation</c>); off on a real gate.</summary>
public sealed class SimulationSettings
{
    /// <summary>
    /// <c>system</c> (default): the machine's clock. <c>manual</c>: the clock a simulation sets with clock lines on
    /// the TCP simulation input (<see cref="Simulation.SimulationClock"/>), so a compressed day can be played.
    /// </summary>
    public string Clock { get; set; } = "system";
}

/// <summary>Everything the gate agent reads from configuration, with paths resolved against the config file.</summary>
public sealed class GateSettings
{
    /// <summary>Section <c>Device</c>.</summary>
    public DeviceSettings Device { get; set; } = new();

    /// <summary>Section <c>Verification</c>.</summary>
    public VerificationSettings Verification { get; set; } = new();

    /// <summary>Section <c>Trust</c>.</summary>
    public TrustSettings Trust { get; set; } = new();

    /// <summary>Section <c>Clearing</c>.</summary>
    public ClearingSettings Clearing { get; set; } = new();

    /// <summary>Section <c>Journal</c>.</summary>
    public JournalSettings Journal { get; set; } = new();

    /// <summary>Section <c>Scanner</c>.</summary>
    public ScannerSettings Scanner { get; set; } = new();

    /// <summary>Section <c>Hardware</c>.</summary>
    public HardwareSettings Hardware { get; set; } = new();

    /// <summary>Section <c>Status</c>.</summary>
    public StatusSettings Status { get; set; } = new();

    /// <summary>Section <c>Simulation</c>.</summary>
    public SimulationSettings Simulation { get; set; } = new();

    /// <summary>Section <c>Gps</c>.</summary>
    public GpsSettings Gps { get; set; } = new();
}
