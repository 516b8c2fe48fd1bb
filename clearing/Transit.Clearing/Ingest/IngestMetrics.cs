using System.Diagnostics.Metrics;

namespace Transit.Clearing.Ingest;

/// <summary>
/// Where ingest spends its time, as <see cref="System.Diagnostics.Metrics"/> instruments of the meter
/// <c>Transit.Clearing.Ingest</c> (dotnet-counters, OpenTelemetry, or a <see cref="MeterListener"/>): request bodies
/// read and parsed, codes re-verified, batches stored (one transaction each, commit included).
/// </summary>
public sealed class IngestMetrics : IDisposable
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "Transit.Clearing.Ingest";

    private readonly Meter _meter = new(MeterName);
    private readonly Histogram<double> _parse;
    private readonly Histogram<double> _verify;
    private readonly Histogram<double> _store;
    private readonly Counter<long> _received;
    private readonly Counter<long> _stored;
    private readonly Counter<long> _generalStores;

    public IngestMetrics()
    {
        _parse = _meter.CreateHistogram<double>("transit.ingest.parse.duration", "s", "reading and parsing a batch's request body");
        _verify = _meter.CreateHistogram<double>("transit.ingest.verify.duration", "s", "re-verifying and staging a batch's taps");
        _store = _meter.CreateHistogram<double>("transit.ingest.store.duration", "s", "storing a batch: one transaction, commit included");
        _received = _meter.CreateCounter<long>("transit.ingest.taps.received", "{tap}", "taps in batches that passed validation");
        _stored = _meter.CreateCounter<long>("transit.ingest.taps.stored", "{tap}", "taps stored for the first time");
        _generalStores = _meter.CreateCounter<long>(
            "transit.ingest.batches.general", "{batch}", "batches stored by the general statement after a duplicate tap or code stopped the plain insert");
    }

    public void Parsed(TimeSpan elapsed) => _parse.Record(elapsed.TotalSeconds);

    public void Verified(int taps, TimeSpan elapsed)
    {
        _received.Add(taps);
        _verify.Record(elapsed.TotalSeconds);
    }

    public void Stored(int taps, TimeSpan elapsed)
    {
        _stored.Add(taps);
        _store.Record(elapsed.TotalSeconds);
    }

    public void StoredByGeneralStatement() => _generalStores.Add(1);

    /// <summary>This instance's meter: a listener tells it apart from other instances' meters of the same name.</summary>
    internal Meter Meter => _meter;

    public void Dispose() => _meter.Dispose();
}
