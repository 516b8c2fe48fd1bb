using System.Text.Json.Serialization;

namespace Transit.DeviceApi;

/// <summary>
/// What a gate reports about itself about once a minute (<c>POST /device/v1/status</c>). Every field but the device
/// id may be left out: clearing stores what it was told and shows the rest as unknown.
/// </summary>
public sealed record DeviceStatusReport
{
    /// <summary>The reporting device; clearing refuses a report that names another device than its certificate.</summary>
    [JsonPropertyName("deviceId")] public string? DeviceId { get; init; }

    /// <summary>The gate's clock when it sent the report.</summary>
    [JsonPropertyName("sentAt")][JsonConverter(typeof(UtcTimestampConverter))] public DateTimeOffset? SentAt { get; init; }

    /// <summary>The key set version the gate holds.</summary>
    [JsonPropertyName("keySetVersion")] public long? KeySetVersion { get; init; }

    /// <summary>The deny-list version the gate holds.</summary>
    [JsonPropertyName("denyListVersion")] public long? DenyListVersion { get; init; }

    /// <summary>The <see cref="DeviceConfig.Version"/> the gate holds.</summary>
    [JsonPropertyName("configVersion")] public long? ConfigVersion { get; init; }

    /// <summary>Journaled taps not yet acknowledged by clearing.</summary>
    [JsonPropertyName("journalBacklog")] public long? JournalBacklog { get; init; }

    /// <summary>The journal's highest sequence number.</summary>
    [JsonPropertyName("highestSequence")] public long? HighestSequence { get; init; }

    /// <summary>The last successful upload.</summary>
    [JsonPropertyName("lastUploadAt")][JsonConverter(typeof(UtcTimestampConverter))] public DateTimeOffset? LastUploadAt { get; init; }

    /// <summary>The last successful sync of trust documents.</summary>
    [JsonPropertyName("lastSyncAt")][JsonConverter(typeof(UtcTimestampConverter))] public DateTimeOffset? LastSyncAt { get; init; }

    /// <summary>Clearing's clock minus the gate's, as the gate last estimated it.</summary>
    [JsonPropertyName("clockOffsetMillis")] public long? ClockOffsetMillis { get; init; }

    /// <summary>Taps since start by reason (<see cref="TapReasons.Gate"/>).</summary>
    [JsonPropertyName("taps")] public IReadOnlyDictionary<string, long>? Taps { get; init; }

    /// <summary>The 99th percentile of recent decision latencies, in microseconds.</summary>
    [JsonPropertyName("p99LatencyMicros")] public long? P99LatencyMicros { get; init; }

    /// <summary>The gate agent's version, e.g. <c>1.4.0</c>.</summary>
    [JsonPropertyName("softwareVersion")] public string? SoftwareVersion { get; init; }

    /// <summary><c>amber</c> while something needs staff, else absent.</summary>
    [JsonPropertyName("alarm")] public string? Alarm { get; init; }

    /// <summary>Uploads failing again and again.</summary>
    [JsonPropertyName("uploadError")] public LinkError? UploadError { get; init; }

    /// <summary>Syncs failing again and again.</summary>
    [JsonPropertyName("syncError")] public LinkError? SyncError { get; init; }

    /// <summary>Free bytes on the journal's file system; -1 when it could not be read.</summary>
    [JsonPropertyName("diskFreeBytes")] public long? DiskFreeBytes { get; init; }
}

/// <summary>A link to clearing that keeps failing, as a gate reports it (its status report and its <c>/health</c>).</summary>
public sealed record LinkError
{
    /// <summary>Kebab-case cause: <c>tls-name-mismatch</c>, <c>tls-untrusted</c>, <c>connection-refused</c>, <c>timeout</c>, <c>http-500</c>, …</summary>
    [JsonPropertyName("reason")] public string? Reason { get; init; }

    /// <summary>What happened, for staff (at most 500 characters).</summary>
    [JsonPropertyName("message")] public string? Message { get; init; }

    /// <summary>When the run of failures began.</summary>
    [JsonPropertyName("since")][JsonConverter(typeof(UtcTimestampConverter))] public DateTimeOffset? Since { get; init; }

    /// <summary>Consecutive failures so far.</summary>
    [JsonPropertyName("failures")] public int Failures { get; init; }
}

/// <summary>Clearing's answer to a status report: its clock, from which the gate estimates its offset.</summary>
/// <param name="ServerTime">Clearing's clock when it stored the report.</param>
public sealed record DeviceStatusAnswer(
    [property: JsonPropertyName("serverTime")][property: JsonConverter(typeof(UtcTimestampConverter))] DateTimeOffset? ServerTime);
