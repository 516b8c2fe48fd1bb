using System.Text.Json.Serialization;

namespace Transit.DeviceApi;

/// <summary>
/// One tap as a gate uploads it (<c>POST /device/v1/taps</c>, docs/device-api.md). A gate fills every field; clearing
/// reads what a device sent as it was sent: a missing <see cref="Seq"/>, <see cref="At"/> or <see cref="Accepted"/>
/// fails the read (<see cref="RequiredFields"/>), while text it cannot store is the tap's own problem
/// (clearing stores the tap refused, with a reason from <see cref="TapReasons.Clearing"/>), never the batch's.
/// </summary>
public sealed record TapRecord
{
    /// <summary>The device's journal sequence number: from 1, contiguous within a batch.</summary>
    [JsonPropertyName("seq")]
    [JsonRequired]
    public long Seq { get; init; }

    /// <summary>The gate's clock when it decided.</summary>
    [JsonPropertyName("at")]
    [JsonConverter(typeof(UtcTimestampConverter))]
    [JsonRequired]
    public DateTimeOffset At { get; init; }

    /// <summary>The code's text as stored by the gate (printable ASCII, at most 512 characters).</summary>
    [JsonPropertyName("code")]
    public string? Code { get; init; }

    /// <summary>Whether the gate opened.</summary>
    [JsonPropertyName("accepted")]
    [JsonRequired]
    public bool Accepted { get; init; }

    /// <summary>Why: one of <see cref="TapReasons.Gate"/>.</summary>
    [JsonPropertyName("reason")]
    public string? Reason { get; init; }

    /// <summary>The validator's kind: a name of <see cref="TapModes"/>.</summary>
    [JsonPropertyName("mode")]
    public string? Mode { get; init; }

    /// <summary>The operator the device belongs to.</summary>
    [JsonPropertyName("operatorId")]
    public string? OperatorId { get; init; }

    /// <summary>The station, for a metro gate.</summary>
    [JsonPropertyName("stationId")]
    public string? StationId { get; init; }

    /// <summary>The stop, for a bus validator that knows it (GPS or the driver console).</summary>
    [JsonPropertyName("stopId")]
    public string? StopId { get; init; }

    /// <summary>The route, for a bus validator.</summary>
    [JsonPropertyName("routeId")]
    public string? RouteId { get; init; }

    /// <summary>The account the code named, when it parsed (clearing re-verifies and trusts its own reading).</summary>
    [JsonPropertyName("account")]
    public string? Account { get; init; }

    /// <summary>The credential's id, when the code parsed.</summary>
    [JsonPropertyName("credentialId")]
    public string? CredentialId { get; init; }

    /// <summary>The gate's decision latency: microseconds from the scanner's read to the decision.</summary>
    [JsonPropertyName("latencyMicros")]
    public long LatencyMicros { get; init; }

    /// <summary>The key set version the gate held when deciding.</summary>
    [JsonPropertyName("keySetVersion")]
    public long KeySetVersion { get; init; }

    /// <summary>The deny-list version the gate held when deciding.</summary>
    [JsonPropertyName("denyListVersion")]
    public long DenyListVersion { get; init; }

    /// <summary>
    /// The issuer id the code names (<c>TR2</c> codes); absent for <c>TR1</c> codes, which are the operator's own
    /// issuer's, so that their taps read exactly as before issuers existed.
    /// </summary>
    [JsonPropertyName("issuer")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Issuer { get; init; }

    /// <summary>Whether clearing acknowledged it: only in a gate's own journal listing, never uploaded.</summary>
    [JsonPropertyName("uploaded")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? Uploaded { get; init; }

    /// <summary>The fields a tap cannot be read without (those marked <see cref="JsonRequiredAttribute"/>): the serializer refuses a tap that lacks one.</summary>
    public static IReadOnlyList<string> RequiredFields { get; } =
        [.. DeviceApiJson.Default.TapRecord.Properties.Where(property => property.IsRequired).Select(property => property.Name)];
}
