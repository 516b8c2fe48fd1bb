using System.Globalization;
using Transit.Gtfs;

namespace Transit.Analytics.Exports;

/// <summary>How a field's values are written.</summary>
public enum FieldType
{
    Text,
    Integer,
    Number,
    Boolean,

    /// <summary>ISO 8601 calendar date (TIDES, Frictionless <c>date</c>).</summary>
    IsoDate,

    /// <summary>ISO 8601 date and time with an offset (TIDES, Frictionless <c>datetime</c>).</summary>
    IsoDateTime,

    /// <summary>YYYYMMDD (GTFS).</summary>
    GtfsDate,

    /// <summary>HH:MM:SS, hours may pass 24 (GTFS).</summary>
    GtfsTime,
}

/// <summary>One column of a standard table as the standard defines it.</summary>
public sealed record FieldSpec(string Name, FieldType Type, bool Required = false, double? Minimum = null, double? Maximum = null, IReadOnlyList<string>? Allowed = null, bool Unique = false);

/// <summary>A standard table: its file name, its fields and the fields that together identify a row.</summary>
public sealed record TableSpec(string FileName, IReadOnlyList<FieldSpec> Fields, IReadOnlyList<string>? PrimaryKey = null)
{
    public FieldSpec? Field(string name) => Fields.FirstOrDefault(f => f.Name == name);
}

/// <summary>
/// The tables Transit exports, written from the field definitions of TIDES v1.0 (fare_transactions,
/// station_activities: the table schemas of tag v1.0, kept in tests/data/tides-v1.0, fields in the schemas' order) and
/// of GTFS-ride (board_alight, rider_trip, ridership, ride_feed_info).
/// </summary>
public static class ExportSpecs
{
    /// <summary>TIDES fare_media_id values; ride codes are read by an optical scanner.</summary>
    public static readonly IReadOnlyList<string> TidesFareMedia =
    [
        "Cash or coins", "Smart card or ticket", "Magnetic-stripe card or ticket", "Bank card", "Mobile NFC", "Optical scan",
        "Button pressed by driver or operator to indicate a boarding or alighting passenger.", "Other type",
    ];

    public static readonly IReadOnlyList<string> TidesFareActions =
    [
        "Unknown action type", "Purchase", "Enter", "Exit", "Transfer entrance", "Transfer exit", "Add", "New", "Capture", "Extend", "Combine",
        "Void", "Activate", "Adjust", "Other",
    ];

    /// <summary>The fare medium of a ride code, an index into <see cref="TidesFareMedia"/>.</summary>
    public const int OpticalScan = 5;

    public static readonly TableSpec TidesFareTransactions = new(
        "fare_transactions.csv",
        [
            new("transaction_id", FieldType.Text, Required: true, Unique: true),
            new("service_date", FieldType.IsoDate, Required: true),
            new("event_timestamp", FieldType.IsoDateTime, Required: true),
            new("location_ping_id", FieldType.Text),
            new("amount", FieldType.Number, Required: true),
            new("currency_type", FieldType.Text),
            new("fare_action", FieldType.Text, Required: true, Allowed: TidesFareActions),
            new("trip_id_performed", FieldType.Text),
            new("trip_id_scheduled", FieldType.Text),
            new("pattern_id", FieldType.Text),
            new("trip_stop_sequence", FieldType.Integer, Minimum: 1),
            new("scheduled_stop_sequence", FieldType.Integer, Minimum: 0),
            new("vehicle_id", FieldType.Text),
            new("device_id", FieldType.Text),
            new("fare_id", FieldType.Text),
            new("stop_id", FieldType.Text),
            new("num_riders", FieldType.Integer, Minimum: 0),
            new("fare_media_id", FieldType.Text, Allowed: TidesFareMedia),
            new("rider_category", FieldType.Text),
            new("fare_product", FieldType.Text),
            new("fare_period", FieldType.Text),
            new("fare_capped", FieldType.Boolean, Required: true),
            new("token_id", FieldType.Text),
            new("balance", FieldType.Number),
        ],
        ["transaction_id"]);

