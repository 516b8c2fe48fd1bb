using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Prometheus;
using Transit.Clearing.Ingest;
using Transit.Clearing.Observability;

namespace Transit.Clearing.Observability.Export;

// The exporters read every area (ingest's and the fleet's figures); they sit apart from the counters the money stages
// count into (Observability/ClearingMetrics) so that settlement and payments use nothing that uses them back.

/// <summary>
/// This node's <see cref="System.Diagnostics.Metrics"/> instruments in the Prometheus text format through prometheus-net:
/// clearing's own meters, ASP.NET Core's and Kestrel's (made by this host's meter factory), HttpClient's, Npgsql's and
/// the runtime's, plus prometheus-net's process metrics. Its own registry, not prometheus-net's static one, so that
/// several clearing hosts in one process (tests, the demo) each export their own.
/// </summary>
public sealed class PrometheusExport : IDisposable
{
    // Process-wide meters: there is one of each whatever the number of hosts.
    private static readonly HashSet<string> SharedMeters = ["System.Runtime", "System.Net.Http", "System.Net.NameResolution", "Npgsql"];

    // Request and query durations, from a millisecond to half a minute.
    private static readonly double[] SecondsBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    private readonly CollectorRegistry _registry = Metrics.NewCustomRegistry();
    private readonly IDisposable _adapter;

    public PrometheusExport(IMeterFactory meterFactory, IngestMetrics ingest, ClearingMetrics clearing, FleetMetrics fleet)
    {
        DotNetStats.Register(_registry);
        Meter[] ours = [ingest.Meter, clearing.Meter, fleet.Meter];
        _adapter = MeterAdapter.StartListening(new MeterAdapterOptions
        {
            Registry = _registry,
            MetricFactory = Metrics.WithCustomRegistry(_registry),
            InstrumentFilterPredicate = i => ours.Contains(i.Meter) || ReferenceEquals(i.Meter.Scope, meterFactory) || SharedMeters.Contains(i.Meter.Name),
            ResolveHistogramBuckets = i => i.Unit == "s" ? SecondsBuckets : MeterAdapterOptions.DefaultHistogramBuckets,
            // prometheus-net drops a series nobody has written to for this long; a day (its maximum) keeps the quiet
            // night's histograms. Observed instruments are written at every scrape and never expire.
            MetricsExpireAfter = TimeSpan.FromDays(1),
        });
    }

    public Task WriteAsync(Stream to, CancellationToken cancellation) => _registry.CollectAndExportAsTextAsync(to, cancellation);

    public void Dispose() => _adapter.Dispose();
}

/// <summary><c>GET /metrics</c> on the operators' listener.</summary>
public static class MetricsEndpoint
{
    public static void MapClearingMetrics(this IEndpointRouteBuilder app) =>
        app.MapGet("/metrics", async (PrometheusExport export, FleetMetrics fleet, CancellationToken cancellation) =>
        {
            await fleet.RefreshAsync(cancellation);
            return TypedResults.Stream(body => export.WriteAsync(body, cancellation), PrometheusConstants.TextContentTypeWithVersionAndEncoding);
        }).RequireAuthorization(MonitoringAccess.Policy).ExcludeFromDescription();
}
