using System.Text.Json.Serialization;

namespace Transit.DeviceApi;

/// <summary>
/// The payload of the signed device configuration (<c>GET /device/v1/config</c>, a <c>transit-device-config</c>
/// document under the operator's key set): where the device stands and the limits it decides by.
/// </summary>
/// <param name="Version">Raised by clearing at every change; a gate keeps the highest it has verified.</param>
/// <param name="DeviceId">The device it is for; a gate refuses another device's.</param>
/// <param name="OperatorId">The operator the device belongs to.</param>
/// <param name="Mode">A name of <see cref="TapModes"/>.</param>
/// <param name="StationId">The station, for a metro gate.</param>
/// <param name="RouteId">The route, for a bus validator.</param>
/// <param name="MaxAgeSeconds">Oldest code accepted.</param>
/// <param name="MaxAheadSeconds">How far ahead of the gate's clock a code may be.</param>
/// <param name="PassbackSeconds">The pass-back window.</param>
/// <param name="IssuedAt">When clearing signed it.</param>
public sealed record DeviceConfig(
    [property: JsonPropertyName("version")] long Version,
    [property: JsonPropertyName("deviceId")] string? DeviceId,
    [property: JsonPropertyName("operatorId")] string? OperatorId,
    [property: JsonPropertyName("mode")] string? Mode,
    [property: JsonPropertyName("stationId")] string? StationId,
    [property: JsonPropertyName("routeId")] string? RouteId,
    [property: JsonPropertyName("maxAgeSeconds")] int MaxAgeSeconds,
    [property: JsonPropertyName("maxAheadSeconds")] int MaxAheadSeconds,
    [property: JsonPropertyName("passbackSeconds")] int PassbackSeconds,
    [property: JsonPropertyName("issuedAt")][property: JsonConverter(typeof(UtcTimestampConverter))] DateTimeOffset IssuedAt);
