using System.Globalization;
using System.Text;

namespace Transit.Analytics.Exports;

/// <summary>Writes a standard table: the header in the spec's order (only the chosen columns), rows through <see cref="Csv"/>.</summary>
internal static class CsvOut
{
    public static string Write(TableSpec spec, IReadOnlyList<string> columns, IEnumerable<IReadOnlyList<object?>> rows)
    {
        var fields = columns.Select(c => spec.Field(c) ?? throw new ArgumentException($"{spec.FileName} has no field {c}", nameof(columns))).ToArray();
        var sb = Csv.Append(new StringBuilder(), columns);
        foreach (var row in rows)
        {
            Csv.Append(sb, fields.Select((field, i) => row[i] is DateOnly d && field.Type == FieldType.GtfsDate
                ? d.ToString("yyyyMMdd", CultureInfo.InvariantCulture)
                : row[i]));
        }

        return sb.ToString();
    }
}
