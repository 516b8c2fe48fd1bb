using System.Text.Json.Serialization;

namespace Transit.GateAgent.Loopback;

/// <summary>The loopback endpoints' bodies, serialized without reflection.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(RouteChange))]
[JsonSerializable(typeof(HealthReport))]
internal sealed partial class LoopbackJson : JsonSerializerContext;
