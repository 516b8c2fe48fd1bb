namespace Transit.GateAgent.Taps;

/// <summary>A verdict after the journal's commit returned: durable, numbered, and timed.</summary>
/// <param name="Verdict">What was decided (a disk-full refusal replaces the rules' verdict).</param>
/// <param name="Seq">Journal sequence number; 0 for a verdict left out of the journal or refused for a full disk.</param>
/// <param name="DecisionMicros">
/// The decision latency: microseconds from the scanner's read to the decision being written into the commit (the
/// device API's <c>latencyMicros</c>).
/// </param>
/// <param name="CommittedMillis">Milliseconds from the read to the commit being durable.</param>
public sealed record JournaledTap(Verdict Verdict, long Seq, long DecisionMicros, double CommittedMillis)
{
    /// <summary>The answer sent back to an input that waits for one.</summary>
    public TapOutcome Outcome() => new(
        Seq, Verdict.Accepted, Verdict.Reason, Math.Round(CommittedMillis, 3), Verdict.Verification.Account, Verdict.At.UtcDateTime);
}
