using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Transit.GateAgent.Hardware;
using Transit.GateAgent.Journal;
using Transit.GateAgent.Scanners;
using Transit.GateAgent.Status;
using Transit.GateAgent.Trust;
using Transit.RideCodes;

namespace Transit.GateAgent.Pipeline;

/// <summary>
/// The channels between the stages: scanners → verify → rules → journal → output. Each channel has one reader,
/// so taps keep their scan order from the first stage to the journal's sequence numbers.
/// </summary>
public sealed class GatePipeline
{
    /// <summary>
    /// Scans waiting for verification; bounded so a flood of input cannot exhaust memory. Verify and rules are short
    /// CPU work, so they continue on the thread that handed the tap over rather than waiting for a pool thread: two
    /// fewer thread hops per rider. The journal stage stays asynchronous so that taps arriving during a commit
    /// gather for the next one.
    /// </summary>
    internal Channel<Tap> Scans { get; } = Channel.CreateBounded<Tap>(
        new BoundedChannelOptions(10_000) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait, AllowSynchronousContinuations = true });

    internal Channel<Tap> Verified { get; } = Channel.CreateUnbounded<Tap>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = true, AllowSynchronousContinuations = true });

    internal Channel<Tap> Decided { get; } = Channel.CreateUnbounded<Tap>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });

    internal Channel<Tap> Committed { get; } = Channel.CreateUnbounded<Tap>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });

    /// <summary>Set whenever taps were committed; the uploader waits on it.</summary>
    public AsyncSignal TapsCommitted { get; } = new();

    /// <summary>
    /// Set every <see cref="CheckpointAfterTaps"/> committed taps. A checkpointed WAL is rewritten from its start, so
    /// commits overwrite blocks the file already has; a WAL that keeps growing makes every commit's fsync also write
    /// the file's new size, which on the development machine's disk cost 270 µs per commit instead of 155 µs.
    /// </summary>
    public AsyncSignal CheckpointWanted { get; } = new();

    /// <summary>Committed taps between checkpoints (WAL frames of about 4 KiB each, so the WAL stays near 1 MiB).</summary>
    internal const int CheckpointAfterTaps = 256;

    /// <summary>Hands a scan to the pipeline.</summary>
    public ValueTask SubmitAsync(Tap tap, CancellationToken cancellation) => Scans.Writer.WriteAsync(tap, cancellation);
}

/// <summary>An auto-reset signal: <see cref="Set"/> wakes one waiter, or the next one to wait.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "Its SemaphoreSlim is used only with WaitAsync and Release, which never makes a wait handle: nothing to dispose.")]
public sealed class AsyncSignal
{
    private readonly SemaphoreSlim _semaphore = new(0, 1);

    /// <summary>Signals, unless already signalled.</summary>
    public void Set()
    {
        try
        {
            _semaphore.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled: one wake-up covers any number of sets.
        }
    }

    /// <summary>Waits for the signal or the timeout; true when signalled.</summary>
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellation) => _semaphore.WaitAsync(timeout, cancellation);
}

/// <summary>Stage 1: decode and verify the code with the ride-code library.</summary>
internal sealed class VerifyStage(GatePipeline pipeline, GateState state, TimeProvider time) : BackgroundService
{
    /// <summary>A scan with a character no ride code has (a control byte, lower case, …) is not looked at further.</summary>
    private static readonly VerificationResult NotACode = new(VerificationReason.Malformed, null);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var writer = pipeline.Verified.Writer;
        await foreach (var tap in pipeline.Scans.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
        {
            var trust = state.Trust;
            if (tap.At == default)
            {
                tap.At = time.GetUtcNow();
            }

            tap.Context = state.Context;
            tap.KeySetVersion = trust.KeySet.Version;
            tap.DenyListVersion = trust.DenyList.Version;
            tap.Verification = ScanText.InCodeAlphabet(tap.Text) ? (tap.SelfTestVerifier ?? state.Verifier).Verify(tap.Text, tap.At) : NotACode;
            writer.TryWrite(tap);
        }
    }
}

/// <summary>Stage 2: replay and pass-back, whose memory is rebuilt from the journal before the first tap.</summary>
internal sealed class RulesStage(GatePipeline pipeline, GateState state, TapJournal journal, GateMetrics metrics, TimeProvider time, ILogger<RulesStage> logger) : BackgroundService
{
    private static readonly TimeSpan ReportEvery = TimeSpan.FromMinutes(1);
    private readonly GateRules _rules = new();

    // Self-test taps are decided here, so that the rider memory of replay and pass-back never holds them.
    private readonly GateRules _selfTestRules = new();
    private readonly GarbageFilter _garbage = new();
    private long _notJournaledSinceReport;
    private long _lastReport = Stopwatch.GetTimestamp();

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var limits = state.Limits;
        var window = TimeSpan.FromTicks(Math.Max((limits.MaxAge + limits.MaxAhead).Ticks, limits.Passback.Ticks)) + TimeSpan.FromMinutes(1);
        var watch = Stopwatch.StartNew();
        var accepted = journal.ReadAcceptedSince(now - window);
        var restored = _rules.Restore(accepted, now, limits);
        logger.LogInformation(
            "rules restored from the journal in {Millis} ms: {Codes} codes for replay, {Accounts} accounts for pass-back",
            watch.ElapsedMilliseconds, restored, _rules.PassbackCount);
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var writer = pipeline.Decided.Writer;
        await foreach (var tap in pipeline.Verified.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
        {
            (tap.Accepted, tap.Reason) = (tap.SelfTest ? _selfTestRules : _rules).Decide(tap.Verification!, tap.At, state.Limits);
            if (tap.Verification!.Code is null && !_garbage.Admit(tap.StoredText, tap.ReadTimestamp))
            {
                tap.Journaled = false;
                metrics.RecordNotJournaled();
                _notJournaledSinceReport++;
            }

            if (_notJournaledSinceReport > 0 && Stopwatch.GetElapsedTime(_lastReport) >= ReportEvery)
            {
                logger.LogWarning(
                    "{Count} refused scans that are not ride codes were left out of the journal in the last {Minutes:F0} min (repeats, or over {Rate}/s): a faulty scanner or someone flooding it",
                    _notJournaledSinceReport, Stopwatch.GetElapsedTime(_lastReport).TotalMinutes, GarbageFilter.PerSecond);
                _notJournaledSinceReport = 0;
                _lastReport = Stopwatch.GetTimestamp();
            }

            writer.TryWrite(tap);
        }
    }
}

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

/// <summary>Stage 4: barrier, lights, buzzer and display, after the commit.</summary>
internal sealed class OutputStage(GatePipeline pipeline, GateController controller, ILogger<OutputStage> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var tap in pipeline.Committed.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                controller.Show(tap.Accepted, tap.Reason);
            }
            catch (Exception ex) when (ex is IOException or InvalidOperationException)
            {
                logger.LogError(ex, "hardware output failed for tap {Seq}", tap.Seq);
            }

            if (logger.IsEnabled(LogLevel.Debug))
            {
                logger.LogDebug(
                    "tap {Seq} {Decision} {Reason} account {Account} via {Source} in {LatencyMs:F2} ms",
                    tap.Seq, tap.Accepted ? "accepted" : "refused", tap.Reason, tap.Verification?.Account, tap.Source, tap.CommittedMillis);
            }
        }
    }
}
