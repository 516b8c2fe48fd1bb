namespace Transit.GateAgent.Taps;

/// <summary>A verdict after the journal's commit returned: durable, numbered, and timed.</summary>
/// <param name="Verdict">What was decided (a disk-full refusal replaces the rules' verdict).</param>
/// <param name="Seq">Journal sequence number; 0 for a verdict left out of the journal or refused for a full disk.</param>
/// <param name="JournaledLatencyMicros">
/// The latency journaled with the tap (the device API's <c>latencyMicros</c>): microseconds from the scanner's read
/// to the decision entering the commit, which is the decision latency without the commit's own fsync.
/// </param>
/// <param name="DecisionLatency">The decision latency: from the scanner's read to the commit being durable, when the gate may open.</param>
public sealed record JournaledTap(Verdict Verdict, long Seq, long JournaledLatencyMicros, TimeSpan DecisionLatency)
{
    /// <summary>The answer sent back to an input that waits for one.</summary>
    public TapOutcome Outcome() => new(
        Seq, Verdict.Accepted, Verdict.Reason, Math.Round(DecisionLatency.TotalMilliseconds, 3), Verdict.Verification.Account, Verdict.At.UtcDateTime);
}
