using System.Text.Json;
using System.Text.Json.Serialization;

namespace Transit.DeviceApi;

/// <summary>
/// The device API's timestamps: read as any RFC 3339 time with its offset, written in UTC with a <c>Z</c> (as a gate
/// always sent them), so a time means the same instant on both sides whatever the device's time zone.
/// </summary>
public sealed class UtcTimestampConverter : JsonConverter<DateTimeOffset>
{
    /// <inheritdoc />
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.String && reader.TryGetDateTimeOffset(out var value)
            ? value
            : throw new JsonException(); // the serializer words the message and adds the field's path

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(value.UtcDateTime);
    }
}
