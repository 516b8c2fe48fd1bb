using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Transit.GateAgent.Hardware;
using Transit.GateAgent.Journal;
using Transit.GateAgent.Status;
using Transit.GateAgent.Taps;

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

    private readonly StageLink<Verdict, JournaledTap> _link = pipeline.Journal;
    private readonly long[] _seqs = new long[MaxGroup];
    private readonly long[] _journaledMicros = new long[MaxGroup];
    private int _sinceCheckpoint;
    private long _refusedWhileFull;
    private long _lastFullReport;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reader = _link.Input;
        var group = new List<Verdict>(MaxGroup);
        while (await reader.WaitToReadAsync(stoppingToken).ConfigureAwait(false))
        {
            group.Clear();
            while (group.Count < MaxGroup && reader.TryRead(out var verdict))
            {
                group.Add(verdict);
            }

            try
            {
                if (group.TrueForAll(v => v.Scan.SelfTest))
                {
                    journal.Rehearse(group, _journaledMicros);
                    _seqs.AsSpan(0, group.Count).Clear();
                }
                else
                {
                    journal.Append(group, _seqs, _journaledMicros);
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
                foreach (var verdict in group)
                {
                    verdict.Scan.Reply?.TrySetException(ex);
                }

                lifetime.StopApplication();
                return;
            }

            for (var i = 0; i < group.Count; i++)
            {
                var verdict = group[i];
                var decisionLatency = Stopwatch.GetElapsedTime(verdict.Scan.ReadTimestamp);
                if (verdict.Journaled && !verdict.Scan.SelfTest)
                {
                    metrics.RecordTap(verdict.Accepted, verdict.Reason, decisionLatency);
                }

                Answer(new JournaledTap(verdict, _seqs[i], _journaledMicros[i], decisionLatency));
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

    private void Answer(JournaledTap tap)
    {
        if (!tap.Verdict.Scan.SelfTest)
        {
            _link.Output.TryWrite(tap);
        }

        tap.Verdict.Scan.Reply?.TrySetResult(tap.Outcome());
    }

    private void RefuseUnjournaled(List<Verdict> group, Microsoft.Data.Sqlite.SqliteException ex)
    {
        foreach (var verdict in group)
        {
            metrics.RecordCommitFailure();
            var refused = verdict with { Accepted = false, Reason = GateController.JournalFull, Journaled = false };
            Answer(new JournaledTap(refused, 0, verdict.Scan.MicrosSinceRead(), Stopwatch.GetElapsedTime(verdict.Scan.ReadTimestamp)));
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
