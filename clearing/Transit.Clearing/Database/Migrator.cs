using System.Reflection;
using Npgsql;

namespace Transit.Clearing.Database;

/// <summary>
/// Applies the embedded <c>Migrations/NNNN_name.sql</c> files in order, each once, recorded in
/// <c>schema_migrations</c>. Everything runs in one transaction under an advisory lock, so several clearing
/// processes starting together apply each migration exactly once and none starts on a half-migrated schema.
/// </summary>
public static class Migrator
{
    private const long LockKey = 0x5452_414E_5349_5401;

    /// <summary>Applies the pending migrations; returns their names.</summary>
    public static async Task<IReadOnlyList<string>> ApplyAsync(NpgsqlDataSource dataSource, CancellationToken cancellation = default)
    {
        var assembly = typeof(Migrator).Assembly;
        var migrations = Embedded();
        await using var connection = await dataSource.OpenConnectionAsync(cancellation);
        await using var transaction = await connection.BeginTransactionAsync(cancellation);
        await Execute(connection, $"SELECT pg_advisory_xact_lock({LockKey})", cancellation);
        await Execute(connection, """
            CREATE TABLE IF NOT EXISTS schema_migrations (
              name text PRIMARY KEY,
              applied_at timestamptz NOT NULL DEFAULT now())
            """, cancellation);
        var applied = new HashSet<string>(StringComparer.Ordinal);
        await using (var read = new NpgsqlCommand("SELECT name FROM schema_migrations", connection))
        await using (var reader = await read.ExecuteReaderAsync(cancellation))
        {
            while (await reader.ReadAsync(cancellation))
            {
                applied.Add(reader.GetString(0));
            }
        }

        var done = new List<string>();
        foreach (var (resource, name) in migrations.Where(m => !applied.Contains(m.Name)))
        {
            await Execute(connection, ReadResource(assembly, resource), cancellation);
            await using var record = new NpgsqlCommand("INSERT INTO schema_migrations (name) VALUES ($1)", connection) { Parameters = { new() { Value = name } } };
            await record.ExecuteNonQueryAsync(cancellation);
            done.Add(name);
        }

        await transaction.CommitAsync(cancellation);
        if (done.Count > 0)
        {
            // New tables or types: pooled connections may hold stale type catalogs.
            await connection.ReloadTypesAsync(cancellation);
        }

        return done;
    }

    /// <summary>
    /// The embedded migrations the database has not recorded, in order: empty when the schema is current. Readiness
    /// asks this, since a node whose database another (older or newer) deployment migrated must not take traffic.
    /// </summary>
    public static async Task<IReadOnlyList<string>> PendingAsync(NpgsqlDataSource dataSource, CancellationToken cancellation = default)
    {
        var applied = await Sql.ListAsync(dataSource, "SELECT name FROM schema_migrations", r => r.GetString(0), cancellation);
        return [.. Embedded().Select(m => m.Name).Except(applied, StringComparer.Ordinal)];
    }

    private static List<(string Resource, string Name)> Embedded() =>
        typeof(Migrator).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith("Transit.Clearing.Migrations.", StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
            .Select(n => (Resource: n, Name: n["Transit.Clearing.Migrations.".Length..^4]))
            .OrderBy(m => m.Name, StringComparer.Ordinal)
            .ToList();

    private static async Task Execute(NpgsqlConnection connection, string sql, CancellationToken cancellation)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellation);
    }

    private static string ReadResource(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
