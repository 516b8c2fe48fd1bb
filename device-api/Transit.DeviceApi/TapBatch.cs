using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Transit.DeviceApi;

/// <summary>The body of <c>POST /device/v1/taps</c>: 1 to 5,000 taps of one device, contiguous by sequence number.</summary>
/// <param name="DeviceId">The uploading device; clearing refuses a batch that names another device than its certificate.</param>
/// <param name="Taps">The taps, in sequence order.</param>
public sealed record TapBatch(
    [property: JsonPropertyName("deviceId")] string? DeviceId,
    [property: JsonPropertyName("taps")] IReadOnlyList<TapRecord?>? Taps)
{
    /// <summary>
    /// Which required field (<see cref="TapRecord.RequiredFields"/>) a batch that failed to read lacks, by its path
    /// (<c>taps[3].seq</c>), or null when that is not why. The serializer's error says only which tap, in .NET's words.
    /// </summary>
    /// <param name="json">The batch as received.</param>
    /// <param name="errorPath">The failed read's <see cref="JsonException.Path"/>, e.g. <c>$.taps[3]</c>.</param>
    public static string? MissingField(ReadOnlyMemory<byte> json, string? errorPath)
    {
        const string Prefix = "$.taps[";
        if (errorPath is null || !errorPath.StartsWith(Prefix, StringComparison.Ordinal) || !errorPath.EndsWith(']')
            || !int.TryParse(errorPath.AsSpan(Prefix.Length, errorPath.Length - Prefix.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var index))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(json);
            if (!document.RootElement.TryGetProperty("taps", out var taps) || taps.ValueKind != JsonValueKind.Array || index >= taps.GetArrayLength()
                || taps[index] is not { ValueKind: JsonValueKind.Object } tap)
            {
                return null;
            }

            var missing = TapRecord.RequiredFields.FirstOrDefault(field => !tap.TryGetProperty(field, out _));
            return missing is null ? null : string.Create(CultureInfo.InvariantCulture, $"taps[{index}].{missing}");
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>Clearing's answer to a stored upload.</summary>
/// <param name="DeviceId">The device the batch was stored for.</param>
/// <param name="Received">Taps in the batch.</param>
/// <param name="Stored">Taps stored now.</param>
/// <param name="Duplicates">Taps already stored by an earlier upload (a retry stores nothing twice).</param>
/// <param name="HighestContiguousSequence">Every sequence number up to this one is stored: the gate may mark them uploaded.</param>
/// <param name="MissingRanges">Gaps below the highest stored sequence number (at most 100), which the gate re-sends.</param>
public sealed record TapBatchAnswer(
    [property: JsonPropertyName("deviceId")] string DeviceId,
    [property: JsonPropertyName("received")] int Received,
    [property: JsonPropertyName("stored")] int Stored,
    [property: JsonPropertyName("duplicates")] int Duplicates,
    [property: JsonPropertyName("highestContiguousSequence")] long HighestContiguousSequence,
    [property: JsonPropertyName("missingRanges")] IReadOnlyList<SequenceRange> MissingRanges);

/// <summary>A run of sequence numbers, both ends included.</summary>
/// <param name="From">The first.</param>
/// <param name="To">The last.</param>
public sealed record SequenceRange(
    [property: JsonPropertyName("from")] long From,
    [property: JsonPropertyName("to")] long To);
