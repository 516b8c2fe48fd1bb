using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Prometheus;

namespace Transit.GateAgent.Status;

/// <summary>
/// Counters and gauges of the gate, written lock-free by the pipeline and read by /health and the status heartbeat;
/// /metrics gets them as <see cref="System.Diagnostics.Metrics"/> instruments of the meter <c>Transit.Gate</c>,
/// written out in the Prometheus text format by prometheus-net. The counters are observed from the fields the
/// heartbeat reads, so both always agree and every series is there from the start.
/// </summary>
public sealed class GateMetrics : IDisposable
{
    /// <summary>The meter's name; prometheus-net puts it before each instrument's name (<c>transit_gate_…</c>).</summary>
    public const string MeterName = "Transit.Gate";

    /// <summary>Upper bounds (seconds) of the decision latency histogram: fine below 10 ms, where a gate should be.</summary>
    public static readonly double[] LatencyBuckets = [0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.3, 1];

    private const int RecentSize = 2048;

    private readonly ConcurrentDictionary<(bool Accepted, string Reason), long> _taps = new();
    private readonly ConcurrentDictionary<string, long> _syncRefusals = new();
    private readonly ConcurrentDictionary<string, long> _uploadFailures = new();
    private readonly long[] _recentMicros = new long[RecentSize];
    private readonly Lock _latencyLock = new();
    private readonly Meter _meter = new(MeterName);
    private readonly Histogram<double> _latency;
    private readonly CollectorRegistry _registry = Metrics.NewCustomRegistry();
    private readonly IDisposable _adapter;
    private long _latencyCount;
    private long _barrierOpens;
    private long _batchesUploaded;
    private long _tapsUploaded;
    private long _lastUploadUnixMs;
    private long _lastSyncUnixMs;
    private long _clockOffsetMillis;
    private long _clockOffsetKnown;
    private long _scannerLines;
    private long _notJournaled;
    private long _commitFailures;

    /// <summary>Creates the instruments and the registry /metrics writes out.</summary>
    public GateMetrics()
    {
        _latency = _meter.CreateHistogram<double>("decision_latency_seconds", description: "Scan read to durable commit.");
        _meter.CreateObservableCounter(
            "taps_total",
            () => _taps.Select(e => new Measurement<long>(e.Value, new("decision", e.Key.Accepted ? "accepted" : "refused"), new("reason", e.Key.Reason))),
            description: "Taps committed to the journal, by decision and reason.");
        Counter("scanner_lines_total", "Lines read from all scanner inputs.", () => Interlocked.Read(ref _scannerLines));
        Counter("scans_not_journaled_total", "Refused garbage scans left out of the journal (repeats within a minute, or over the rate cap).", () => Interlocked.Read(ref _notJournaled));
        Counter("journal_full_refusals_total", "Scans refused because the journal could not commit them (disk full).", () => Interlocked.Read(ref _commitFailures));
        Counter("barrier_opens_total", "Times the barrier opened.", () => Interlocked.Read(ref _barrierOpens));
        Counter("upload_batches_total", "Tap batches acknowledged by clearing.", () => Interlocked.Read(ref _batchesUploaded));
        Counter("uploaded_taps_total", "Taps sent in acknowledged batches.", () => Interlocked.Read(ref _tapsUploaded));
        Labelled("upload_failures_total", "Failed uploads by cause.", "cause", _uploadFailures);
        Labelled("sync_refused_total", "Trust documents refused (bad signature, older, out of order).", "document", _syncRefusals);

        // Its own registry, not prometheus-net's static one: tests run several gates in one process.
        DotNetStats.Register(_registry);
        _adapter = MeterAdapter.StartListening(AdapterOptions(_registry, _meter));
        WarmUpRecording();
    }

    /// <summary>Unix time (ms) of the last successful upload, 0 when none.</summary>
    public long LastUploadUnixMs => Interlocked.Read(ref _lastUploadUnixMs);

    /// <summary>Unix time (ms) of the last successful sync, 0 when none.</summary>
    public long LastSyncUnixMs => Interlocked.Read(ref _lastSyncUnixMs);

    /// <summary>When the last upload was acknowledged, null when none.</summary>
    public DateTime? LastUploadAt => ToUtc(LastUploadUnixMs);

    /// <summary>When the last sync round completed, null when none.</summary>
    public DateTime? LastSyncAt => ToUtc(LastSyncUnixMs);

    /// <summary>Estimated clock offset (server − gate), null until a heartbeat answered.</summary>
    public long? ClockOffsetMillis => Interlocked.Read(ref _clockOffsetKnown) == 1 ? Interlocked.Read(ref _clockOffsetMillis) : null;

    /// <summary>Times the barrier opened.</summary>
    public long BarrierOpens => Interlocked.Read(ref _barrierOpens);

    /// <summary>Counts a committed tap and its decision latency (read to durable commit).</summary>
    public void RecordTap(bool accepted, string reason, TimeSpan decisionLatency)
    {
        _taps.AddOrUpdate((accepted, reason), 1, static (_, n) => n + 1);
        _latency.Record(decisionLatency.TotalSeconds);
        lock (_latencyLock)
        {
            _recentMicros[_latencyCount % RecentSize] = (long)decisionLatency.TotalMicroseconds;
            _latencyCount++;
        }
    }

