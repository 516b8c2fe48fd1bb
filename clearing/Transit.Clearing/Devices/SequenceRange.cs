using System.Text.Json.Serialization;

namespace Transit.Clearing.Devices;

/// <summary>An inclusive range of sequence numbers.</summary>
public sealed record SequenceRange([property: JsonPropertyName("from")] long From, [property: JsonPropertyName("to")] long To);
