using System.Collections.Concurrent;
using System.Globalization;
using Npgsql;

namespace Transit.Clearing.Database;

/// <summary>
/// Creates the per-service-day partitions of <c>taps</c> and <c>code_uses</c> on demand. Creating a partition locks
/// its parent exclusively, so it happens in its own short transaction before the ingest transaction, never inside it.
/// </summary>
public sealed class TapPartitions(NpgsqlDataSource dataSource)
{
    private readonly ConcurrentDictionary<DateOnly, bool> _known = new();

    /// <summary>Makes sure every day in <paramref name="days"/> has its partitions.</summary>
    public async Task EnsureAsync(IEnumerable<DateOnly> days, CancellationToken cancellation)
    {
        foreach (var day in days)
        {
            if (_known.ContainsKey(day))
            {
                continue;
            }

            await CreateAsync(day, cancellation);
            _known[day] = true;
        }
    }

    private async Task CreateAsync(DateOnly day, CancellationToken cancellation)
    {
        var suffix = day.ToString("yyyyMMdd", CultureInfo.InvariantCulture);
        var from = day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var to = day.AddDays(1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        await using var connection = await dataSource.OpenConnectionAsync(cancellation);
        await using var transaction = await connection.BeginTransactionAsync(cancellation);
        // Serialises creators of the same day across processes; IF NOT EXISTS then makes the loser a no-op.
        await using (var lockDay = new NpgsqlCommand("SELECT pg_advisory_xact_lock(7215, $1)", connection) { Parameters = { new() { Value = day.DayNumber } } })
        {
            await lockDay.ExecuteNonQueryAsync(cancellation);
        }

        foreach (var table in (string[])["taps", "code_uses"])
        {
            await using var create = new NpgsqlCommand(
                $"CREATE TABLE IF NOT EXISTS {table}_{suffix} PARTITION OF {table} FOR VALUES FROM ('{from}') TO ('{to}')", connection);
            await create.ExecuteNonQueryAsync(cancellation);
        }

        await transaction.CommitAsync(cancellation);
    }
}