    /// <summary>Counts a line read by a scanner input.</summary>
    public void RecordScannerLine() => Interlocked.Increment(ref _scannerLines);

    /// <summary>Counts a refused garbage scan left out of the journal (a repeat, or over the rate cap).</summary>
    public void RecordNotJournaled() => Interlocked.Increment(ref _notJournaled);

    /// <summary>Counts a tap refused because its commit failed for lack of disk space.</summary>
    public void RecordCommitFailure() => Interlocked.Increment(ref _commitFailures);

    /// <summary>Counts a barrier opening.</summary>
    public void RecordBarrierOpen() => Interlocked.Increment(ref _barrierOpens);

    /// <summary>Counts an acknowledged batch.</summary>
    public void RecordUpload(int taps, DateTimeOffset at)
    {
        Interlocked.Increment(ref _batchesUploaded);
        Interlocked.Add(ref _tapsUploaded, taps);
        Interlocked.Exchange(ref _lastUploadUnixMs, at.ToUnixTimeMilliseconds());
    }

    /// <summary>Counts a failed upload by cause (HTTP status or <c>network</c>).</summary>
    public void RecordUploadFailure(string cause) => _uploadFailures.AddOrUpdate(cause, 1, static (_, n) => n + 1);

    /// <summary>Records a completed sync round.</summary>
    public void RecordSync(DateTimeOffset at) => Interlocked.Exchange(ref _lastSyncUnixMs, at.ToUnixTimeMilliseconds());

    /// <summary>Counts a refused trust document (bad signature, older, out of order).</summary>
    public void RecordSyncRefusal(string document) => _syncRefusals.AddOrUpdate(document, 1, static (_, n) => n + 1);

    /// <summary>Refusals so far for <paramref name="document"/>.</summary>
    public long SyncRefusals(string document) => _syncRefusals.TryGetValue(document, out var n) ? n : 0;

    /// <summary>Records the clock offset estimated from a heartbeat.</summary>
    public void RecordClockOffset(long millis)
    {
        Interlocked.Exchange(ref _clockOffsetMillis, millis);
        Interlocked.Exchange(ref _clockOffsetKnown, 1);
    }

    /// <summary>Taps by reason (accepted and refused together).</summary>
    public Dictionary<string, long> TapsByReason()
    {
        var result = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var ((_, reason), count) in _taps)
        {
            result[reason] = result.GetValueOrDefault(reason) + count;
        }

        return result;
    }

    /// <summary>The 99th percentile of the latest decisions' latency, in microseconds; null before any tap.</summary>
    public long? RecentP99Micros()
    {
        long[] sample;
        lock (_latencyLock)
        {
            var n = (int)Math.Min(_latencyCount, RecentSize);
            if (n == 0)
            {
                return null;
            }

            sample = _recentMicros[..n];
        }

        Array.Sort(sample);
        return sample[Math.Min(sample.Length - 1, (int)Math.Ceiling(0.99 * sample.Length) - 1)];
    }

    /// <summary>Adds a gauge read at each scrape (its name gets the <c>transit_gate_</c> prefix).</summary>
    public void AddGauge(string name, string help, Func<double> read) => _meter.CreateObservableGauge(name, read, description: help);

    /// <summary>Writes the Prometheus text exposition (version 0.0.4) of every instrument and the process metrics.</summary>
    public Task WritePrometheusAsync(Stream to, CancellationToken cancellation) => _registry.CollectAndExportAsTextAsync(to, cancellation);

    /// <summary>Stops listening to the meter and disposes it.</summary>
    public void Dispose()
    {
        _adapter.Dispose();
        _meter.Dispose();
    }

    private static MeterAdapterOptions AdapterOptions(CollectorRegistry registry, Meter meter) => new()
    {
        Registry = registry,
        MetricFactory = Metrics.WithCustomRegistry(registry),
        InstrumentFilterPredicate = i => ReferenceEquals(i.Meter, meter),
        ResolveHistogramBuckets = _ => LatencyBuckets,
        // The latency histogram is the one series written only by taps: a day (prometheus-net's maximum) keeps it
        // through a quiet night.
        MetricsExpireAfter = TimeSpan.FromDays(1),
    };

    /// <summary>
    /// The first measurement through the adapter compiles prometheus-net's recording path, and taps are recorded before
    /// the rider gets the answer: a throwaway meter and registry take that cost before the agent reports ready.
    /// </summary>
    private static void WarmUpRecording()
    {
        using var meter = new Meter(MeterName + ".WarmUp");
        var registry = Metrics.NewCustomRegistry();
        using var adapter = MeterAdapter.StartListening(AdapterOptions(registry, meter));
        meter.CreateHistogram<double>("warm_up").Record(0.001);
    }

    private static DateTime? ToUtc(long unixMs) => unixMs == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(unixMs).UtcDateTime;

    private void Counter(string name, string help, Func<long> read) =>
        _meter.CreateObservableCounter(name, read, description: help);

    private void Labelled(string name, string help, string label, ConcurrentDictionary<string, long> values) =>
        _meter.CreateObservableCounter(name, () => values.Select(e => new Measurement<long>(e.Value, new KeyValuePair<string, object?>(label, e.Key))), description: help);
}
