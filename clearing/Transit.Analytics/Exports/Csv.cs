using System.Buffers;
using System.Globalization;
using System.Text;

namespace Transit.Analytics.Exports;

/// <summary>A number already formatted elsewhere (a fare as "1.50", a refund as "-150"): written as a number, never neutralised.</summary>
public readonly record struct CsvNumber
{
    public CsvNumber(string text)
    {
        if (!IsNumber(text))
        {
            throw new ArgumentException($"'{text}' is not a plain decimal number", nameof(text));
        }

        Text = text;
    }

    public string Text { get; }

    private static bool IsNumber(string text)
    {
        var digits = text.StartsWith('-') ? text.AsSpan(1) : text.AsSpan();
        var point = digits.IndexOf('.');
        var whole = point < 0 ? digits : digits[..point];
        var fraction = point < 0 ? "0" : digits[(point + 1)..];
        return whole.Length > 0 && fraction.Length > 0 && !whole.ContainsAnyExcept("0123456789") && !fraction.ContainsAnyExcept("0123456789");
    }
}

/// <summary>
/// The one CSV writer of the system: statements, analytics answers and exports, <c>suppressed.txt</c>, and
/// <c>transit fares price</c> all write their rows here. Fields follow RFC 4180 (a field holding a comma, a quote or a
/// line break is quoted, quotes doubled). Text fields are also neutralised against formula injection (OWASP "CSV
/// injection"): a text that starts with <c>=</c>, <c>+</c>, <c>-</c>, <c>@</c>, a tab or a carriage return is written
/// quoted with a leading apostrophe, so that a spreadsheet shows it as text instead of evaluating it. Numbers (typed
/// as numbers, or <see cref="CsvNumber"/>) are never neutralised: a refund of <c>-150</c> stays a number.
/// </summary>
public static class Csv
{
    private static readonly SearchValues<char> FormulaStarts = SearchValues.Create("=+-@\t\r");

    /// <summary>One line: the fields joined by commas, ended by LF.</summary>
    public static string Line(IEnumerable<object?> fields) => Append(new StringBuilder(), fields).ToString();

    /// <summary>Appends one line to <paramref name="csv"/>.</summary>
    public static StringBuilder Append(StringBuilder csv, IEnumerable<object?> fields)
    {
        var first = true;
        foreach (var field in fields)
        {
            if (!first)
            {
                csv.Append(',');
            }

            csv.Append(Field(field));
            first = false;
        }

        return csv.Append('\n');
    }

    /// <summary>
    /// One field: null is empty; a string is text (quoted when needed, neutralised when it could start a formula);
    /// a boolean is true or false; a date is ISO 8601; a number is written in the invariant culture, sign and all.
    /// </summary>
    public static string Field(object? value) => value switch
    {
        null => "",
        string text => Text(text),
        CsvNumber number => number.Text,
        bool b => b ? "true" : "false",
        DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        DateTimeOffset t => t.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
        sbyte or byte or short or ushort or int or uint or long or ulong or decimal or double or float => ((IFormattable)value).ToString(null, CultureInfo.InvariantCulture),
        _ => Text(value.ToString() ?? ""),
    };

    /// <summary>A text field, neutralised and quoted as the class describes.</summary>
    public static string Text(string value)
    {
        var formula = value.Length > 0 && FormulaStarts.Contains(value[0]);
        if (!formula && value.AsSpan().IndexOfAny(",\"\r\n") < 0)
        {
            return value;
        }

        return "\"" + (formula ? "'" : "") + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
    }
}
