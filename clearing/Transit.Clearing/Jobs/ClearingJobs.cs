using System.Globalization;
using Hangfire;
using Microsoft.Extensions.Logging;
using Transit.Analytics.Store;
using Transit.Clearing.Charging;
using Transit.Clearing.Fleet;
using Transit.Clearing.Pipeline;
using Transit.Clearing.Settlement;

namespace Transit.Clearing.Jobs;

/// <summary>The kinds of jobs clearing runs, as <c>/api/jobs</c> names them.</summary>
public static class JobKinds
{
    /// <summary>Close, price, charge and settle one service day (key: the day); reruns price late taps.</summary>
    public const string ClearDay = "clear-day";

    /// <summary>Submit due charges and collect results (key: <c>all</c>).</summary>
    public const string Payments = "payments";

    /// <summary>Publish a new deny-list version for blocked and unblocked accounts (key: <c>all</c>).</summary>
    public const string DenyList = "deny-list";

    /// <summary>Check the balance invariant of a day (key: the day); fails loudly when it does not hold.</summary>
    public const string BalanceCheck = "balance-check";

    /// <summary>Reconcile every device's sequence ranges of a day (key: the day).</summary>
    public const string Reconcile = "reconcile";

    /// <summary>Finds days to clear, due payments and deny-list changes, and queues their jobs (key: <c>all</c>).</summary>
    public const string Sweep = "sweep";

    /// <summary>Queues the pipeline of the service day whose cut-off has just passed (key: <c>all</c>).</summary>
    public const string CloseOfDay = "close-of-day";

    /// <summary>Every kind, in the order of its advisory lock class: the order is part of the lock keys, append only.</summary>
    internal static readonly string[] All = [ClearDay, Payments, DenyList, BalanceCheck, Reconcile, AnalyticsJobs.Refresh, AnalyticsJobs.CloseDay, Sweep, CloseOfDay];

    /// <summary>The kinds whose failures clearing's metrics count from 0 (Observability/ClearingMetrics): the day's work.</summary>
    public static readonly IReadOnlyList<string> Monitored = [ClearDay, Payments, DenyList, BalanceCheck, Reconcile, AnalyticsJobs.Refresh, AnalyticsJobs.CloseDay];

    public const string AllKey = "all";

    public static string DayKey(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static DateOnly ParseDay(string key) => DateOnly.ParseExact(key, "yyyy-MM-dd", CultureInfo.InvariantCulture);
}

/// <summary>
/// What Hangfire runs: one public method per job kind, each holding its (kind, key) lock for as long as it runs, so
/// that a job fetched twice (a worker that stalled past the invisibility timeout, two pipelines of one day queued
/// by two processes) runs one copy at a time; each job is idempotent, so the later copy finds nothing left to do.
/// Retries back off from 10 s to 30 min; after the last one the job stays failed on the dashboard and in
/// <c>/api/jobs</c>, and the next sweep queues the day again if it still has work.
/// </summary>
[AutomaticRetry(Attempts = 5, DelaysInSeconds = new[] { 10, 60, 300, 900, 1800 }, OnAttemptsExceeded = AttemptsExceededAction.Fail)]
public sealed class ClearingJobs(
    DayClearing clearing, PaymentService payments, DenyListPublisher denyList, BalanceCheck balance, Reconciliation reconciliation,
    ServiceCalendar calendar, AnalyticsJobs analytics, JobLocks locks, JobScheduler scheduler, ILogger<ClearingJobs> logger)
{
    [JobDisplayName("clear-day {0}")]
    public async Task<string> ClearDayAsync(string day, CancellationToken cancellation)
    {
        await using var hold = await locks.HoldAsync(JobKinds.ClearDay, day, cancellation);
        await calendar.LoadAsync(cancellation);
        return (await clearing.ClearAsync(JobKinds.ParseDay(day), cancellation)).ToString();
    }

    [JobDisplayName("payments")]
    public async Task<string> PaymentsAsync(CancellationToken cancellation)
    {
        await using var hold = await locks.HoldAsync(JobKinds.Payments, JobKinds.AllKey, cancellation);
        var result = await payments.RunAsync(cancellation);
        if (result.Declined > 0 || result.Succeeded > 0)
        {
            scheduler.QueueDenyList();
        }

        return result.ToString();
    }

    [JobDisplayName("deny-list")]
    public async Task<string> DenyListAsync(CancellationToken cancellation)
    {
        await using var hold = await locks.HoldAsync(JobKinds.DenyList, JobKinds.AllKey, cancellation);
        var (version, added, removed) = await denyList.PublishAsync(cancellation);
        return $"deny list version {version}: {added} added, {removed} removed";
    }

    [JobDisplayName("balance-check {0}")]
    public async Task<string> BalanceCheckAsync(string day, CancellationToken cancellation)
    {
        await using var hold = await locks.HoldAsync(JobKinds.BalanceCheck, day, cancellation);
        try
        {
            return (await balance.CheckAsync(JobKinds.ParseDay(day), cancellation)).ToString();
        }
        catch (BalanceException ex)
        {
            // Hangfire logs the failure and retries; books that do not balance are worth more than a retry line.
            logger.LogCritical(ex, "balance-check {Day}: {Message}", day, ex.Message);
            throw;
        }
    }

    [JobDisplayName("reconcile {0}")]
    public async Task<string> ReconcileAsync(string day, CancellationToken cancellation)
    {
        await using var hold = await locks.HoldAsync(JobKinds.Reconcile, day, cancellation);
        var devices = await reconciliation.ForDayAsync(JobKinds.ParseDay(day), cancellation);
        var withGaps = devices.Count(d => d.Gaps.Count > 0);
        return $"{devices.Count} devices, {withGaps} with gaps, {devices.Sum(d => d.Missing)} taps missing";
    }

    [JobDisplayName("analytics-refresh {0}")]
    public Task<string> AnalyticsRefreshAsync(string day, CancellationToken cancellation) => AnalyticsAsync(AnalyticsJobs.Refresh, day, cancellation);

    [JobDisplayName("analytics-close-day {0}")]
    public Task<string> AnalyticsCloseDayAsync(string day, CancellationToken cancellation) => AnalyticsAsync(AnalyticsJobs.CloseDay, day, cancellation);

    /// <summary>The every-minute recurring job; a failed sweep is not kept (the next one runs in a minute).</summary>
    [JobDisplayName("sweep")]
    [AutomaticRetry(Attempts = 0, OnAttemptsExceeded = AttemptsExceededAction.Delete)]
    public async Task<string> SweepAsync(CancellationToken cancellation)
    {
        await using var hold = await locks.HoldAsync(JobKinds.Sweep, JobKinds.AllKey, cancellation);
        return await scheduler.SweepAsync(cancellation);
    }

    /// <summary>The daily recurring job at the cut-off, in the service day's time zone.</summary>
    [JobDisplayName("close-of-day")]
    public async Task<string> CloseOfDayAsync(CancellationToken cancellation)
    {
        await using var hold = await locks.HoldAsync(JobKinds.CloseOfDay, JobKinds.AllKey, cancellation);
        return await scheduler.CloseOfDayAsync(cancellation);
    }

    private async Task<string> AnalyticsAsync(string kind, string day, CancellationToken cancellation)
    {
        await using var hold = await locks.HoldAsync(kind, day, cancellation);
        return await analytics.ExecuteAsync(kind, day, cancellation);
    }
}
