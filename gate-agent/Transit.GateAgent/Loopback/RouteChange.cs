using System.Text.Json.Serialization;

namespace Transit.GateAgent.Loopback;

/// <summary>Body of <c>POST /control/route</c>, the driver console's input.</summary>
public sealed record RouteChange(
    [property: JsonPropertyName("routeId")] string? RouteId,
    [property: JsonPropertyName("stopId")] string? StopId);
