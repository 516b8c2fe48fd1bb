using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Transit.Gtfs;

namespace Transit.Analytics.Tests;

/// <summary>
/// Checks a CSV file against a Frictionless Table Schema (the format of the TIDES <c>spec/*.schema.json</c> files),
/// reading the rules from the schema itself. It follows what the Frictionless validator that TIDES uses checks by
/// default: the header holds exactly the schema's fields in the schema's order; every row has as many cells as the
/// header; values in <c>missingValues</c> count as missing; each present value has the field's type; the constraints
/// <c>required</c>, <c>unique</c>, <c>enum</c>, <c>minimum</c>, <c>maximum</c>, <c>minLength</c>, <c>maxLength</c> and
/// <c>pattern</c> hold; the primary key is present and unique. A schema using anything this checker does not know (a
/// type, a format, a constraint) is an error rather than a silent pass.
/// </summary>
internal sealed class TableSchemaChecker
{
    private static readonly Regex Integer = new(@"^[+-]?[0-9]+$", RegexOptions.CultureInvariant);
    private static readonly Regex Number = new(@"^([+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?|(?i:nan|inf|-inf))$", RegexOptions.CultureInvariant);
    private static readonly Regex Date = new(@"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", RegexOptions.CultureInvariant);
    private static readonly Regex Time = new(@"^[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})?$", RegexOptions.CultureInvariant);
    private static readonly Regex DateAndTime = new(@"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})?$", RegexOptions.CultureInvariant);
    private static readonly string[] KnownConstraints = ["required", "unique", "enum", "minimum", "maximum", "minLength", "maxLength", "pattern"];

    private readonly string _name;
    private readonly Field[] _fields;
    private readonly string[] _primaryKey;
    private readonly HashSet<string> _missingValues;

    private TableSchemaChecker(string name, Field[] fields, string[] primaryKey, HashSet<string> missingValues)
    {
        (_name, _fields, _primaryKey, _missingValues) = (name, fields, primaryKey, missingValues);
    }

    /// <summary>The field names in the schema's order.</summary>
    public IReadOnlyList<string> FieldNames => [.. _fields.Select(f => f.Name)];

    /// <summary>The TIDES v1.0 schema of <paramref name="table"/>, kept in tests/data/tides-v1.0 of this repository.</summary>
    public static TableSchemaChecker TidesV1(string table) =>
        Load(Repository.PathOf("tests", "data", "tides-v1.0", table + ".schema.json"));

    public static TableSchemaChecker Load(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        var root = document.RootElement;
        var name = Path.GetFileName(path);
        var fields = root.GetProperty("fields").EnumerateArray().Select(f => Field.Read(name, f)).ToArray();
        var primaryKey = !root.TryGetProperty("primaryKey", out var key) ? []
            : key.ValueKind == JsonValueKind.String ? [key.GetString()!]
            : key.EnumerateArray().Select(k => k.GetString()!).ToArray();
        foreach (var k in primaryKey.Where(k => fields.All(f => f.Name != k)))
        {
            throw new InvalidDataException($"{name}: primary key field '{k}' is not a field of the schema");
        }

        var missing = root.TryGetProperty("missingValues", out var m) ? m.EnumerateArray().Select(v => v.GetString()!).ToHashSet(StringComparer.Ordinal) : [""];
        return new TableSchemaChecker(name, fields, primaryKey, missing);
    }

    public IReadOnlyList<string> Check(string csv)
    {
        var errors = new List<string>();
        using var records = CsvReader.Read(new StringReader(csv)).Select(r => r.Fields).GetEnumerator();
        if (!records.MoveNext())
        {
            return [$"{_name}: the file has no header"];
        }

        var header = records.Current;
        for (var i = 0; i < Math.Max(header.Length, _fields.Length); i++)
        {
            if (i >= _fields.Length)
            {
                errors.Add($"{_name}: column {i + 1} '{header[i]}' is not a field of the schema");
            }
            else if (i >= header.Length)
            {
                errors.Add($"{_name}: field '{_fields[i].Name}' (column {i + 1}) is missing from the header");
            }
            else if (header[i] != _fields[i].Name)
            {
                errors.Add($"{_name}: column {i + 1} is '{header[i]}' where the schema has '{_fields[i].Name}'");
            }
        }

        if (errors.Count > 0)
        {
            return errors;
        }

        var unique = _fields.Where(f => f.Unique).ToDictionary(f => f.Name, _ => new HashSet<string>(StringComparer.Ordinal));
        var keys = new HashSet<string>(StringComparer.Ordinal);
        var keyIndexes = _primaryKey.Select(k => Array.FindIndex(_fields, f => f.Name == k)).ToArray();
        var row = 1;
        while (records.MoveNext())
        {
            row++;
            var cells = records.Current;
            if (cells.Length != _fields.Length)
            {
                errors.Add($"{_name} row {row}: {cells.Length} cells where the header has {_fields.Length}");
                continue;
            }

            for (var i = 0; i < cells.Length; i++)
            {
                var field = _fields[i];
                var missing = _missingValues.Contains(cells[i]);
                if (field.Problem(missing ? null : cells[i]) is { } problem)
                {
                    errors.Add($"{_name} row {row}: {field.Name}: {problem}");
                }

                if (!missing && unique.TryGetValue(field.Name, out var seen) && !seen.Add(cells[i]))
                {
                    errors.Add($"{_name} row {row}: {field.Name} '{cells[i]}' is not unique");
                }
            }

            if (keyIndexes.Length > 0)
            {
                if (keyIndexes.Any(i => _missingValues.Contains(cells[i])))
                {
                    errors.Add($"{_name} row {row}: a primary key field ({string.Join(", ", _primaryKey)}) is missing");
                }
                else if (!keys.Add(string.Join('\u0001', keyIndexes.Select(i => cells[i]))))
                {
                    errors.Add($"{_name} row {row}: primary key ({string.Join(", ", _primaryKey)}) = ({string.Join(", ", keyIndexes.Select(i => cells[i]))}) repeats an earlier row");
                }
            }
        }

        return errors;
    }