    public static readonly TableSpec TidesStationActivities = new(
        "station_activities.csv",
        [
            new("service_date", FieldType.IsoDate, Required: true),
            new("stop_id", FieldType.Text, Required: true),
            new("time_period_start", FieldType.IsoDateTime, Required: true),
            new("time_period_end", FieldType.IsoDateTime, Required: true),
            new("time_period_category", FieldType.Text),
            new("total_entries", FieldType.Integer, Minimum: 0),
            new("total_exits", FieldType.Integer, Minimum: 0),
            new("number_of_transactions", FieldType.Integer, Minimum: 0),
            new("bike_entries", FieldType.Integer, Minimum: 0),
            new("bike_exits", FieldType.Integer, Minimum: 0),
            new("ramp_entries", FieldType.Integer, Minimum: 0),
            new("ramp_exits", FieldType.Integer, Minimum: 0),
        ],
        ["service_date", "stop_id", "time_period_start", "time_period_end"]);

    public static readonly TableSpec GtfsRideBoardAlight = new(
        "board_alight.txt",
        [
            new("trip_id", FieldType.Text, Required: true),
            new("stop_id", FieldType.Text, Required: true),
            new("stop_sequence", FieldType.Integer, Required: true, Minimum: 0),
            new("record_use", FieldType.Integer, Required: true, Minimum: 0, Maximum: 1),
            new("schedule_relationship", FieldType.Integer, Minimum: 0, Maximum: 8),
            new("boardings", FieldType.Integer, Minimum: 0),
            new("alightings", FieldType.Integer, Minimum: 0),
            new("current_load", FieldType.Integer, Minimum: 0),
            new("load_count", FieldType.Integer, Minimum: 0),
            new("load_type", FieldType.Integer, Minimum: 0, Maximum: 1),
            new("rack_down", FieldType.Integer, Minimum: 0, Maximum: 1),
            new("bike_boardings", FieldType.Integer, Minimum: 0),
            new("bike_alightings", FieldType.Integer, Minimum: 0),
            new("ramp_used", FieldType.Integer, Minimum: 0, Maximum: 1),
            new("ramp_boardings", FieldType.Integer, Minimum: 0),
            new("ramp_alightings", FieldType.Integer, Minimum: 0),
            new("service_date", FieldType.GtfsDate),
            new("service_arrival_time", FieldType.GtfsTime),
            new("service_departure_time", FieldType.GtfsTime),
            new("source", FieldType.Integer, Minimum: 0, Maximum: 4),
        ],
        ["trip_id", "stop_id", "stop_sequence", "service_date"]);

    /// <summary>GTFS-ride rider_trip.txt: one row per rider leg, rider-level (admins only).</summary>
    public static readonly TableSpec GtfsRideRiderTrip = new(
        "rider_trip.txt",
        [
            new("rider_id", FieldType.Text, Required: true),
            new("agency_id", FieldType.Text),
            new("trip_id", FieldType.Text),
            new("boarding_stop_id", FieldType.Text),
            new("boarding_stop_sequence", FieldType.Integer, Minimum: 0),
            new("alighting_stop_id", FieldType.Text),
            new("alighting_stop_sequence", FieldType.Integer, Minimum: 0),
            new("service_date", FieldType.GtfsDate),
            new("boarding_time", FieldType.GtfsTime),
            new("alighting_time", FieldType.GtfsTime),
            new("rider_type", FieldType.Integer, Minimum: 0, Maximum: 13),
            new("rider_type_description", FieldType.Text),
            new("fare_paid", FieldType.Number),
            new("transaction_type", FieldType.Integer, Minimum: 0, Maximum: 8),
            new("fare_media", FieldType.Integer, Minimum: 0, Maximum: 9),
            new("accompanying_device", FieldType.Integer, Minimum: 0, Maximum: 6),
            new("transfer_status", FieldType.Integer, Minimum: 0, Maximum: 1),
        ]);

