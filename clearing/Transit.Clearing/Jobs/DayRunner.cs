using Npgsql;
using Transit.Clearing.Database;

namespace Transit.Clearing.Jobs;

/// <summary>
/// Runs a day's pipeline to its end through Hangfire, for <c>transit clearing run-day</c>, the simulation and tests:
/// starts this process's job server when it is not running, queues the day (or joins the pipeline another process
/// queued), and waits until the pipeline, the payments it left due and the deny list are done.
/// </summary>
public sealed class DayRunner(JobServer server, JobScheduler scheduler, JobBoard board, NpgsqlDataSource dataSource)
{
    /// <summary>
    /// Returns whether every step succeeded, the outcome (the clearing's result, or the step that stopped with its
    /// error) and the pipeline's jobs in order. A step that failed stops the wait at once; its retry stays
    /// scheduled on Hangfire (the next run-day runs it at once).
    /// </summary>
    public async Task<(bool Succeeded, string Outcome, IReadOnlyList<JobInfo> Steps)> RunAsync(DateOnly day, CancellationToken cancellation)
    {
        var startedHere = !server.Started;
        if (startedHere)
        {
            await server.StartAsync(cancellation);
        }

        try
        {
            var pipeline = scheduler.QueueDay(day);

            // A step of a joined pipeline waiting for its retry runs again now: whoever runs the day wants it done.
            scheduler.RetryNow(pipeline);
            while (true)
            {
                // A pipeline has no delayed steps: a scheduled one failed and waits for its retry, which a server runs later.
                if (scheduler.States(pipeline).Any(s => s is "Failed" or "Deleted" or "Scheduled"))
                {
                    break;
                }

                if (!scheduler.IsPending(pipeline))
                {
                    if (!await OpenAsync(day, cancellation))
                    {
                        break;
                    }

                    // Payments a decline left due, and the deny list they change, are the sweep's to queue.
                    await scheduler.SweepAsync(cancellation);
                }

                await Task.Delay(TimeSpan.FromMilliseconds(200), cancellation);
            }

            var steps = new List<JobInfo>();
            foreach (var id in pipeline)
            {
                steps.Add(await board.GetAsync(long.Parse(id, System.Globalization.CultureInfo.InvariantCulture), cancellation)
                    ?? throw new InvalidOperationException($"job {id} of the day's pipeline is gone from Hangfire's storage"));
            }

            var stopped = steps.FirstOrDefault(j => j.Status != "done");
            return stopped is null
                ? (true, $"done: {steps[0].Result}", steps)
                : (false, $"{stopped.Kind} {stopped.Status} ({stopped.State}): {stopped.LastError}; {steps[0].Kind}: {steps[0].Result ?? steps[0].LastError}", steps);
        }
        finally
        {
            if (startedHere)
            {
                await server.StopAsync(CancellationToken.None);
            }
        }
    }

    private async Task<bool> OpenAsync(DateOnly day, CancellationToken cancellation) =>
        scheduler.IsPending(JobKinds.Payments) || scheduler.IsPending(JobKinds.DenyList) || await Sql.ScalarAsync<long>(dataSource, """
            SELECT (SELECT count(*) FROM charges WHERE service_day = $1 AND status IN ('pending', 'submitted'))
                 + (SELECT count(*) FROM accounts WHERE blocked <> on_deny_list)
            """, cancellation, day) > 0;
}
