using Npgsql;
using NpgsqlTypes;
using Transit.Analytics.Rollups;

namespace Transit.Analytics.Store;

/// <summary>
/// The rollup cells in PostgreSQL (<c>analytics_cells</c>): deltas from recomputed rider-days are added in place,
/// and answers are grouped in SQL, so that no query recomputes anything from taps.
/// </summary>
public static class PostgresRollupStore
{
    internal const string KeyColumns = "tbl, service_day, hour, operator_id, mode, route_id, stop_id, to_operator_id, to_mode, to_route_id, to_stop_id, category, reason, value, trip_id";

    private const string KeyMatch = """
        c.tbl = d.tbl AND c.service_day = d.service_day AND c.hour = d.hour AND c.operator_id = d.operator_id AND c.mode = d.mode
        AND c.route_id = d.route_id AND c.stop_id = d.stop_id AND c.to_operator_id = d.to_operator_id AND c.to_mode = d.to_mode
        AND c.to_route_id = d.to_route_id AND c.to_stop_id = d.to_stop_id AND c.category = d.category AND c.reason = d.reason
        AND c.value = d.value AND c.trip_id = d.trip_id
        """;

    /// <summary>Adds the deltas to the cells inside the caller's transaction; returns how many cells changed.</summary>
    public static async Task<int> ApplyAsync(NpgsqlConnection connection, IReadOnlyDictionary<CellKey, CellDelta> deltas, CancellationToken cancellation)
    {
        if (deltas.Count == 0)
        {
            return 0;
        }

        await using (var create = new NpgsqlCommand($"""
            CREATE TEMP TABLE IF NOT EXISTS analytics_delta (LIKE analytics_cells, added bigint[], removed bigint[]) ON COMMIT DELETE ROWS
            """, connection))
        {
            await create.ExecuteNonQueryAsync(cancellation);
        }

        await using (var copy = await connection.BeginBinaryImportAsync(
            $"COPY analytics_delta ({KeyColumns}, m0, m1, m2, m3, riders, added, removed) FROM STDIN (FORMAT BINARY)", cancellation))
        {
            foreach (var (key, delta) in deltas)
            {
                await copy.StartRowAsync(cancellation);
                await copy.WriteAsync((short)key.Table, NpgsqlDbType.Smallint, cancellation);
                await copy.WriteAsync(key.Day, NpgsqlDbType.Date, cancellation);
                await copy.WriteAsync(key.Hour, NpgsqlDbType.Smallint, cancellation);
                foreach (var text in (string[])[key.Operator, key.Mode, key.Route, key.Stop, key.ToOperator, key.ToMode, key.ToRoute, key.ToStop, key.Category, key.Reason])
                {
                    await copy.WriteAsync(text, NpgsqlDbType.Text, cancellation);
                }

                await copy.WriteAsync(key.Value, NpgsqlDbType.Integer, cancellation);
                await copy.WriteAsync(key.Trip, NpgsqlDbType.Text, cancellation);
                await copy.WriteAsync(delta.Measures.M0, NpgsqlDbType.Bigint, cancellation);
                await copy.WriteAsync(delta.Measures.M1, NpgsqlDbType.Bigint, cancellation);
                await copy.WriteAsync(delta.Measures.M2, NpgsqlDbType.Bigint, cancellation);
                await copy.WriteAsync(delta.Measures.M3, NpgsqlDbType.Bigint, cancellation);
                await copy.WriteAsync(delta.Riders, NpgsqlDbType.Bigint, cancellation);

                // A batch that adds as many riders as the limit makes the cell large whatever it held: no list.
                if (!delta.ManyAdded)
                {
                    await copy.WriteAsync(delta.Added.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Bigint, cancellation);
                }
                else
                {
                    await copy.WriteNullAsync(cancellation);
                }

                await copy.WriteAsync(delta.Removed.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Bigint, cancellation);
            }

            await copy.CompleteAsync(cancellation);
        }

        var limit = RollupSet.SmallRiderLimit;
        await using var apply = new NpgsqlCommand($"""
            UPDATE analytics_cells c SET m0 = c.m0 + d.m0, m1 = c.m1 + d.m1, m2 = c.m2 + d.m2, m3 = c.m3 + d.m3, riders = c.riders + d.riders,
              small_riders = CASE WHEN c.small_riders IS NULL OR d.added IS NULL OR c.riders + d.riders >= {limit} THEN NULL
                ELSE ARRAY(SELECT x FROM unnest(c.small_riders) x WHERE x <> ALL (d.removed) UNION SELECT unnest(d.added) ORDER BY 1) END
            FROM analytics_delta d WHERE {KeyMatch};
            INSERT INTO analytics_cells ({KeyColumns}, m0, m1, m2, m3, riders, small_riders)
            SELECT {KeyColumns}, m0, m1, m2, m3, riders, CASE WHEN riders < {limit} THEN ARRAY(SELECT unnest(d.added) ORDER BY 1) END
            FROM analytics_delta d WHERE NOT EXISTS (SELECT 1 FROM analytics_cells c WHERE {KeyMatch});
            DELETE FROM analytics_cells c USING analytics_delta d
            WHERE {KeyMatch} AND c.riders = 0 AND c.m0 = 0 AND c.m1 = 0 AND c.m2 = 0 AND c.m3 = 0;
            TRUNCATE analytics_delta;
            """, connection);
        await apply.ExecuteNonQueryAsync(cancellation);
        return deltas.Count;
    }
}
