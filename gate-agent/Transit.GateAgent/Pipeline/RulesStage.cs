using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Transit.GateAgent.Journal;
using Transit.GateAgent.Status;
using Transit.GateAgent.Trust;

namespace Transit.GateAgent.Pipeline;

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
