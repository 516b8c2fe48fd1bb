using System.Diagnostics;
using System.Text.Json.Serialization;
using Transit.GateAgent.Configuration;
using Transit.RideCodes;

namespace Transit.GateAgent.Pipeline;

/// <summary>
/// One scan on its way through the pipeline. Each stage owns it in turn (the channels hand it over), so its
/// fields are written by one stage and read by the later ones without locking.
/// </summary>
public sealed class Tap
{
    /// <summary>Longest code text kept in the journal and uploaded (the device API's limit).</summary>
    public const int MaxStoredLength = 512;

    /// <summary>Creates a tap for text just read from a scanner.</summary>
    public Tap(string text, string source, long readTimestamp, TaskCompletionSource<TapOutcome>? reply = null)
    {
        Text = text;
        Source = source;
        ReadTimestamp = readTimestamp;
        Reply = reply;
    }

    /// <summary>The scanned text without its line ending.</summary>
    public string Text { get; }

    /// <summary>Which input read it, e.g. <c>tcp</c> or <c>serial:/dev/ttyACM0</c>.</summary>
    public string Source { get; }

    /// <summary><see cref="Stopwatch.GetTimestamp"/> when the scanner input finished reading the code.</summary>
    public long ReadTimestamp { get; }

    /// <summary>Completed once the tap is committed; null for inputs that take no answer (serial, HID).</summary>
    public TaskCompletionSource<TapOutcome>? Reply { get; }

    /// <summary>The gate's clock when it decided (an input driven by a simulation clock sets it when reading).</summary>
    public DateTimeOffset At { get; set; }

    /// <summary>What the ride-code verifier said.</summary>
    public VerificationResult? Verification { get; set; }

    /// <summary>Where and as what the device decided.</summary>
    public DeviceContext? Context { get; set; }

    /// <summary>Key set version held when deciding.</summary>
    public long KeySetVersion { get; set; }

    /// <summary>Deny-list version held when deciding.</summary>
    public long DenyListVersion { get; set; }

    /// <summary>Whether the gate opens.</summary>
    public bool Accepted { get; set; }

    /// <summary>A ride-code reason or <c>passback</c>.</summary>
    public string Reason { get; set; } = "malformed";

    /// <summary>Journal sequence number, assigned at commit.</summary>
    public long Seq { get; set; }

    /// <summary>Microseconds from read to the decision being written into the commit.</summary>
    public long DecisionMicros { get; set; }

    /// <summary>Milliseconds from read to the commit being durable.</summary>
    public double CommittedMillis { get; set; }

    /// <summary>
    /// False for a refused garbage scan left out of the journal (a repeat of one just journaled, or over the rate
    /// cap); it gets no sequence number.
    /// </summary>
    public bool Journaled { get; set; } = true;

    /// <summary>
    /// The text as stored and uploaded: at most <see cref="MaxStoredLength"/> characters, with anything outside
    /// printable ASCII escaped (<see cref="Scanners.ScanText.Escape"/>), so no control byte reaches the journal or clearing.
    /// </summary>
    public string StoredText => Scanners.ScanText.Escape(Text, MaxStoredLength);

    /// <summary>
    /// For the warm-up's self-test taps only: the throwaway verifier that checks them instead of the gate's own. A
    /// self-test tap takes every stage's path but is decided on scratch rules, rolled back in the journal, counted
    /// nowhere and never shown on the hardware.
    /// </summary>
    internal RideCodeVerifier? SelfTestVerifier { get; init; }

    /// <summary>Whether this is a warm-up self-test tap (<see cref="SelfTestVerifier"/>).</summary>
    internal bool SelfTest => SelfTestVerifier is not null;

    /// <summary>Microseconds elapsed since the read.</summary>
    public long MicrosSinceRead() => (long)Stopwatch.GetElapsedTime(ReadTimestamp).TotalMicroseconds;
}

/// <summary>The answer to one scan, sent on the TCP simulation input once the tap is committed.</summary>
/// <param name="Seq">Journal sequence number.</param>
/// <param name="Accepted">Whether the gate opened.</param>
/// <param name="Reason">A ride-code reason or <c>passback</c>.</param>
/// <param name="LatencyMs">Read to durable commit.</param>
/// <param name="Account">The account token, when the code parsed.</param>
/// <param name="At">The gate's clock when it decided.</param>
public sealed record TapOutcome(
    [property: JsonPropertyName("seq")] long Seq,
    [property: JsonPropertyName("accepted")] bool Accepted,
    [property: JsonPropertyName("reason")] string Reason,
    [property: JsonPropertyName("latencyMs")] double LatencyMs,
    [property: JsonPropertyName("account")] string? Account,
    [property: JsonPropertyName("at")] DateTime At);
