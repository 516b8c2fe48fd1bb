using System.Text.Json;
using Npgsql;
using Transit.Clearing.Database;

namespace Transit.Clearing.Jobs;

/// <summary>A job as <c>/api/jobs</c> shows it: Hangfire's job and its current state, in clearing's terms.</summary>
/// <param name="Status"><c>queued</c> (Hangfire: enqueued, scheduled, awaiting its parent), <c>running</c>, <c>done</c> or <c>failed</c> (also deleted).</param>
/// <param name="LastError">The last failure: the final one, or the one a retry waits after (Hangfire's "Retry attempt n of 5: …").</param>
/// <param name="Attempts">Runs started so far: retries after a failure and runs resumed after a killed worker both count.</param>
public sealed record JobInfo(
    long JobId, string Kind, string Key, string Status, string State, int Attempts, int MaxAttempts, DateTimeOffset CreatedAt, DateTimeOffset? RunAfter,
    string? LockedBy, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt, string? LastError, string? Result);

/// <summary>Reads the jobs from Hangfire's tables in one query (the dashboard at <c>/jobs</c> shows the same in full).</summary>
public sealed class JobBoard(NpgsqlDataSource dataSource)
{
    /// <summary>Attempts of a job with the default retry policy of <see cref="ClearingJobs"/>: the first run and 5 retries.</summary>
    private const int MaxAttempts = 6;

    /// <summary>The job kind of each job method.</summary>
    private static readonly Dictionary<string, string> Kinds = new(StringComparer.Ordinal)
    {
        [nameof(ClearingJobs.ClearDayAsync)] = JobKinds.ClearDay,
        [nameof(ClearingJobs.PaymentsAsync)] = JobKinds.Payments,
        [nameof(ClearingJobs.DenyListAsync)] = JobKinds.DenyList,
        [nameof(ClearingJobs.BalanceCheckAsync)] = JobKinds.BalanceCheck,
        [nameof(ClearingJobs.ReconcileAsync)] = JobKinds.Reconcile,
        [nameof(ClearingJobs.AnalyticsRefreshAsync)] = Transit.Analytics.Store.AnalyticsJobs.Refresh,
        [nameof(ClearingJobs.AnalyticsCloseDayAsync)] = Transit.Analytics.Store.AnalyticsJobs.CloseDay,
        [nameof(ClearingJobs.SweepAsync)] = JobKinds.Sweep,
        [nameof(ClearingJobs.CloseOfDayAsync)] = JobKinds.CloseOfDay,
    };

    /// <summary>The job kind <c>/api/jobs</c> and the metrics name a job method by (the method's name when it is none of clearing's).</summary>
    public static string KindOf(string method) => Kinds.GetValueOrDefault(method, method);

    /// <summary>The most recent jobs, newest first.</summary>
    public Task<List<JobInfo>> ListAsync(int limit, CancellationToken cancellation) =>
        Sql.ListAsync(dataSource, Select + " ORDER BY j.id DESC LIMIT $1", Read, cancellation, limit);

    public async Task<JobInfo?> GetAsync(long jobId, CancellationToken cancellation) =>
        (await Sql.ListAsync(dataSource, Select + " WHERE j.id = $1", Read, cancellation, jobId)).FirstOrDefault();

    private const string Select = $"""
            SELECT j.id, j.invocationdata->>'Method', j.arguments->>0, j.statename, j.createdat,
              (SELECT count(*) FROM {ClearingJobStorage.Schema}.state p WHERE p.jobid = j.id AND p.name = 'Processing'),
              s.data, s.createdat,
              (SELECT COALESCE(f.data->>'ExceptionMessage', f.reason) FROM {ClearingJobStorage.Schema}.state f
               WHERE f.jobid = j.id AND (f.name = 'Failed' OR (f.name = 'Scheduled' AND f.reason LIKE 'Retry attempt%')) ORDER BY f.id DESC LIMIT 1),
              (SELECT max(p.createdat) FROM {ClearingJobStorage.Schema}.state p WHERE p.jobid = j.id AND p.name = 'Processing')
            FROM {ClearingJobStorage.Schema}.job j LEFT JOIN {ClearingJobStorage.Schema}.state s ON s.id = j.stateid
            """;

    private static JobInfo Read(NpgsqlDataReader r)
    {
        var method = r.NullableString(1) ?? "";
        var argument = r.NullableString(2) is { } json && json.StartsWith('"') ? JsonSerializer.Deserialize<string>(json) : null;
        var state = r.NullableString(3) ?? "";
        var data = r.IsDBNull(6) ? [] : JsonSerializer.Deserialize<Dictionary<string, string?>>(r.GetString(6)) ?? [];
        var started = r.IsDBNull(9) ? (DateTimeOffset?)null : r.GetFieldValue<DateTimeOffset>(9);
        var status = state switch
        {
            "Processing" => "running",
            "Succeeded" => "done",
            "Failed" or "Deleted" => "failed",
            _ => "queued",
        };
        return new JobInfo(
            r.GetInt64(0),
            KindOf(method),
            argument ?? JobKinds.AllKey,
            status,
            state,
            (int)r.GetInt64(5),
            MaxAttempts,
            r.GetFieldValue<DateTimeOffset>(4),
            state == "Scheduled" && data.GetValueOrDefault("EnqueueAt") is { } at ? new DateTimeOffset(DateTime.SpecifyKind(Hangfire.Common.JobHelper.DeserializeDateTime(at), DateTimeKind.Utc)) : null,
            state == "Processing" ? data.GetValueOrDefault("ServerId") : null,
            started,
            status is "done" or "failed" && !r.IsDBNull(7) ? r.GetFieldValue<DateTimeOffset>(7) : null,
            status == "done" ? null : r.NullableString(8),
            data.GetValueOrDefault("Result") is { } result ? JsonSerializer.Deserialize<string>(result) : null);
    }
}
