using System.Text.Json.Serialization;
using Transit.Clearing.Devices;

namespace Transit.Clearing.Ingest;

/// <summary>The body of <c>POST /device/v1/taps</c> (docs/device-api.md). Fields are nullable so that a missing one is named, not defaulted.</summary>
public sealed class TapBatch
{
    [JsonPropertyName("deviceId")]
    public string? DeviceId { get; set; }

    [JsonPropertyName("taps")]
    public List<TapRecord?>? Taps { get; set; }
}

/// <summary>One tap of a batch. Its text fields are read as sent (<see cref="AsSentTextConverter"/>) and checked per tap.</summary>
public sealed class TapRecord
{
    [JsonPropertyName("seq")]
    public long? Seq { get; set; }

    [JsonPropertyName("at")]
    public DateTimeOffset? At { get; set; }

    [JsonPropertyName("code")]
    [JsonConverter(typeof(AsSentTextConverter))]
    public string? Code { get; set; }

    [JsonPropertyName("accepted")]
    public bool? Accepted { get; set; }

    [JsonPropertyName("reason")]
    [JsonConverter(typeof(AsSentTextConverter))]
    public string? Reason { get; set; }

    [JsonPropertyName("mode")]
    [JsonConverter(typeof(AsSentTextConverter))]
    public string? Mode { get; set; }

    [JsonPropertyName("operatorId")]
    [JsonConverter(typeof(AsSentTextConverter))]
    public string? OperatorId { get; set; }

    [JsonPropertyName("stationId")]
    [JsonConverter(typeof(AsSentTextConverter))]
    public string? StationId { get; set; }

    [JsonPropertyName("stopId")]
    [JsonConverter(typeof(AsSentTextConverter))]
    public string? StopId { get; set; }

    [JsonPropertyName("routeId")]
    [JsonConverter(typeof(AsSentTextConverter))]
    public string? RouteId { get; set; }

    [JsonPropertyName("account")]
    public string? Account { get; set; }

    [JsonPropertyName("credentialId")]
    public string? CredentialId { get; set; }

    [JsonPropertyName("latencyMicros")]
    public long? LatencyMicros { get; set; }

    [JsonPropertyName("keySetVersion")]
    public long? KeySetVersion { get; set; }

    [JsonPropertyName("denyListVersion")]
    public long? DenyListVersion { get; set; }
}

/// <summary>The answer to an upload.</summary>
public sealed record TapBatchResult(
    [property: JsonPropertyName("deviceId")] string DeviceId,
    [property: JsonPropertyName("received")] int Received,
    [property: JsonPropertyName("stored")] int Stored,
    [property: JsonPropertyName("duplicates")] int Duplicates,
    [property: JsonPropertyName("highestContiguousSequence")] long HighestContiguousSequence,
    [property: JsonPropertyName("missingRanges")] IReadOnlyList<SequenceRange> MissingRanges);


/// <summary>Tap modes, as stored (smallint).</summary>
public static class TapModes
{
    public const short MetroEntry = 1;
    public const short MetroExit = 2;
    public const short Bus = 3;

    /// <summary>A tap-off on a bus (a validator at the exit door, or the boarding validator tapped again when leaving), for networks whose fares need the alighting stop.</summary>
    public const short BusExit = 4;

    /// <summary>A bus validator's tap (boarding or tap-off): it has a route and stop, no station.</summary>
    public static bool OnBus(short mode) => mode is Bus or BusExit;

    public static bool TryParse(string? text, out short mode)
    {
        mode = text switch
        {
            "metro-entry" => MetroEntry,
            "metro-exit" => MetroExit,
            "bus" => Bus,
            "bus-exit" => BusExit,
            _ => 0,
        };
        return mode != 0;
    }

    public static string Name(short mode) => mode switch
    {
        MetroEntry => "metro-entry",
        MetroExit => "metro-exit",
        Bus => "bus",
        BusExit => "bus-exit",
        _ => "unknown",
    };
}

/// <summary>Bits of <c>taps.flags</c>.</summary>
[Flags]
public enum TapFlags
{
    None = 0,

    /// <summary>The gate accepted the code but clearing's re-verification refused it.</summary>
    RefusedByClearing = 1,

    /// <summary>The code was already accepted at another device (or earlier at this one): a copied code.</summary>
    DuplicateUse = 2,

    /// <summary>The first acceptance of a code that was later used again elsewhere.</summary>
    DuplicateOriginal = 4,

    /// <summary>The gate refused a code that clearing finds valid (e.g. the gate's lists were out of date).</summary>
    RefusedByGateOnly = 8,

    /// <summary>The tap's time is implausible against the server clock; it is filed under the day it was received.</summary>
    ClockSuspect = 16,

    /// <summary>The tap counts towards a journey: accepted, authentic, fresh at its time, not a copied code, taken where the device is.</summary>
    Billable = 32,

    /// <summary>The tap claims an operator, mode, station, route or stop its device is not registered for (<c>clearing_reason</c> says which).</summary>
    DeviceMismatch = 64,

    /// <summary>A field of the tap could not be stored as sent (control bytes, broken UTF-16, too long); it is stored escaped.</summary>
    Malformed = 128,
}