    private sealed record Field(string Name, string Type, bool Required, bool Unique, string[]? Enum, double? Minimum, double? Maximum, int? MinLength, int? MaxLength, Regex? Pattern, string[] TrueValues, string[] FalseValues)
    {
        public static Field Read(string schema, JsonElement f)
        {
            var name = f.GetProperty("name").GetString()!;
            var type = f.TryGetProperty("type", out var t) ? t.GetString()! : "string";
            if (type is not ("string" or "integer" or "number" or "boolean" or "date" or "time" or "datetime"))
            {
                throw new InvalidDataException($"{schema}: field '{name}' has type '{type}', which this checker does not know");
            }

            if (f.TryGetProperty("format", out var format) && format.GetString() != "default")
            {
                throw new InvalidDataException($"{schema}: field '{name}' has format '{format.GetString()}', which this checker does not know");
            }

            if (f.TryGetProperty("bareNumber", out var bare) && !bare.GetBoolean())
            {
                throw new InvalidDataException($"{schema}: field '{name}' sets bareNumber false, which this checker does not know");
            }

            var c = f.TryGetProperty("constraints", out var constraints) ? constraints : default;
            if (c.ValueKind == JsonValueKind.Object && c.EnumerateObject().Select(p => p.Name).FirstOrDefault(n => !KnownConstraints.Contains(n)) is { } unknown)
            {
                throw new InvalidDataException($"{schema}: field '{name}' has constraint '{unknown}', which this checker does not know");
            }

            JsonElement? Constraint(string key) => c.ValueKind == JsonValueKind.Object && c.TryGetProperty(key, out var v) ? v : null;
            double? Bound(string key) => Constraint(key) is { } v
                ? type is "integer" or "number" ? v.GetDouble() : throw new InvalidDataException($"{schema}: field '{name}' of type {type} has a {key}, which this checker compares only for numbers")
                : null;
            string[] Values(string key, string[] defaults) => f.TryGetProperty(key, out var v) ? [.. v.EnumerateArray().Select(e => e.GetString()!)] : defaults;

            return new Field(
                name,
                type,
                Constraint("required")?.GetBoolean() == true,
                Constraint("unique")?.GetBoolean() == true,
                Constraint("enum")?.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()! : e.GetRawText()).ToArray(),
                Bound("minimum"),
                Bound("maximum"),
                Constraint("minLength")?.GetInt32(),
                Constraint("maxLength")?.GetInt32(),
                Constraint("pattern") is { } p ? new Regex($"^(?:{p.GetString()})$", RegexOptions.CultureInvariant) : null,
                Values("trueValues", ["true", "True", "TRUE", "1"]),
                Values("falseValues", ["false", "False", "FALSE", "0"]));
        }

        /// <summary>What is wrong with a value (null: missing), or null when it is fine.</summary>
        public string? Problem(string? value)
        {
            if (value is null)
            {
                return Required ? "a required value is missing" : null;
            }

            double? number = null;
            switch (Type)
            {
                case "integer" when !Integer.IsMatch(value):
                    return $"'{value}' is not an integer";
                case "integer":
                    number = double.Parse(value, CultureInfo.InvariantCulture);
                    break;
                case "number" when !Number.IsMatch(value):
                    return $"'{value}' is not a number";
                case "number":
                    number = value.ToUpperInvariant() switch { "NAN" => double.NaN, "INF" => double.PositiveInfinity, "-INF" => double.NegativeInfinity, _ => double.Parse(value, CultureInfo.InvariantCulture) };
                    break;
                case "boolean" when !TrueValues.Contains(value) && !FalseValues.Contains(value):
                    return $"'{value}' is not a boolean ({string.Join(", ", TrueValues.Concat(FalseValues))})";
                case "date" when !Date.IsMatch(value) || !DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _):
                    return $"'{value}' is not a date (YYYY-MM-DD)";
                case "time" when !Time.IsMatch(value) || !TimeOnly.TryParse(value[..8], CultureInfo.InvariantCulture, out _):
                    return $"'{value}' is not a time (hh:mm:ss)";
                case "datetime" when !DateAndTime.IsMatch(value) || !DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _):
                    return $"'{value}' is not a date and time (YYYY-MM-DDThh:mm:ss with an optional offset)";
            }

            if (number is { } n && (n < Minimum || n > Maximum))
            {
                return $"{value} is outside [{Minimum?.ToString(CultureInfo.InvariantCulture) ?? "-inf"}, {Maximum?.ToString(CultureInfo.InvariantCulture) ?? "inf"}]";
            }

            if (MinLength is { } min && value.Length < min || MaxLength is { } max && value.Length > max)
            {
                return $"'{value}' has {value.Length} characters, outside [{MinLength}, {MaxLength}]";
            }

            if (Pattern is { } pattern && !pattern.IsMatch(value))
            {
                return $"'{value}' does not match the pattern {pattern}";
            }

            return Enum is { } allowed && !allowed.Contains(value, StringComparer.Ordinal) ? $"'{value}' is not one of: {string.Join(" | ", allowed)}" : null;
        }
    }
}
