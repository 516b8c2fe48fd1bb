using System.Globalization;
using System.Text;
using Transit.RideCodes;

namespace Transit.GateAgent.Scanners;

/// <summary>
/// What a scanner may hand over. A ride code is Base45 text after a <c>TR&lt;digits&gt;:</c> prefix, so every character
/// of a real code is in the QR alphanumeric set (docs/ride-code.md); anything else is refused as <c>malformed</c>
/// before verification. Refused text is kept for staff and clearing only in escaped form: a NUL or other control byte
/// in the journal or an upload made clearing refuse the whole batch, and the gate resent it forever.
/// </summary>
public static class ScanText
{
    /// <summary>Whether every character of <paramref name="text"/> can appear in a ride code.</summary>
    public static bool InCodeAlphabet(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        foreach (var c in text)
        {
            if (!Base45.IsInAlphabet(c))
            {
                return false;
            }
        }

        return text.Length > 0;
    }

    /// <summary>
    /// <paramref name="text"/> with every character outside printable ASCII, and the backslash itself, written as
    /// <c>\xNN</c> (<c>\u{NNNN}</c> above U+00FF): printable, unambiguous, and never a ride code (a backslash is not in
    /// the alphabet). Cut at <paramref name="maxLength"/> characters, never inside an escape.
    /// </summary>
    public static string Escape(string text, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(text);
        var clean = true;
        foreach (var c in text)
        {
            clean &= IsKept(c);
        }

        if (clean)
        {
            return text.Length <= maxLength ? text : text[..maxLength];
        }

        var sb = new StringBuilder(Math.Min(maxLength, text.Length * 4));
        foreach (var c in text)
        {
            var piece = IsKept(c) ? null : c <= 0xFF ? string.Create(CultureInfo.InvariantCulture, $"\\x{(int)c:X2}") : string.Create(CultureInfo.InvariantCulture, $"\\u{{{(int)c:X4}}}");
            var length = piece?.Length ?? 1;
            if (sb.Length + length > maxLength)
            {
                break;
            }

            if (piece is null)
            {
                sb.Append(c);
            }
            else
            {
                sb.Append(piece);
            }
        }

        return sb.ToString();
    }

    private static bool IsKept(char c) => c is >= ' ' and <= '~' and not '\\';
}