    public static readonly TableSpec GtfsRideRidership = new(
        "ridership.txt",
        [
            new("total_boardings", FieldType.Integer, Required: true, Minimum: 0),
            new("total_alightings", FieldType.Integer, Required: true, Minimum: 0),
            new("avg_boardings", FieldType.Number, Minimum: 0),
            new("avg_alightings", FieldType.Number, Minimum: 0),
            new("stdev_boardings", FieldType.Number, Minimum: 0),
            new("stdev_alightings", FieldType.Number, Minimum: 0),
            new("ridership_start_date", FieldType.GtfsDate, Required: true),
            new("ridership_end_date", FieldType.GtfsDate, Required: true),
            new("ridership_start_time", FieldType.GtfsTime),
            new("ridership_end_time", FieldType.GtfsTime),
            new("service_id", FieldType.Text),
            .. new[] { "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday" }.Select(d => new FieldSpec(d, FieldType.Integer, Minimum: 0, Maximum: 1)),
            new("agency_id", FieldType.Text),
            new("route_id", FieldType.Text),
            new("direction_id", FieldType.Integer, Minimum: 0, Maximum: 1),
            new("trip_id", FieldType.Text),
            new("stop_id", FieldType.Text),
        ]);

    public static readonly TableSpec GtfsRideFeedInfo = new(
        "ride_feed_info.txt",
        [
            new("ride_files", FieldType.Integer, Required: true, Minimum: 0, Maximum: 6),
            new("ride_start_date", FieldType.GtfsDate),
            new("ride_end_date", FieldType.GtfsDate),
            new("gtfs_feed_date", FieldType.GtfsDate),
            new("default_currency_type", FieldType.Text),
            new("ride_feed_version", FieldType.Text),
        ]);

    /// <summary>The tables with a row per rider (pseudonymous): for admins only, never served over the analytics API.</summary>
    public static IReadOnlyList<TableSpec> RiderLevel { get; } = [TidesFareTransactions, GtfsRideRiderTrip];

    public static IReadOnlyList<TableSpec> All { get; } = [TidesFareTransactions, TidesStationActivities, GtfsRideBoardAlight, GtfsRideRiderTrip, GtfsRideRidership, GtfsRideFeedInfo];
}

/// <summary>
/// Checks a written table against its definition: column names, required columns and values, value types and
/// ranges, allowed values, unique and primary keys, and the cross-field rules the standards state.
/// </summary>
public static class ExportValidator
{
    public static IReadOnlyList<string> Validate(TableSpec spec, string csv)
    {
        var errors = new List<string>();
        using var records = CsvReader.Read(new StringReader(csv)).Select(r => r.Fields).GetEnumerator();
        if (!records.MoveNext())
        {
            return [$"{spec.FileName}: no header"];
        }

        var header = records.Current;

        foreach (var name in header.Where(n => spec.Field(n) is null))
        {
            errors.Add($"{spec.FileName}: unknown column '{name}'");
        }

        foreach (var name in header.GroupBy(n => n).Where(g => g.Count() > 1).Select(g => g.Key))
        {
            errors.Add($"{spec.FileName}: column '{name}' appears twice");
        }

        foreach (var field in spec.Fields.Where(f => f.Required && !header.Contains(f.Name)))
        {
            errors.Add($"{spec.FileName}: required column '{field.Name}' is missing");
        }

        var seen = spec.Fields.Where(f => f.Unique).ToDictionary(f => f.Name, _ => new HashSet<string>(StringComparer.Ordinal));
        var keys = new HashSet<string>(StringComparer.Ordinal);
        var row = 1;
        while (records.MoveNext())
        {
            row++;
            if (records.Current.Length != header.Length)
            {
                errors.Add($"{spec.FileName} row {row}: {records.Current.Length} fields where the header has {header.Length}");
                continue;
            }

            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var i = 0; i < header.Length; i++)
            {
                values[header[i]] = records.Current[i];
            }

            foreach (var name in header)
            {
                if (spec.Field(name) is { } field && CheckValue(field, values[name]) is { } problem)
                {
                    errors.Add($"{spec.FileName} row {row}: {name}: {problem}");
                }

                if (seen.TryGetValue(name, out var set) && values[name].Length > 0 && !set.Add(values[name]))
                {
                    errors.Add($"{spec.FileName} row {row}: {name} '{values[name]}' is not unique");
                }
            }

            if (spec.PrimaryKey is { } primaryKey && !keys.Add(string.Join('\u0001', primaryKey.Select(k => values.GetValueOrDefault(k, "")))))
            {
                errors.Add($"{spec.FileName} row {row}: duplicate key ({string.Join(", ", primaryKey)})");
            }

            errors.AddRange(CrossFieldRules(spec, values).Select(e => $"{spec.FileName} row {row}: {e}"));
        }

