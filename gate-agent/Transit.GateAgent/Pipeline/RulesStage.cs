using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Transit.GateAgent.Journal;
using Transit.GateAgent.Status;
using Transit.GateAgent.Taps;
using Transit.GateAgent.Trust;

namespace Transit.GateAgent.Pipeline;

/// <summary>Stage 2: replay and pass-back, whose memory is rebuilt from the journal before the first tap; the code's verdict becomes the gate's.</summary>
internal sealed class RulesStage(GatePipeline pipeline, GateState state, TapJournal journal, GateMetrics metrics, TimeProvider time, ILogger<RulesStage> logger) : BackgroundService
{
    private static readonly TimeSpan ReportEvery = TimeSpan.FromMinutes(1);
    private readonly StageLink<Verdict, Verdict> _link = pipeline.Rules;
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
        await foreach (var verified in _link.Input.ReadAllAsync(stoppingToken).ConfigureAwait(false))
        {
            var (accepted, reason) = (verified.Scan.SelfTest ? _selfTestRules : _rules).Decide(verified.Verification, verified.At, state.Limits);
            var journaled = verified.Verification.Code is not null || _garbage.Admit(verified.StoredText, verified.Scan.ReadTimestamp);
            if (!journaled)
            {
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

            _link.Output.TryWrite(verified with { Accepted = accepted, Reason = reason, Journaled = journaled });
        }
    }
}
