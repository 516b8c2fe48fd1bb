namespace Transit.RideCodes;

/// <summary>
/// Base45 (RFC 9285): bytes as characters of the QR code alphanumeric set, 3 characters per 2 bytes.
/// </summary>
public static class Base45
{
    private const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
    private static readonly sbyte[] Values = BuildValues();

    /// <summary>Number of characters that <paramref name="byteCount"/> bytes encode to.</summary>
    public static int EncodedLength(int byteCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(byteCount);
        // checked() restates the project's CheckForOverflowUnderflow; its remove-checked mutant is equivalent.
        return checked((byteCount / 2 * 3) + (byteCount % 2 * 2));
    }

    /// <summary>Encodes <paramref name="data"/> as Base45 text.</summary>
    public static string Encode(ReadOnlySpan<byte> data)
    {
        var chars = new char[EncodedLength(data.Length)];
        var o = 0;
        var i = 0;
        for (; i + 1 < data.Length; i += 2)
        {
            var n = (data[i] << 8) | data[i + 1];
            chars[o++] = Alphabet[n % 45];
            chars[o++] = Alphabet[n / 45 % 45];
            chars[o++] = Alphabet[n / 2025];
        }

        if (i < data.Length)
        {
            int n = data[i];
            chars[o++] = Alphabet[n % 45];
            chars[o++] = Alphabet[n / 45];
        }

        return new string(chars);
    }

    /// <summary>
    /// Decodes Base45 text. Returns false, never throws, for characters outside the alphabet, a dangling
    /// single character, or a group whose value does not fit its bytes (the encoding is canonical).
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<char> text, out byte[] data)
    {
        data = [];
        if (text.Length % 3 == 1)
        {
            return false;
        }

        var result = new byte[(text.Length / 3 * 2) + (text.Length % 3 == 2 ? 1 : 0)];
        var o = 0;
        var i = 0;
        for (; i + 2 < text.Length; i += 3)
        {
            int c = Value(text[i]), d = Value(text[i + 1]), e = Value(text[i + 2]);
            if ((c | d | e) < 0)
            {
                return false;
            }

            var n = c + (d * 45) + (e * 2025);
            if (n > 0xFFFF)
            {
                return false;
            }

            result[o++] = (byte)(n >> 8);
            result[o++] = unchecked((byte)n);
        }

        if (i < text.Length)
        {
            int c = Value(text[i]), d = Value(text[i + 1]);
            if ((c | d) < 0)
            {
                return false;
            }

            var n = c + (d * 45);
            if (n > 0xFF)
            {
                return false;
            }

            result[o] = (byte)n;
        }

        data = result;
        return true;
    }

    /// <summary>Whether <paramref name="c"/> is one of the 45 characters (the QR alphanumeric set).</summary>
    public static bool IsInAlphabet(char c) => Value(c) >= 0;

    private static int Value(char c) => c < Values.Length ? Values[c] : -1;

    private static sbyte[] BuildValues()
    {
        var values = new sbyte[128];
        Array.Fill(values, (sbyte)-1);
        for (var i = 0; i < Alphabet.Length; i++)
        {
            values[Alphabet[i]] = (sbyte)i;
        }

        return values;
    }
}
