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
    /// <summary>Returns the clearing job's outcome: its Hangfire state and its result (or last error).</summary>
    public async Task<(bool Succeeded, string Outcome)> RunAsync(DateOnly day, CancellationToken cancellation)
    {
        var startedHere = !server.Started;
        if (startedHere)
        {
            await server.StartAsync(cancellation);
        }

        try
        {
            var pipeline = scheduler.QueueDay(day);
            while (true)
            {
                var states = scheduler.States(pipeline);
                if (states.Any(s => s is "Failed" or "Deleted"))
                {
                    break;
                }

                if (!scheduler.IsPending(pipeline) && !await OpenAsync(day, cancellation))
                {
                    break;
                }

                // Payments a decline left due, and the deny list they change, are the sweep's to queue.
                await scheduler.SweepAsync(cancellation);
                await Task.Delay(TimeSpan.FromMilliseconds(200), cancellation);
            }

            var clear = long.Parse(pipeline[0], System.Globalization.CultureInfo.InvariantCulture);
            var job = await board.GetAsync(clear, cancellation);
            return (job?.Status == "done", $"{job?.Status}: {job?.Result ?? job?.LastError}");
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
