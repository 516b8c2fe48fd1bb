using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Transit.Clearing.Observability;

/// <summary>
/// What an operator alerts on in clearing's own work, as instruments of the meter <c>Transit.Clearing</c>: failed
/// jobs, declined payments and failed balance checks. The counts live in this process (each node counts its own)
/// and are observed rather than pushed, so every series is there from the start at 0: an alert on
/// <c>increase(...)</c> then sees the first failure too.
/// </summary>
public sealed class ClearingMetrics : IDisposable
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "Transit.Clearing";

    private readonly Meter _meter = new(MeterName);
    private readonly ConcurrentDictionary<string, long> _jobFailures;
    private long _paymentsDeclined;
    private long _balanceCheckFailures;

    /// <param name="jobKinds">
    /// The kinds the job runner knows (Jobs/JobKinds.Monitored), so that each has a series before its first failure.
    /// Given by the host rather than read here: the payments and the balance check count into these metrics, and the
    /// jobs run them, so this type uses nothing of the jobs'.
    /// </param>
    public ClearingMetrics(IEnumerable<string> jobKinds)
    {
        _jobFailures = new(jobKinds.Select(k => KeyValuePair.Create(k, 0L)), StringComparer.Ordinal);
        _meter.CreateObservableCounter(
            "jobs_failed_total",
            () => _jobFailures.Select(e => new Measurement<long>(e.Value, new KeyValuePair<string, object?>("kind", e.Key))),
            description: "Job runs that ended in an error, by job kind (each attempt counts).");
        _meter.CreateObservableCounter(
            "payments_declined_total", () => Interlocked.Read(ref _paymentsDeclined), description: "Payment attempts the provider declined (the account goes into debt).");
        _meter.CreateObservableCounter(
            "balance_check_failures_total", () => Interlocked.Read(ref _balanceCheckFailures),
            description: "Balance checks that found a day whose charges are not the operators' shares plus the fee.");
    }

    /// <summary>This instance's meter: an exporter tells it apart from other instances' meters of the same name.</summary>
    internal Meter Meter => _meter;

    public void JobFailed(string kind) => _jobFailures.AddOrUpdate(kind, 1, static (_, n) => n + 1);

    public void PaymentsDeclined(int count) => Interlocked.Add(ref _paymentsDeclined, count);

    public void BalanceCheckFailed() => Interlocked.Increment(ref _balanceCheckFailures);

    public void Dispose() => _meter.Dispose();
}
