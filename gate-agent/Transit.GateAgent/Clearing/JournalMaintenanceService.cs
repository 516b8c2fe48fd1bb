using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Transit.GateAgent.Configuration;
using Transit.GateAgent.Journal;
using Transit.GateAgent.Pipeline;

namespace Transit.GateAgent.Clearing;

/// <summary>Checkpoints the WAL off the tap path and prunes acknowledged taps past their retention.</summary>
internal sealed class JournalMaintenanceService(
    TapJournal journal, GatePipeline pipeline, JournalSettings settings, TimeProvider time, ILogger<JournalMaintenanceService> logger) : BackgroundService
{
    private static readonly TimeSpan CheckpointEvery = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var nextPrune = time.GetUtcNow();
        (Task<bool>? wanted, Task? due) = (null, null);
        while (!stoppingToken.IsCancellationRequested)
        {
            // Pending waits are kept across rounds: an abandoned signal wait would swallow the next signal.
            wanted ??= pipeline.CheckpointWanted.WaitAsync(Timeout.InfiniteTimeSpan, stoppingToken);
            due ??= Task.Delay(CheckpointEvery, time, stoppingToken);
            await Task.WhenAny(wanted, due).ConfigureAwait(false);
            stoppingToken.ThrowIfCancellationRequested();
            (wanted, due) = (wanted.IsCompleted ? null : wanted, due.IsCompleted ? null : due);

            try
            {
                journal.Checkpoint();
                var now = time.GetUtcNow();
                if (now >= nextPrune)
                {
                    nextPrune = now.AddMinutes(settings.PruneIntervalMinutes);
                    var pruned = journal.Prune(now.AddDays(-settings.RetentionDays));
                    if (pruned > 0)
                    {
                        logger.LogInformation("pruned {Count} uploaded taps older than {Days} days", pruned, settings.RetentionDays);
                    }
                }
            }
            catch (Microsoft.Data.Sqlite.SqliteException ex)
            {
                logger.LogWarning("journal maintenance failed: {Reason}", ex.Message);
            }
        }
    }
}
