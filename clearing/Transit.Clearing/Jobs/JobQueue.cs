using Npgsql;
using Transit.Clearing.Database;

namespace Transit.Clearing.Jobs;

/// <summary>A job as the API shows it.</summary>
public sealed record JobInfo(
    long JobId, string Kind, string Key, string Status, int Attempts, int MaxAttempts, DateTimeOffset RunAfter, string? LockedBy,
    DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt, string? LastError, string? Result);

/// <summary>A job claimed by this process: its connection holds the job's advisory lock until it is finished.</summary>
public sealed class ClaimedJob(NpgsqlConnection connection, long jobId, string kind, string key, int attempts) : IAsyncDisposable
{
    public long JobId { get; } = jobId;

    public string Kind { get; } = kind;

    public string Key { get; } = key;

    public int Attempts { get; } = attempts;

    internal NpgsqlConnection Connection { get; } = connection;

    public ValueTask DisposeAsync() => Connection.DisposeAsync();
}

/// <summary>
/// A small job queue in PostgreSQL. A worker claims a due job with <c>FOR UPDATE SKIP LOCKED</c> and, in the same
/// transaction, takes a session advisory lock on it, which it holds on its own connection while the job runs. A job
/// marked running whose lock nobody holds belongs to a dead worker (a killed process's connection, and so its lock,
/// is gone at once) and is queued again. Jobs are unique by (kind, key): enqueueing a queued or running job is a
/// no-op, enqueueing a finished one runs it again.
/// </summary>
public sealed class JobQueue(NpgsqlDataSource dataSource)
{
    private const long LockSpace = 0x4A0B_0000_0000_0000;

    /// <summary>Queues (or re-queues) a job; returns its id.</summary>
    public async Task<long> EnqueueAsync(string kind, string key, TimeSpan? delay = null, CancellationToken cancellation = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellation);
        var id = await Sql.ScalarAsync<long?>(connection, """
            INSERT INTO jobs (kind, job_key, run_after) VALUES ($1, $2, now() + $3)
            ON CONFLICT (kind, job_key) DO UPDATE SET status = 'queued', attempts = 0, run_after = EXCLUDED.run_after,
              last_error = NULL, finished_at = NULL, result = NULL
            WHERE jobs.status IN ('done', 'failed')
            RETURNING job_id
            """, cancellation, kind, key, delay ?? TimeSpan.Zero);
        return id ?? await Sql.ScalarAsync<long>(connection, "SELECT job_id FROM jobs WHERE kind = $1 AND job_key = $2", cancellation, kind, key);
    }

    /// <summary>One job.</summary>
    public async Task<JobInfo?> GetAsync(long jobId, CancellationToken cancellation) =>
        (await Sql.ListAsync(dataSource, Select + " WHERE job_id = $1", Read, cancellation, jobId)).FirstOrDefault();

    /// <summary>The most recent jobs.</summary>
    public Task<List<JobInfo>> ListAsync(int limit, CancellationToken cancellation) =>
        Sql.ListAsync(dataSource, Select + " ORDER BY job_id DESC LIMIT $1", Read, cancellation, limit);

    /// <summary>Claims the next due job, or returns null.</summary>
    public async Task<ClaimedJob?> TryClaimAsync(string worker, CancellationToken cancellation)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellation);
        try
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellation);
            var due = (await Sql.ListAsync(connection, """
                SELECT job_id, kind, job_key, attempts FROM jobs WHERE status = 'queued' AND run_after <= now()
                ORDER BY run_after, job_id LIMIT 1 FOR UPDATE SKIP LOCKED
                """, r => (Id: r.GetInt64(0), Kind: r.GetString(1), Key: r.GetString(2), Attempts: r.GetInt32(3)), cancellation)).FirstOrDefault();
            if (due.Kind is null)
            {
                await transaction.RollbackAsync(cancellation);
                await connection.DisposeAsync();
                return null;
            }

            await Sql.ExecAsync(connection, "SELECT pg_advisory_lock($1)", cancellation, LockSpace | due.Id);
            await Sql.ExecAsync(connection, """
                UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_by = $2, started_at = now(), finished_at = NULL WHERE job_id = $1
                """, cancellation, due.Id, worker);
            await transaction.CommitAsync(cancellation);
            return new ClaimedJob(connection, due.Id, due.Kind, due.Key, due.Attempts + 1);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Marks a claimed job done and releases it.</summary>
    public async Task CompleteAsync(ClaimedJob job, string result, CancellationToken cancellation)
    {
        await Sql.ExecAsync(job.Connection, """
            UPDATE jobs SET status = 'done', finished_at = now(), result = $2, last_error = NULL WHERE job_id = $1;
            """, cancellation, job.JobId, result);
        await Sql.ExecAsync(job.Connection, "SELECT pg_advisory_unlock($1)", cancellation, LockSpace | job.JobId);
    }

    /// <summary>Records a failure: queued again after a backoff, or failed for good after its last attempt.</summary>
    public async Task FailAsync(ClaimedJob job, string error, CancellationToken cancellation)
    {
        var backoff = TimeSpan.FromSeconds(Math.Min(300, Math.Pow(2, job.Attempts)));
        await Sql.ExecAsync(job.Connection, """
            UPDATE jobs SET status = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END,
              run_after = now() + $3, last_error = $2, finished_at = now() WHERE job_id = $1
            """, cancellation, job.JobId, error, backoff);
        await Sql.ExecAsync(job.Connection, "SELECT pg_advisory_unlock($1)", cancellation, LockSpace | job.JobId);
    }

    /// <summary>Queues again the running jobs of workers that died; returns how many.</summary>
    public async Task<int> RecoverAbandonedAsync(CancellationToken cancellation)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellation);
        await using var transaction = await connection.BeginTransactionAsync(cancellation);
        var running = await Sql.ListAsync(connection, "SELECT job_id FROM jobs WHERE status = 'running' FOR UPDATE SKIP LOCKED", r => r.GetInt64(0), cancellation);
        var recovered = 0;
        foreach (var id in running)
        {
            if (await Sql.ScalarAsync<bool>(connection, "SELECT pg_try_advisory_xact_lock($1)", cancellation, LockSpace | id))
            {
                recovered += await Sql.ExecAsync(connection, """
                    UPDATE jobs SET status = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END, run_after = now(),
                      last_error = 'the worker ' || COALESCE(locked_by, '?') || ' stopped while running it' WHERE job_id = $1
                    """, cancellation, id);
            }
        }

        await transaction.CommitAsync(cancellation);
        return recovered;
    }

    private const string Select = """
        SELECT job_id, kind, job_key, status, attempts, max_attempts, run_after, locked_by, started_at, finished_at, last_error, result FROM jobs
        """;

    private static JobInfo Read(NpgsqlDataReader r) => new(
        r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetInt32(4), r.GetInt32(5), r.GetFieldValue<DateTimeOffset>(6),
        r.NullableString(7), r.NullableTime(8), r.NullableTime(9), r.NullableString(10), r.NullableString(11));
}
