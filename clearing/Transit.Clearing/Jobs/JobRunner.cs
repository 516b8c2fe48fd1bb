using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Transit.Analytics.Web.Store;
using Transit.Clearing.Charging;
using Transit.Clearing.Database;
using Transit.Clearing.Fleet;
using Transit.Clearing.Journeys;
using Transit.Clearing.Observability;
using Transit.Clearing.Settlement;

namespace Transit.Clearing.Jobs;

/// <summary>The kinds of jobs clearing runs.</summary>
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

    public static string DayKey(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}

/// <summary>Claims and runs jobs, and queues the recurring ones when there is something for them to do.</summary>
public sealed class JobRunner(
    JobQueue queue, DayClearing clearing, PaymentService payments, DenyListPublisher denyList, BalanceCheck balance,
    Reconciliation reconciliation, ServiceCalendar calendar, NpgsqlDataSource dataSource, ClearingOptions options, TimeProvider time,
    AnalyticsJobs analytics, ClearingMetrics metrics, ILogger<JobRunner> logger)
{
    private readonly string _worker = $"{Environment.MachineName}:{Environment.ProcessId}";

    /// <summary>Runs one due job; false when none was due.</summary>
    public async Task<bool> RunOneAsync(CancellationToken cancellation)
    {
        await queue.RecoverAbandonedAsync(cancellation);
        await using var job = await queue.TryClaimAsync(_worker, cancellation);
        if (job is null)
        {
            return false;
        }

        try
        {
            var result = await ExecuteAsync(job, cancellation);
            await queue.CompleteAsync(job, result, CancellationToken.None);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellation.IsCancellationRequested)
        {
            if (ex is BalanceException)
            {
                logger.LogCritical(ex, "job {Kind} {Key}: {Message}", job.Kind, job.Key, ex.Message);
            }
            else
            {
                logger.LogError(ex, "job {Kind} {Key} failed (attempt {Attempt})", job.Kind, job.Key, job.Attempts);
            }

            metrics.JobFailed(job.Kind);
            await queue.FailAsync(job, ex.Message, CancellationToken.None);
        }

        return true;
    }

    /// <summary>Queues recurring jobs that have work: days past their cut-off with unpriced taps, open payments, deny-list changes.</summary>
    public async Task ScheduleAsync(CancellationToken cancellation)
    {
        await calendar.LoadAsync(cancellation);
        var days = await Sql.ListAsync(dataSource, """
            SELECT service_day FROM service_days s WHERE EXISTS (SELECT 1 FROM dirty_account_days d WHERE d.service_day = s.service_day)
            """, r => r.GetFieldValue<DateOnly>(0), cancellation);
        foreach (var day in days.Where(d => calendar.Cutoff(d) <= time.GetUtcNow()))
        {
            await queue.EnqueueAsync(JobKinds.ClearDay, JobKinds.DayKey(day), cancellation: cancellation);
        }

        // Days still taking taps: their rollups follow every refresh interval (a queued refresh is left as it is).
        foreach (var day in days)
        {
            await queue.EnqueueAsync(AnalyticsJobs.Refresh, JobKinds.DayKey(day), options.Analytics.RefreshInterval, cancellation);
        }

        if (await Sql.ScalarAsync<bool>(dataSource, """
            SELECT EXISTS (SELECT 1 FROM charges WHERE status IN ('pending', 'submitted', 'declined') AND next_attempt_at <= now())
            """, cancellation))
        {
            await queue.EnqueueAsync(JobKinds.Payments, "all", cancellation: cancellation);
        }

        if (await Sql.ScalarAsync<bool>(dataSource, "SELECT EXISTS (SELECT 1 FROM accounts WHERE blocked <> on_deny_list)", cancellation))
        {
            await queue.EnqueueAsync(JobKinds.DenyList, "all", cancellation: cancellation);
        }
    }

    private async Task<string> ExecuteAsync(ClaimedJob job, CancellationToken cancellation)
    {
        switch (job.Kind)
        {
            case JobKinds.ClearDay:
                {
                    var day = ParseDay(job.Key);
                    await calendar.LoadAsync(cancellation);
                    var result = await clearing.ClearAsync(day, cancellation);
                    await queue.EnqueueAsync(JobKinds.Payments, "all", cancellation: cancellation);
                    await queue.EnqueueAsync(JobKinds.BalanceCheck, job.Key, cancellation: cancellation);
                    await queue.EnqueueAsync(JobKinds.Reconcile, job.Key, cancellation: cancellation);
                    await queue.EnqueueAsync(AnalyticsJobs.CloseDay, job.Key, cancellation: cancellation);
                    return result.ToString();
                }

            case JobKinds.Payments:
                {
                    var result = await payments.RunAsync(cancellation);
                    if (result.Declined > 0 || result.Succeeded > 0)
                    {
                        await queue.EnqueueAsync(JobKinds.DenyList, "all", cancellation: cancellation);
                    }

                    return result.ToString();
                }

            case JobKinds.DenyList:
                {
                    var (version, added, removed) = await denyList.PublishAsync(cancellation);
                    return $"deny list version {version}: {added} added, {removed} removed";
                }

            case JobKinds.BalanceCheck:
                return (await balance.CheckAsync(ParseDay(job.Key), cancellation)).ToString();

            case JobKinds.Reconcile:
                {
                    var devices = await reconciliation.ForDayAsync(ParseDay(job.Key), cancellation);
                    var withGaps = devices.Count(d => d.Gaps.Count > 0);
                    return $"{devices.Count} devices, {withGaps} with gaps, {devices.Sum(d => d.Missing)} taps missing";
                }

            case var kind when AnalyticsJobs.Handles(kind):
                return await analytics.ExecuteAsync(kind, job.Key, cancellation);

            default:
                throw new InvalidOperationException($"unknown job kind '{job.Kind}'");
        }
    }

    private static DateOnly ParseDay(string key) => DateOnly.ParseExact(key, "yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>Runs jobs until <paramref name="done"/> says so, for the command line.</summary>
    public async Task RunUntilAsync(Func<CancellationToken, Task<bool>> done, CancellationToken cancellation)
    {
        while (!await done(cancellation))
        {
            if (!await RunOneAsync(cancellation))
            {
                await Task.Delay(options.JobPollInterval, time, cancellation);
            }
        }
    }
}

/// <summary>The job workers of a clearing process.</summary>
public sealed class JobWorker(JobRunner runner, ClearingOptions options, TimeProvider time, ILogger<JobWorker> logger) : BackgroundService, IJobServerProbe
{
    /// <summary>True from start until the workers stop (a stop, or a fault that escaped them).</summary>
    public bool IsRunning => ExecuteTask is { IsCompleted: false };

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var workers = Enumerable.Range(0, Math.Max(1, options.Workers)).Select(i => WorkAsync(i == 0, stoppingToken));
        await Task.WhenAll(workers);
    }

    private async Task WorkAsync(bool schedules, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (schedules)
                {
                    await runner.ScheduleAsync(stoppingToken);
                }

                if (await runner.RunOneAsync(stoppingToken))
                {
                    continue;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or TimeoutException)
            {
                logger.LogWarning(ex, "job worker: {Message}", ex.Message);
            }

            try
            {
                await Task.Delay(options.JobPollInterval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
