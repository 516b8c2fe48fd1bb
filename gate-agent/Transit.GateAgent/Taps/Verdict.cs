using Transit.GateAgent.Configuration;
using Transit.RideCodes;

namespace Transit.GateAgent.Taps;

/// <summary>
/// What the gate decided about a scan, before it is durable: the verify stage makes it from the code's own
/// verification, the rules stage replaces it with replay and pass-back applied (<c>with</c>).
/// </summary>
/// <param name="Scan">The scan it decides.</param>
/// <param name="At">The gate's clock when it decided.</param>
/// <param name="Verification">What the ride-code verifier said.</param>
/// <param name="Context">Where and as what the device decided.</param>
/// <param name="KeySetVersion">Key set version held when deciding.</param>
/// <param name="DenyListVersion">Deny-list version held when deciding.</param>
/// <param name="StoredText">
/// The text as journaled and uploaded: at most <see cref="ScanRead.MaxStoredLength"/> characters, anything outside
/// printable ASCII escaped, so no control byte reaches the journal or clearing.
/// </param>
/// <param name="Accepted">Whether the gate opens.</param>
/// <param name="Reason">A ride-code reason or <c>passback</c> (Transit.DeviceApi's TapReasons).</param>
public sealed record Verdict(
    ScanRead Scan, DateTimeOffset At, VerificationResult Verification, DeviceContext Context, long KeySetVersion, long DenyListVersion,
    string StoredText, bool Accepted, string Reason)
{
    /// <summary>
    /// False for a refused garbage scan left out of the journal (a repeat of one just journaled, or over the rate
    /// cap); it gets no sequence number.
    /// </summary>
    public bool Journaled { get; init; } = true;
}
