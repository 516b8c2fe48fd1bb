using System.Text.Json.Serialization;

namespace Transit.GateAgent.Taps;

/// <summary>The answer to one scan, sent on the TCP simulation input once the tap is committed.</summary>
/// <param name="Seq">Journal sequence number.</param>
/// <param name="Accepted">Whether the gate opened.</param>
/// <param name="Reason">A ride-code reason or <c>passback</c>.</param>
/// <param name="LatencyMs">The decision latency in milliseconds: read to durable commit.</param>
/// <param name="Account">The account token, when the code parsed.</param>
/// <param name="At">The gate's clock when it decided.</param>
public sealed record TapOutcome(
    [property: JsonPropertyName("seq")] long Seq,
    [property: JsonPropertyName("accepted")] bool Accepted,
    [property: JsonPropertyName("reason")] string Reason,
    [property: JsonPropertyName("latencyMs")] double LatencyMs,
    [property: JsonPropertyName("account")] string? Account,
    [property: JsonPropertyName("at")] DateTime At);
