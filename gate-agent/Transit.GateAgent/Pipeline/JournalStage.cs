using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Transit.GateAgent.Hardware;
using Transit.GateAgent.Journal;
using Transit.GateAgent.Status;

namespace Transit.GateAgent.Pipeline;

/// <summary>
/// Stage 3: the durable commit. Taps that arrive while a commit is under way are committed together in the next
/// transaction (group commit: one fsync for many taps under load). Only after the commit returns are answers sent
/// and the barrier told.
/// </summary>
internal sealed class JournalStage(
    GatePipeline pipeline, TapJournal journal, GateMetrics metrics, GateHealth health, IHostApplicationLifetime lifetime, ILogger<JournalStage> logger) : BackgroundService
{
    private const int MaxGroup = 256;
    private static readonly TimeSpan FullReportEvery = TimeSpan.FromMinutes(1);

    private int _sinceCheckpoint;
    private long _refusedWhileFull;
    private long _lastFullReport;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reader = pipeline.Decided.Reader;
        var output = pipeline.Committed.Writer;
        var group = new List<Tap>(MaxGroup);
        while (await reader.WaitToReadAsync(stoppingToken).ConfigureAwait(false))
        {
            group.Clear();
            while (group.Count < MaxGroup && reader.TryRead(out var tap))
            {
                group.Add(tap);
            }

            try
            {
                if (group.TrueForAll(t => t.SelfTest))
                {
                    journal.Rehearse(group);
                }
                else
                {
                    journal.Append(group);
                }

                if (health.SetJournalFull(null))
                {
                    logger.LogWarning("journal commits again after {Count} scans were refused for lack of disk space", _refusedWhileFull);
                    _refusedWhileFull = 0;
                }
            }
            catch (Microsoft.Data.Sqlite.SqliteException ex) when (ex.SqliteErrorCode == SqliteFull)
            {
                // Fail closed and keep running: a tap that is not journaled must not open the barrier, and the gate
                // takes riders again by itself once space returns (docs/gate-install.md).
                RefuseUnjournaled(group, ex);
                continue;
            }
            catch (Exception ex)
            {
                // Without a durable journal the gate must not answer or open: stop, and let systemd restart it.
                logger.LogCritical(ex, "journal commit failed; stopping the gate agent");
                foreach (var tap in group)
                {
                    tap.Reply?.TrySetException(ex);
                }

                lifetime.StopApplication();
                return;
            }

            foreach (var tap in group)
            {
                var latency = Stopwatch.GetElapsedTime(tap.ReadTimestamp);
                if (tap.Journaled && !tap.SelfTest)
                {
                    metrics.RecordTap(tap.Accepted, tap.Reason, latency.TotalSeconds);
                }

                Answer(output, tap, latency);
            }

            pipeline.TapsCommitted.Set();
            _sinceCheckpoint += group.Count;
            if (_sinceCheckpoint >= GatePipeline.CheckpointAfterTaps)
            {
                _sinceCheckpoint = 0;
                pipeline.CheckpointWanted.Set();
            }

            if (!reader.TryPeek(out _))
            {
                try
                {
                    journal.FinishCheckpoint();
                }
                catch (Microsoft.Data.Sqlite.SqliteException ex)
                {
                    // The WAL only grows until the next checkpoint: worth a warning, not a refused rider.
                    logger.LogWarning("finishing the journal checkpoint failed: {Reason}", ex.Message);
                }
            }
        }
    }

    /// <summary>SQLite's result code for a write that found the disk full.</summary>
    private const int SqliteFull = 13;

    private static void Answer(ChannelWriter<Tap> output, Tap tap, TimeSpan latency)
    {
        tap.CommittedMillis = latency.TotalMilliseconds;
        if (!tap.SelfTest)
        {
            output.TryWrite(tap);
        }

        tap.Reply?.TrySetResult(new TapOutcome(
            tap.Seq, tap.Accepted, tap.Reason, Math.Round(tap.CommittedMillis, 3), tap.Verification?.Account, tap.At.UtcDateTime));
    }

    private void RefuseUnjournaled(List<Tap> group, Microsoft.Data.Sqlite.SqliteException ex)
    {
        foreach (var tap in group)
        {
            (tap.Accepted, tap.Reason, tap.Journaled) = (false, GateController.JournalFull, false);
            metrics.RecordCommitFailure();
            Answer(pipeline.Committed.Writer, tap, Stopwatch.GetElapsedTime(tap.ReadTimestamp));
        }

        _refusedWhileFull += group.Count;
        var problem = $"the journal's disk is full ({journal.Path}): scans are refused and the barrier stays shut until space is freed";
        if (health.SetJournalFull(problem) || Stopwatch.GetElapsedTime(_lastFullReport) >= FullReportEvery)
        {
            _lastFullReport = Stopwatch.GetTimestamp();
            logger.LogError("journal commit failed, no space left on the disk ({Reason}): {Problem}; {Count} scans refused so far", ex.Message, problem, _refusedWhileFull);
        }
    }
}