        return errors;
    }

    private static string? CheckValue(FieldSpec field, string value)
    {
        if (value.Length == 0)
        {
            return field.Required ? "required value is empty" : null;
        }

        double? number = null;
        switch (field.Type)
        {
            case FieldType.Integer when !long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _):
                return $"'{value}' is not an integer";
            case FieldType.Integer:
                number = long.Parse(value, CultureInfo.InvariantCulture);
                break;
            case FieldType.Number when !double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _):
                return $"'{value}' is not a number";
            case FieldType.Number:
                number = double.Parse(value, CultureInfo.InvariantCulture);
                break;
            case FieldType.Boolean when value is not ("true" or "false"):
                return $"'{value}' is not true or false";
            case FieldType.IsoDate when !DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _):
                return $"'{value}' is not a date (YYYY-MM-DD)";
            case FieldType.IsoDateTime when !DateTimeOffset.TryParseExact(value, ["yyyy-MM-ddTHH:mm:ssK", "yyyy-MM-ddTHH:mm:ss.FFFFFFFK"], CultureInfo.InvariantCulture, DateTimeStyles.None, out _):
                return $"'{value}' is not a date and time with offset (ISO 8601)";
            case FieldType.GtfsDate when !DateOnly.TryParseExact(value, "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _):
                return $"'{value}' is not a date (YYYYMMDD)";
            case FieldType.GtfsTime when value.Length < 7 || !GtfsTime.TryParse(value, out _):
                return $"'{value}' is not a time (HH:MM:SS)";
        }

        if (number is { } n && (n < field.Minimum || n > field.Maximum))
        {
            return $"{value} is outside [{field.Minimum?.ToString(CultureInfo.InvariantCulture) ?? "-∞"}, {field.Maximum?.ToString(CultureInfo.InvariantCulture) ?? "∞"}]";
        }

        return field.Allowed is { } allowed && !allowed.Contains(value) ? $"'{value}' is not one of the allowed values" : null;
    }

    private static IEnumerable<string> CrossFieldRules(TableSpec spec, Dictionary<string, string> values)
    {
        string V(string name) => values.GetValueOrDefault(name, "");
        if (spec == ExportSpecs.GtfsRideRidership)
        {
            if (string.CompareOrdinal(V("ridership_end_date"), V("ridership_start_date")) < 0)
            {
                yield return "ridership_end_date is before ridership_start_date";
            }

            if (V("stop_id").Length == 0 && V("total_boardings") != V("total_alightings"))
            {
                yield return "a record without stop_id must have equal total_boardings and total_alightings";
            }
        }
        else if (spec == ExportSpecs.GtfsRideFeedInfo && V("ride_end_date").Length > 0 && string.CompareOrdinal(V("ride_end_date"), V("ride_start_date")) < 0)
        {
            yield return "ride_end_date is before ride_start_date";
        }
        else if (spec == ExportSpecs.TidesStationActivities
            && DateTimeOffset.TryParse(V("time_period_start"), CultureInfo.InvariantCulture, out var start)
            && DateTimeOffset.TryParse(V("time_period_end"), CultureInfo.InvariantCulture, out var end)
            && end <= start)
        {
            yield return "time_period_end is not after time_period_start";
        }
        else if (spec == ExportSpecs.GtfsRideBoardAlight && V("record_use") == "0" && V("boardings").Length == 0 && V("alightings").Length == 0)
        {
            yield return "record_use 0 needs boardings or alightings";
        }
    }
}
