using System.Globalization;
using System.Text;

namespace Transit.Analytics.Exports;

/// <summary>Writes a standard table: the header in the spec's order (only the chosen columns) and RFC 4180 quoting.</summary>
internal static class CsvOut
{
    public static string Write(TableSpec spec, IReadOnlyList<string> columns, IEnumerable<IReadOnlyList<object?>> rows)
    {
        var fields = columns.Select(c => spec.Field(c) ?? throw new ArgumentException($"{spec.FileName} has no field {c}", nameof(columns))).ToArray();
        var sb = new StringBuilder();
        sb.AppendJoin(',', columns).Append('\n');
        foreach (var row in rows)
        {
            for (var i = 0; i < fields.Length; i++)
            {
                if (i > 0)
                {
                    sb.Append(',');
                }

                sb.Append(Escape(Format(fields[i].Type, row[i])));
            }

            sb.Append('\n');
        }

        return sb.ToString();
    }

    private static string Format(FieldType type, object? value) => value switch
    {
        null => "",
        DateOnly d when type == FieldType.GtfsDate => d.ToString("yyyyMMdd", CultureInfo.InvariantCulture),
        DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        DateTimeOffset t => t.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    private static string Escape(string value) =>
        value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
}
