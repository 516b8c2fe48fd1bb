namespace Transit.Clearing;

/// <summary>Settings of the clearing service (configuration section <c>Clearing</c>).</summary>
public sealed class ClearingOptions
{
    /// <summary>PostgreSQL connection string; when empty the embedded cluster under <see cref="DataFolder"/> is used.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Local state (embedded PostgreSQL under <c>pg/</c>); default <c>.transit</c> of the repository.</summary>
    public string? DataFolder { get; set; }

    /// <summary>The operator's key directory (<c>transit keys init</c>); default <c>.transit/keys</c>.</summary>
    public string? KeyDirectory { get; set; }

    /// <summary>Address of the mutual-TLS device listener (default: every interface).</summary>
    public string DeviceAddress { get; set; } = "0.0.0.0";

    /// <summary>Port of the mutual-TLS device listener; 0 picks a free port.</summary>
    public int DevicePort { get; set; } = 8443;

    /// <summary>IANA time zone of service days; default the first operator's (agency_timezone), else UTC.</summary>
    public string? TimeZone { get; set; }

    /// <summary>When a service day begins, local time: taps before it belong to the previous day.</summary>
    public TimeSpan ServiceDayStart { get; set; } = TimeSpan.FromHours(4);

    /// <summary>End-of-day clearing runs this long after the service day ends (late uploads get a chance).</summary>
    public TimeSpan ClearingCutoff { get; set; } = TimeSpan.FromHours(2);

    /// <summary>Longest metro journey: an exit later than this after the entry does not close it.</summary>
    public TimeSpan MaxJourneyTime { get; set; } = TimeSpan.FromHours(3);

    /// <summary>Legs further apart than this start a new journey when the feed's transfer rules name no limit.</summary>
    public TimeSpan TransferWindow { get; set; } = TimeSpan.FromMinutes(90);

    /// <summary>Fare of an incomplete journey (missing entry or exit) per network, in minor units; networks not listed get the fare rules' default (the dearest product).</summary>
    public Dictionary<string, long> MaximumFares { get; set; } = [];

    /// <summary>
    /// What a leg no fare rule prices is charged (docs/fare-rules.md, "Unpriced legs"): by default the dearest fare any
    /// rule could charge from where the rider boarded; the leg and its journey are flagged and counted either way.
    /// </summary>
    public Transit.FareRules.UnpricedLegPolicy UnpricedLegs { get; set; } = Transit.FareRules.UnpricedLegPolicy.HighestFromBoardingArea;

    /// <summary>A fixed fare, in minor units, for every unpriced leg of a network (key: network_id, "" for routes without one); takes precedence over <see cref="UnpricedLegs"/>.</summary>
    public Dictionary<string, long> DefaultFares { get; set; } = [];

    /// <summary>Platform fee in basis points of each operator's gross share.</summary>
    public int PlatformFeeBasisPoints { get; set; } = 150;

    /// <summary>Ride-code freshness used when re-verifying taps and sent to gates.</summary>
    public int MaxAgeSeconds { get; set; } = 60;

    /// <summary>Clock-ahead tolerance used when re-verifying taps and sent to gates.</summary>
    public int MaxAheadSeconds { get; set; } = 30;

    /// <summary>Pass-back time sent to gates.</summary>
    public int PassbackSeconds { get; set; } = 120;

    /// <summary>A device not heard from (no upload, no status) for longer than this raises the <c>silent</c> alarm in the fleet view.</summary>
    public TimeSpan SilentDeviceAfter { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Refused taps (device mismatch, malformed, stale or future) received within this window keep a device's alarm raised.</summary>
    public TimeSpan DeviceAlarmWindow { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Run the job workers in this process.</summary>
    public bool RunJobs { get; set; } = true;

    /// <summary>Job workers in this process.</summary>
    public int Workers { get; set; } = 2;

    /// <summary>How often idle workers look for due jobs (Hangfire's queue and schedule polling; queued jobs also wake them at once).</summary>
    public TimeSpan JobPollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a running job may go without its server's keep-alive before another worker fetches it again: the
    /// delay before a killed process's job resumes elsewhere (a live server renews it every fifth of this).
    /// </summary>
    public TimeSpan JobInvisibilityTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Parts a day's clearing is split into; each part is one transaction, so a crash loses at most one.</summary>
    public int ClearingParts { get; set; } = 16;

    /// <summary>Parts of a day's clearing run side by side (default: one per processor).</summary>
    public int ClearingParallelism { get; set; } = Environment.ProcessorCount;

    /// <summary>For crash tests: after committing this part, the clearing run prints a line and waits to be killed.</summary>
    public int? PauseAfterPart { get; set; }

    /// <summary>For crash tests: this part writes everything, prints a line and waits to be killed before it commits.</summary>
    public int? PauseInsidePart { get; set; }

    /// <summary>For crash tests: a payment batch, once its first request is at the provider, prints a line and waits to be killed before it commits.</summary>
    public bool PauseInsidePayments { get; set; }

    /// <summary>Payment batches run side by side, each worker taking its own share of the charges (default: one per processor).</summary>
    public int PaymentParallelism { get; set; } = Environment.ProcessorCount;

    /// <summary>Wait before retrying a declined payment.</summary>
    public TimeSpan PaymentRetryDelay { get; set; } = TimeSpan.FromHours(24);

    /// <summary>The simulated payment provider.</summary>
    public SimulatedPaymentOptions Payments { get; set; } = new();

    /// <summary>Ridership analytics (docs/analytics.md).</summary>
    public AnalyticsSettings Analytics { get; set; } = new();

    /// <summary>The riders' issuance API and wallet (docs/rider.md).</summary>
    public RiderSettings Riders { get; set; } = new();
}

/// <summary>Settings of ridership analytics (configuration section <c>Clearing:Analytics</c>).</summary>
public sealed class AnalyticsSettings
{
    /// <summary>
    /// The deployment's secret for keyed pseudonyms (hex or base64, at least 16 bytes). When empty, one is made on
    /// first start and kept beside the operator's keys (<c>analytics-pseudonym.key</c>).
    /// </summary>
    public string? PseudonymSecret { get; set; }

    /// <summary>Answer rows counting fewer distinct riders are withheld from planners and operators (1–64).</summary>
    public int SuppressionK { get; set; } = 10;

    /// <summary>Walking distance between an alighting and the next boarding, for trip chaining.</summary>
    public double MaxWalkMeters { get; set; } = 1000;

    /// <summary>ISO 4217 code of the money in revenue figures and exports.</summary>
    public string Currency { get; set; } = "EUR";

    /// <summary>How often rollups of days still taking taps are brought up to date.</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromMinutes(5);
}

/// <summary>Behaviour of the simulated payment provider.</summary>
public sealed class SimulatedPaymentOptions
{
    /// <summary>Share of charges declined (0–1), decided by the charge's idempotency key so that a retry of the same request gets the same answer.</summary>
    public double DeclineRate { get; set; } = 0.02;

    /// <summary>Accounts whose charges are always declined (tests, demo).</summary>
    public IList<string> DeclineAccounts { get; set; } = [];

    /// <summary>
    /// A file where the simulated provider keeps its ledger (one line per request and per change), so that it outlives
    /// the process and every process using the file sees one provider: what crash tests check for double collection.
    /// Null: in memory only.
    /// </summary>
    public string? LedgerFile { get; set; }

    /// <summary>Time until a submitted charge's result is known.</summary>
    public TimeSpan Latency { get; set; } = TimeSpan.FromMilliseconds(200);
}
