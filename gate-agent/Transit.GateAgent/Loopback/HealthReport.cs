using System.Text.Json.Serialization;
using Transit.DeviceApi;

namespace Transit.GateAgent.Loopback;

/// <summary>Body of <c>GET /health</c>.</summary>
public sealed record HealthReport(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("deviceId")] string DeviceId,
    [property: JsonPropertyName("operatorId")] string OperatorId,
    [property: JsonPropertyName("mode")] string Mode,
    [property: JsonPropertyName("stationId")] string? StationId,
    [property: JsonPropertyName("stopId")] string? StopId,
    [property: JsonPropertyName("routeId")] string? RouteId,
    [property: JsonPropertyName("keySetVersion")] long KeySetVersion,
    [property: JsonPropertyName("denyListVersion")] long DenyListVersion,
    [property: JsonPropertyName("configVersion")] long ConfigVersion,
    [property: JsonPropertyName("highestSequence")] long HighestSequence,
    [property: JsonPropertyName("acknowledgedSequence")] long AcknowledgedSequence,
    [property: JsonPropertyName("journalBacklog")] long JournalBacklog,
    [property: JsonPropertyName("lastUploadAt")] DateTime? LastUploadAt,
    [property: JsonPropertyName("lastSyncAt")] DateTime? LastSyncAt,
    [property: JsonPropertyName("clockOffsetMillis")] long? ClockOffsetMillis,
    [property: JsonPropertyName("alarm")] string? Alarm,
    [property: JsonPropertyName("syncRefused")] IReadOnlyList<string>? SyncRefused,
    [property: JsonPropertyName("uploadError")] LinkError? UploadError,
    [property: JsonPropertyName("syncError")] LinkError? SyncError,
    [property: JsonPropertyName("diskFreeBytes")] long DiskFreeBytes,
    [property: JsonPropertyName("problems")] IReadOnlyList<string> Problems,
    [property: JsonPropertyName("gps")] Gps.GpsHealth? Gps = null);
