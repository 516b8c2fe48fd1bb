using Npgsql;
using NpgsqlTypes;
using Transit.Analytics.Privacy;
using Transit.Analytics.Rollups;

namespace Transit.Analytics.Store;

/// <summary>
/// Revenue rollups from clearing's priced legs: each leg's operator share by operator, route and rider category.
/// Pricing re-runs the whole account-day when late taps arrive, so the day's revenue cells are rebuilt whole after
/// each clearing run, in one transaction.
/// </summary>
public sealed class RevenueRefresh(NpgsqlDataSource dataSource, Pseudonymizer pseudonyms)
{
    public async Task<int> RefreshDayAsync(DateOnly day, CancellationToken cancellation)
    {
        var set = new RollupSet();
        var byRider = new Dictionary<long, Dictionary<CellKey, Measures>>();
        await using var connection = await dataSource.OpenConnectionAsync(cancellation);
        await using (var command = new NpgsqlCommand("""
            SELECT l.account, l.operator_id, l.route_id, j.category, l.share
            FROM journey_legs l JOIN journeys j USING (account, service_day, journey_no)
            WHERE l.service_day = $1 AND l.operator_id IS NOT NULL
            """, connection))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = day, NpgsqlDbType = NpgsqlDbType.Date });
            await using var reader = await command.ExecuteReaderAsync(cancellation);
            while (await reader.ReadAsync(cancellation))
            {
                var rider = pseudonyms.Of(reader.GetString(0));
                if (!byRider.TryGetValue(rider, out var cells))
                {
                    byRider[rider] = cells = [];
                }

                var key = new CellKey(RollupTable.Revenue, day, Operator: reader.GetString(1), Route: reader.TextOrNull(2) ?? "", Category: reader.TextOrNull(3) ?? "");
                cells[key] = cells.GetValueOrDefault(key) + new Measures(reader.GetInt64(4), 1);
            }
        }

        set.Apply(RollupSet.Diff(byRider.Select(r => (r.Key, (IReadOnlyDictionary<CellKey, Measures>?)null, (IReadOnlyDictionary<CellKey, Measures>?)r.Value))));
        await using var transaction = await connection.BeginTransactionAsync(cancellation);
        await using (var delete = new NpgsqlCommand("DELETE FROM analytics_cells WHERE tbl = $1 AND service_day = $2", connection))
        {
            delete.Parameters.Add(new NpgsqlParameter { Value = (short)RollupTable.Revenue, NpgsqlDbType = NpgsqlDbType.Smallint });
            delete.Parameters.Add(new NpgsqlParameter { Value = day, NpgsqlDbType = NpgsqlDbType.Date });
            await delete.ExecuteNonQueryAsync(cancellation);
        }

        var deltas = set.Cells.ToDictionary(c => c.Key, c => CellDelta.Creating(c.Value));
        var count = await PostgresRollupStore.ApplyAsync(connection, deltas, cancellation);
        await transaction.CommitAsync(cancellation);
        return count;
    }
}
