using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Transit.GateAgent.Pipeline;

namespace Transit.GateAgent.Journal;

/// <summary>One journaled tap, in the device API's upload form (docs/device-api.md).</summary>
public sealed record TapRecord(
    [property: JsonPropertyName("seq")] long Seq,
    [property: JsonPropertyName("at")] DateTime At,
    [property: JsonPropertyName("code")] string Code,
    [property: JsonPropertyName("accepted")] bool Accepted,
    [property: JsonPropertyName("reason")] string Reason,
    [property: JsonPropertyName("mode")] string Mode,
    [property: JsonPropertyName("operatorId")] string OperatorId,
    [property: JsonPropertyName("stationId")] string? StationId,
    [property: JsonPropertyName("stopId")] string? StopId,
    [property: JsonPropertyName("routeId")] string? RouteId,
    [property: JsonPropertyName("account")] string? Account,
    [property: JsonPropertyName("credentialId")] string? CredentialId,
    [property: JsonPropertyName("latencyMicros")] long LatencyMicros,
    [property: JsonPropertyName("keySetVersion")] long KeySetVersion,
    [property: JsonPropertyName("denyListVersion")] long DenyListVersion)
{
    /// <summary>
    /// The issuer id the code names (<c>TR2</c> codes); absent for <c>TR1</c> codes, which are the operator's own
    /// issuer's, so that their taps read exactly as before issuers existed.
    /// </summary>
    [JsonPropertyName("issuer")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Issuer { get; init; }

    /// <summary>Whether clearing acknowledged it; only in <c>transit gate journal</c> output, never uploaded.</summary>
    [JsonPropertyName("uploaded")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? Uploaded { get; init; }
}

/// <summary>Body of <c>POST /device/v1/taps</c>.</summary>
public sealed record TapBatch(
    [property: JsonPropertyName("deviceId")] string DeviceId,
    [property: JsonPropertyName("taps")] IReadOnlyList<TapRecord> Taps);

/// <summary>A gap clearing reports below its highest stored sequence.</summary>
public sealed record SequenceRange(
    [property: JsonPropertyName("from")] long From,
    [property: JsonPropertyName("to")] long To);

/// <summary>Clearing's answer to an upload.</summary>
public sealed record TapBatchAck(
    [property: JsonPropertyName("deviceId")] string? DeviceId,
    [property: JsonPropertyName("received")] int Received,
    [property: JsonPropertyName("stored")] int Stored,
    [property: JsonPropertyName("duplicates")] int Duplicates,
    [property: JsonPropertyName("highestContiguousSequence")] long HighestContiguousSequence,
    [property: JsonPropertyName("missingRanges")] IReadOnlyList<SequenceRange>? MissingRanges);

/// <summary>An RFC 9457 problem details body.</summary>
public sealed record ProblemDetails(
    [property: JsonPropertyName("type")] string? Type,
    [property: JsonPropertyName("title")] string? Title,
    [property: JsonPropertyName("status")] int? Status,
    [property: JsonPropertyName("detail")] string? Detail);

/// <summary>Serialisation of the gate's wire and journal forms, without reflection (fast start, trimmable).</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(TapRecord))]
[JsonSerializable(typeof(TapBatch))]
[JsonSerializable(typeof(TapBatchAck))]
[JsonSerializable(typeof(ProblemDetails))]
[JsonSerializable(typeof(TapOutcome))]
[JsonSerializable(typeof(Clearing.DenyListResponse))]
[JsonSerializable(typeof(Clearing.IssuerBundleResponse))]
[JsonSerializable(typeof(Clearing.DeviceConfigPayload))]
[JsonSerializable(typeof(Status.HeartbeatRequest))]
[JsonSerializable(typeof(Status.HeartbeatResponse))]
[JsonSerializable(typeof(Status.RouteChange))]
[JsonSerializable(typeof(Status.HealthReport))]
[JsonSerializable(typeof(Status.LinkError))]
public sealed partial class GateJson : JsonSerializerContext
{
    /// <summary>
    /// For writing: ride codes are full of <c>+</c>, <c>$</c> and <c>%</c>, which the default encoder turns into
    /// <c>\u002B</c> escapes; this keeps them readable in journals and batches (still valid JSON, same strings).
    /// </summary>
    public static GateJson Wire { get; } = new(new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
}
