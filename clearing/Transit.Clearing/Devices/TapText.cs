using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using System.Text.Unicode;
using Transit.DeviceApi;

namespace Transit.Clearing.Devices;

/// <summary>
/// The text fields of a tap as a device sent them. A scanner passes through whatever a printed or phone-shown code
/// holds, so a field may carry bytes that neither PostgreSQL (NUL) nor UTF-8 (lone surrogates, invalid bytes) can
/// take: those taps are stored escaped and refused, never allowed to fail their batch.
/// </summary>
public static class TapText
{
    /// <summary>What to store of a text field: itself when it is clean, else its escaped form (<see cref="Escape"/>).</summary>
    public static string? Stored(string? text, int maxLength) =>
        text is null || IsClean(text, maxLength) ? text : Escape(text, maxLength);

    /// <summary>Longest station, stop, route or operator id stored as sent.</summary>
    public const int MaxIdLength = 128;

    /// <summary>Longest gate reason stored as sent.</summary>
    public const int MaxReasonLength = 64;

    /// <summary>First of the lone low surrogates that stand for bytes that were not UTF-8 (U+DC80 is byte 0x80).</summary>
    private const char ByteEscapeBase = '\uDC00';

    /// <summary>Whether <paramref name="text"/> can be stored as sent: 1 to <paramref name="maxLength"/> characters, no control characters, whole UTF-16.</summary>
    public static bool IsClean(string? text, int maxLength)
    {
        if (string.IsNullOrEmpty(text) || text.Length > maxLength)
        {
            return false;
        }

        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsControl(c))
            {
                return false;
            }

            if (char.IsSurrogate(c))
            {
                if (!char.IsHighSurrogate(c) || i + 1 == text.Length || !char.IsLowSurrogate(text[i + 1]))
                {
                    return false;
                }

                i++;
            }
        }

        return true;
    }

    /// <summary>
    /// <paramref name="text"/> in a form any database and terminal takes: backslash as <c>\\</c>, control characters and
    /// lone surrogates as <c>\uXXXX</c>, bytes that were not UTF-8 as <c>\xNN</c>; at most <paramref name="maxLength"/>
    /// characters, never cutting an escape or a surrogate pair, and marked with … when cut.
    /// </summary>
    public static string Escape(string text, int maxLength)
    {
        var escaped = new StringBuilder(Math.Min(text.Length, maxLength) + 8);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            var piece = char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]) ? text.Substring(i++, 2)
                : c == '\\' ? @"\\"
                : c is >= '\uDC80' and <= '\uDCFF' ? string.Create(CultureInfo.InvariantCulture, $@"\x{c - ByteEscapeBase:x2}")
                : char.IsControl(c) || char.IsSurrogate(c) ? string.Create(CultureInfo.InvariantCulture, $@"\u{(int)c:x4}")
                : null;
            if (escaped.Length + (piece?.Length ?? 1) > maxLength)
            {
                return escaped.Append('…').ToString();
            }

            if (piece is null)
            {
                escaped.Append(c);
            }
            else
            {
                escaped.Append(piece);
            }
        }

        return escaped.ToString();
    }

    /// <summary>UTF-8 to UTF-16 keeping what is not UTF-8: each invalid byte becomes the lone surrogate U+DC00 + byte, as Python's surrogateescape does.</summary>
    internal static string Decode(ReadOnlySpan<byte> utf8)
    {
        if (Utf8.IsValid(utf8))
        {
            return Encoding.UTF8.GetString(utf8);
        }

        var chars = ArrayPool<char>.Shared.Rent(utf8.Length);
        try
        {
            var written = 0;
            while (!utf8.IsEmpty)
            {
                Utf8.ToUtf16(utf8, chars.AsSpan(written), out var read, out var wrote, replaceInvalidSequences: false);
                utf8 = utf8[read..];
                written += wrote;
                if (!utf8.IsEmpty)
                {
                    chars[written++] = (char)(ByteEscapeBase + utf8[0]);
                    utf8 = utf8[1..];
                }
            }

            return new string(chars, 0, written);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(chars);
        }
    }

    /// <summary>A JSON string's raw bytes (escapes already checked by the reader) as text, keeping lone surrogates and invalid bytes.</summary>
    internal static string Unescape(ReadOnlySpan<byte> raw)
    {
        var text = new StringBuilder(raw.Length);
        while (!raw.IsEmpty)
        {
            var backslash = raw.IndexOf((byte)'\\');
            var run = backslash < 0 ? raw : raw[..backslash];
            text.Append(Decode(run));
            if (backslash < 0)
            {
                break;
            }

            var escape = raw[backslash + 1];
            raw = raw[(backslash + 2)..];
            switch (escape)
            {
                case (byte)'u':
                    text.Append((char)int.Parse(Encoding.ASCII.GetString(raw[..4]), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture));
                    raw = raw[4..];
                    break;
                case (byte)'b':
                    text.Append('\b');
                    break;
                case (byte)'f':
                    text.Append('\f');
                    break;
                case (byte)'n':
                    text.Append('\n');
                    break;
                case (byte)'r':
                    text.Append('\r');
                    break;
                case (byte)'t':
                    text.Append('\t');
                    break;
                default:
                    // \" \\ \/ stand for themselves.
                    text.Append((char)escape);
                    break;
            }
        }

        return text.ToString();
    }
}

/// <summary>
/// Reads a tap's text field exactly as sent. The serializer's own string reading refuses a lone surrogate escape or a
/// byte that is not UTF-8, which would fail the whole batch for one scanned code; this keeps them for
/// <see cref="TapText"/> to store escaped. Anything but a string or null is still the batch's error.
/// </summary>
public sealed class AsSentTextConverter : JsonConverter<string>
{
    public override string Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException("expected a string");
        }

        var raw = reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan;
        return reader.ValueIsEscaped ? TapText.Unescape(raw) : TapText.Decode(raw);
    }

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);
}

/// <summary>
/// How clearing reads a tap batch: the device API's contract with every text read as the device sent it
/// (<see cref="AsSentTextConverter"/>), so that a code with a NUL byte or a broken surrogate is that tap's problem,
/// stored refused, not a batch the gate can never move past.
/// </summary>
public static class AsSentJson
{
    private static readonly JsonSerializerOptions Options = new(DeviceApiJson.Default.Options) { Converters = { new AsSentTextConverter() } };

    /// <summary>A whole batch.</summary>
    public static JsonTypeInfo<TapBatch> TapBatch { get; } = (JsonTypeInfo<TapBatch>)Options.GetTypeInfo(typeof(TapBatch));

    /// <summary>One tap.</summary>
    public static JsonTypeInfo<TapRecord> TapRecord { get; } = (JsonTypeInfo<TapRecord>)Options.GetTypeInfo(typeof(TapRecord));
}
