using System.Linq.Expressions;
using Hangfire;
using Hangfire.Storage;
using Npgsql;
using Transit.Clearing.Database;

namespace Transit.Clearing.Jobs;

/// <summary>
/// Queues clearing's jobs on Hangfire: the day's pipeline, and the jobs the sweep finds work for. Each queueing has a
/// name (<c>day:2026-11-18</c>, <c>payments</c>, …) under which Hangfire's storage keeps the ids it queued; a name
/// whose jobs are still queued, scheduled, running or awaiting is not queued again (so two processes, or a sweep
/// every minute, never stack up copies), and its ids are answered instead.
/// </summary>
public sealed class JobScheduler(
    JobStorage storage, IBackgroundJobClient client, NpgsqlDataSource dataSource, ServiceCalendar calendar, ClearingOptions options, TimeProvider time)
{
    /// <summary>
    /// The day's pipeline, in order: each step is a continuation of the one before and starts when it has succeeded
    /// (clear → pay → balance → reconcile → close analytics).
    /// </summary>
    internal static readonly IReadOnlyList<Func<string, Expression<Func<ClearingJobs, Task>>>> DayPipeline =
    [
        day => jobs => jobs.ClearDayAsync(day, CancellationToken.None),
        _ => jobs => jobs.PaymentsAsync(CancellationToken.None),
        day => jobs => jobs.BalanceCheckAsync(day, CancellationToken.None),
        day => jobs => jobs.ReconcileAsync(day, CancellationToken.None),
        day => jobs => jobs.AnalyticsCloseDayAsync(day, CancellationToken.None),
    ];

    private static readonly string[] PendingStates = ["Enqueued", "Scheduled", "Processing", "Awaiting"];

    /// <summary>Queues the pipeline of <paramref name="day"/> unless one is pending; returns its job ids in order.</summary>
    public IReadOnlyList<string> QueueDay(DateOnly day)
    {
        var key = JobKinds.DayKey(day);
        return QueueOnce(DayPipelineName(day), () =>
        {
            var ids = new List<string>();
            foreach (var step in DayPipeline)
            {
                ids.Add(ids.Count == 0 ? client.Enqueue(step(key)) : client.ContinueJobWith(ids[^1], step(key)));
            }

            return ids;
        });
    }

    /// <summary>Whether the pipeline last queued for <paramref name="day"/> is still to finish (its last step: the analytics' close of the day).</summary>
    public bool IsDayPending(DateOnly day) => IsPending(DayPipelineName(day));

    private static string DayPipelineName(DateOnly day) => "day:" + JobKinds.DayKey(day);

    public IReadOnlyList<string> QueuePayments() => QueueOnce(JobKinds.Payments, () => [client.Enqueue<ClearingJobs>(j => j.PaymentsAsync(CancellationToken.None))]);

    public IReadOnlyList<string> QueueDenyList() => QueueOnce(JobKinds.DenyList, () => [client.Enqueue<ClearingJobs>(j => j.DenyListAsync(CancellationToken.None))]);

    /// <summary>Whether the jobs last queued under <paramref name="ids"/> are still to finish (see <see cref="JobScheduler"/>).</summary>
    public bool IsPending(IReadOnlyList<string> ids)
    {
        using var connection = storage.GetConnection();
        return IsPending(connection, ids);
    }

    /// <summary>Whether the jobs last queued under <paramref name="name"/> (<c>payments</c>, <c>deny-list</c>, <c>day:2026-11-18</c>) are still to finish.</summary>
    public bool IsPending(string name)
    {
        using var connection = storage.GetConnection();
        return connection.GetAllEntriesFromHash(HashOf(name)) is { } entries && entries.TryGetValue("jobs", out var last) && IsPending(connection, last.Split(','));
    }

    /// <summary>Queues at once each of <paramref name="ids"/> that waits for a retry.</summary>
    public void RetryNow(IReadOnlyList<string> ids)
    {
        foreach (var (id, state) in ids.Zip(States(ids)))
        {
            if (state == "Scheduled")
            {
                client.Requeue(id);
            }
        }
    }

    /// <summary>The state of each job (Hangfire's state names), in order.</summary>
    public IReadOnlyList<string?> States(IReadOnlyList<string> ids)
    {
        using var connection = storage.GetConnection();
        return [.. ids.Select(id => connection.GetStateData(id)?.Name)];
    }

    /// <summary>
    /// Declares the recurring jobs (again): <c>sweep</c> every minute, <c>close-of-day</c> daily at the cut-off in the
    /// service day's time zone. The sweep declares them again, so that a zone first known when a feed is imported
    /// takes effect without a restart (Hangfire changes nothing when the definition is the same).
    /// </summary>
    public void DeclareRecurring()
    {
        var recurring = new RecurringJobManager(storage);
        var zone = new RecurringJobOptions { TimeZone = calendar.Zone };
        recurring.AddOrUpdate<ClearingJobs>(JobKinds.Sweep, j => j.SweepAsync(CancellationToken.None), Cron.Minutely(), zone);
        var cutoff = options.ServiceDayStart + options.ClearingCutoff;
        recurring.AddOrUpdate<ClearingJobs>(JobKinds.CloseOfDay, j => j.CloseOfDayAsync(CancellationToken.None), Cron.Daily(cutoff.Hours, cutoff.Minutes), zone);
    }

    /// <summary>
    /// Queues what has work: the pipeline of each day past its cut-off with account-days to (re)price, an analytics
    /// refresh of each day taking taps, payments when charges are due, the deny list when it lags the accounts.
    /// </summary>
    public async Task<string> SweepAsync(CancellationToken cancellation)
    {
        await calendar.LoadAsync(cancellation);
        DeclareRecurring();
        var days = await Sql.ListAsync(dataSource, """
            SELECT service_day FROM service_days s WHERE EXISTS (SELECT 1 FROM dirty_account_days d WHERE d.service_day = s.service_day)
            """, r => r.GetFieldValue<DateOnly>(0), cancellation);
        var due = days.Where(d => calendar.Cutoff(d) <= time.GetUtcNow()).ToList();
        foreach (var day in due)
        {
            QueueDay(day);
        }

        // Days still taking taps: their rollups follow every refresh interval (a pending refresh is left as it is).
        foreach (var key in days.Select(JobKinds.DayKey))
        {
            QueueOnce("analytics-refresh:" + key, () => [client.Schedule<ClearingJobs>(j => j.AnalyticsRefreshAsync(key, CancellationToken.None), options.Analytics.RefreshInterval)]);
        }

        var payments = await Sql.ScalarAsync<bool>(dataSource, """
            SELECT EXISTS (SELECT 1 FROM charges WHERE status IN ('pending', 'submitted', 'declined') AND next_attempt_at <= now())
            """, cancellation);
        if (payments)
        {
            QueuePayments();
        }

        var denyList = await Sql.ScalarAsync<bool>(dataSource, "SELECT EXISTS (SELECT 1 FROM accounts WHERE blocked <> on_deny_list)", cancellation);
        if (denyList)
        {
            QueueDenyList();
        }

        return $"{due.Count} days to clear, {days.Count} taking taps{(payments ? ", payments due" : "")}{(denyList ? ", deny list behind" : "")}";
    }

    /// <summary>Queues the pipeline of the service day whose cut-off passed last, if it had taps.</summary>
    public async Task<string> CloseOfDayAsync(CancellationToken cancellation)
    {
        await calendar.LoadAsync(cancellation);
        var day = calendar.DayOf(time.GetUtcNow() - options.ClearingCutoff).AddDays(-1);
        if (!await Sql.ScalarAsync<bool>(dataSource, "SELECT EXISTS (SELECT 1 FROM service_days WHERE service_day = $1)", cancellation, day))
        {
            return $"{JobKinds.DayKey(day)} had no taps";
        }

        QueueDay(day);
        return $"queued {JobKinds.DayKey(day)}";
    }

    private IReadOnlyList<string> QueueOnce(string name, Func<IReadOnlyList<string>> queue)
    {
        var hash = HashOf(name);

        // A session advisory lock rather than Hangfire's lock row: a process killed while holding it (SIGKILL) frees
        // it with its connection, where a lock row would stay for Hangfire's lock timeout and fail every run-day after.
        using var guard = dataSource.OpenConnection();
        Lock(guard, "pg_advisory_lock", hash);
        try
        {
            using var connection = storage.GetConnection();
            if (connection.GetAllEntriesFromHash(hash) is { } entries && entries.TryGetValue("jobs", out var last))
            {
                var ids = last.Split(',');
                if (IsPending(connection, ids))
                {
                    return ids;
                }
            }

            var queued = queue();
            connection.SetRangeInHash(hash, [new("jobs", string.Join(',', queued))]);
            return queued;
        }
        finally
        {
            Lock(guard, "pg_advisory_unlock", hash);
        }
    }

    // Lock class of the queueing locks, apart from the job locks' classes (JobLocks); the object is the name's hash.
    private const int QueueLockClass = 0x4A0C_0000;

    private static void Lock(NpgsqlConnection connection, string function, string hash)
    {
        using var command = new NpgsqlCommand($"SELECT {function}($1, hashtext($2))", connection);
        command.Parameters.Add(new() { Value = QueueLockClass });
        command.Parameters.Add(new() { Value = hash });
        command.ExecuteNonQuery();
    }

    private static string HashOf(string name) => "transit:queued:" + name;

    /// <summary>
    /// Pending: some job is queued, scheduled, running or awaiting, and none before it failed or was deleted (a
    /// continuation of a failed job waits for a retry by hand; the next queueing starts afresh).
    /// </summary>
    private static bool IsPending(IStorageConnection connection, IReadOnlyList<string> ids)
    {
        foreach (var id in ids)
        {
            var state = connection.GetStateData(id)?.Name;
            if (state is not null && PendingStates.Contains(state))
            {
                return true;
            }

            if (state != "Succeeded")
            {
                return false;
            }
        }

        return false;
    }
}
