using System.Text;
using Npgsql;
using NpgsqlTypes;
using Transit.Analytics.Rollups;

namespace Transit.Analytics.Store;

/// <summary>
/// Answers from <c>analytics_cells</c>, grouped in SQL. The union of small cells' pseudonyms is computed only for
/// groups made entirely of small cells (the only ones where it can matter), so large answers stay cheap.
/// </summary>
public sealed class PostgresRollupReader(NpgsqlDataSource dataSource) : IRollupReader
{
    private static readonly Dictionary<Dimension, string> Columns = new()
    {
        [Dimension.Day] = "service_day::text",
        [Dimension.Hour] = "hour::text",
        [Dimension.Operator] = "operator_id",
        [Dimension.Mode] = "mode",
        [Dimension.Route] = "route_id",
        [Dimension.Stop] = "stop_id",
        [Dimension.ToOperator] = "to_operator_id",
        [Dimension.ToMode] = "to_mode",
        [Dimension.ToRoute] = "to_route_id",
        [Dimension.ToStop] = "to_stop_id",
        [Dimension.Category] = "category",
        [Dimension.Reason] = "reason",
        [Dimension.Value] = "value::text",
        [Dimension.Trip] = "trip_id",
    };

    public async Task<IReadOnlyList<GroupRow>> GroupAsync(RollupTable table, AnalyticsFilter filter, IReadOnlyList<Dimension> groupBy, CancellationToken cancellation)
    {
        var (sql, parameters) = Build(table, filter, groupBy);
        await using var command = dataSource.CreateCommand(sql);
        command.Parameters.AddRange(parameters.ToArray());
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        var rows = new List<GroupRow>();
        var n = groupBy.Count;
        while (await reader.ReadAsync(cancellation))
        {
            var key = new string[n];
            for (var i = 0; i < n; i++)
            {
                key[i] = reader.GetString(i);
            }

            rows.Add(new GroupRow(
                key,
                new Measures(reader.GetInt64(n), reader.GetInt64(n + 1), reader.GetInt64(n + 2), reader.GetInt64(n + 3)),
                (int)reader.GetInt64(n + 4), reader.GetInt64(n + 5), reader.GetInt64(n + 6), reader.GetInt64(n + 7), reader.GetBoolean(n + 8)));
        }

        return rows;
    }

    internal static (string Sql, List<NpgsqlParameter> Parameters) Build(RollupTable table, AnalyticsFilter filter, IReadOnlyList<Dimension> groupBy)
    {
        var parameters = new List<NpgsqlParameter>
        {
            new() { Value = (short)table, NpgsqlDbType = NpgsqlDbType.Smallint },
            new() { Value = filter.From, NpgsqlDbType = NpgsqlDbType.Date },
            new() { Value = filter.To, NpgsqlDbType = NpgsqlDbType.Date },
        };
        var where = new StringBuilder("tbl = $1 AND service_day BETWEEN $2 AND $3");
        void Text(string? value, string condition)
        {
            if (value is not null)
            {
                parameters.Add(new NpgsqlParameter { Value = value, NpgsqlDbType = NpgsqlDbType.Text });
                where.Append(" AND ").Append(condition.Replace("$p", "$" + parameters.Count, StringComparison.Ordinal));
            }
        }

        Text(filter.Operator, "(operator_id = $p OR to_operator_id = $p)");
        Text(filter.Mode, "(mode = $p OR mode LIKE $p || '-%')");
        Text(filter.Route, "(route_id = $p OR to_route_id = $p)");
        Text(filter.Stop, "(stop_id = $p OR to_stop_id = $p)");
        Text(filter.Category, "category = $p");
        Text(filter.Reason, "reason = $p");
        if (filter.DayType is { } dayType)
        {
            where.Append(dayType switch
            {
                "saturday" => " AND extract(isodow FROM service_day) = 6",
                "sunday" => " AND extract(isodow FROM service_day) = 7",
                _ => " AND extract(isodow FROM service_day) < 6",
            });
        }

        if (filter.HourFrom is { } hourFrom)
        {
            parameters.Add(new NpgsqlParameter { Value = (short)hourFrom, NpgsqlDbType = NpgsqlDbType.Smallint });
            where.Append($" AND (hour < 0 OR hour >= ${parameters.Count})");
        }

        if (filter.HourTo is { } hourTo)
        {
            parameters.Add(new NpgsqlParameter { Value = (short)hourTo, NpgsqlDbType = NpgsqlDbType.Smallint });
            where.Append($" AND (hour < 0 OR hour <= ${parameters.Count})");
        }

        var dims = groupBy.Select((d, i) => $"{Columns[d]} AS k{i}").ToList();
        var keys = groupBy.Select((_, i) => $"k{i}").ToList();
        var select = dims.Count == 0 ? "" : string.Join(", ", dims) + ", ";
        var group = keys.Count == 0 ? "" : "GROUP BY " + string.Join(", ", keys);
        var join = keys.Count == 0 ? "ON true" : "USING (" + string.Join(", ", keys) + ")";
        var keyList = keys.Count == 0 ? "" : string.Join(", ", keys.Select(k => "g." + k)) + ", ";
        var sql = $"""
            WITH c AS (SELECT {select}m0, m1, m2, m3, riders, small_riders FROM analytics_cells WHERE {where}),
            g AS (
              SELECT {string.Join("", keys.Select(k => k + ", "))}sum(m0)::bigint AS m0, sum(m1)::bigint AS m1, sum(m2)::bigint AS m2, sum(m3)::bigint AS m3,
                count(*) AS parts, max(riders) AS rider_max, sum(riders)::bigint AS rider_sum, bool_and(small_riders IS NOT NULL) AS listed
              FROM c {group} HAVING count(*) > 0),
            u AS (
              SELECT {string.Join("", keys.Select(k => "c." + k + ", "))}count(DISTINCT r) AS small_union
              FROM c JOIN g {join} CROSS JOIN LATERAL unnest(c.small_riders) r
              WHERE g.listed AND g.parts > 1 {group})
            SELECT {keyList}g.m0, g.m1, g.m2, g.m3, g.parts, g.rider_max, g.rider_sum, COALESCE(u.small_union, 0), g.listed
            FROM g LEFT JOIN u {join}
            """;
        return (sql, parameters);
    }
}
