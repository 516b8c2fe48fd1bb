using Npgsql;
using Transit.Clearing.Database;

namespace Transit.Clearing.Jobs;

/// <summary>
/// The (kind, key) locks jobs hold while they run: PostgreSQL session advisory locks on a connection of their own.
/// A killed process's connection, and so its lock, is gone at once; the next copy of the job then takes it.
/// </summary>
public sealed class JobLocks(NpgsqlDataSource dataSource)
{
    // Lock class = this base + the kind's place in JobKinds.All; the object is the day number (0 for "all").
    private const int ClassBase = 0x4A0B_0000;

    /// <summary>Waits for the lock of (<paramref name="kind"/>, <paramref name="key"/>) and holds it until disposed.</summary>
    public async Task<IAsyncDisposable> HoldAsync(string kind, string key, CancellationToken cancellation)
    {
        var (lockClass, lockObject) = KeyOf(kind, key);
        var connection = await dataSource.OpenConnectionAsync(cancellation);
        try
        {
            await Sql.ExecAsync(connection, "SELECT pg_advisory_lock($1, $2)", cancellation, lockClass, lockObject);
            return new Held(connection, lockClass, lockObject);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private static (int Class, int Object) KeyOf(string kind, string key)
    {
        var index = Array.IndexOf(JobKinds.All, kind);
        if (index < 0)
        {
            throw new ArgumentException($"unknown job kind '{kind}'", nameof(kind));
        }

        return (ClassBase + index, key == JobKinds.AllKey ? 0 : JobKinds.ParseDay(key).DayNumber);
    }

    private sealed class Held(NpgsqlConnection connection, int lockClass, int lockObject) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await Sql.ExecAsync(connection, "SELECT pg_advisory_unlock($1, $2)", CancellationToken.None, lockClass, lockObject);
            }
            finally
            {
                // Closing the session releases the lock in any case.
                await connection.DisposeAsync();
            }
        }
    }
}
