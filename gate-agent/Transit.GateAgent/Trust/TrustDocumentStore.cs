using Microsoft.Data.Sqlite;

namespace Transit.GateAgent.Trust;

/// <summary>
/// The newest trust documents the gate installed (key set, deny list and its deltas, device configuration, the
/// issuers' bundle), kept in the journal's database file so that a restart, or a crash, comes back with the newest
/// trust and not the configured files' older one. It shares the journal's second connection (and its lock), which
/// never commits taps: storing a document never holds up a rider.
/// </summary>
public sealed class TrustDocumentStore
{
    /// <summary>The tables, created with the journal's (the file's format is unchanged from when the journal held them).</summary>
    internal const string Schema = """
        CREATE TABLE IF NOT EXISTS documents (kind TEXT PRIMARY KEY, version INTEGER NOT NULL, json TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS denylist_deltas (version INTEGER PRIMARY KEY, json TEXT NOT NULL);
        """;

    private readonly SqliteConnection _connection;
    private readonly Lock _lock;

    /// <summary>A store over <paramref name="connection"/>, used only under <paramref name="connectionLock"/>.</summary>
    internal TrustDocumentStore(SqliteConnection connection, Lock connectionLock)
    {
        _connection = connection;
        _lock = connectionLock;
    }

    /// <summary>Stores the newest signed document of a kind (key set, deny-list snapshot, device configuration).</summary>
    public void SaveDocument(string kind, long version, string json)
    {
        lock (_lock)
        {
            using var transaction = _connection.BeginTransaction();
            using var command = _connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "INSERT INTO documents (kind, version, json) VALUES ($k, $v, $j) ON CONFLICT(kind) DO UPDATE SET version = excluded.version, json = excluded.json";
            command.Parameters.AddWithValue("$k", kind);
            command.Parameters.AddWithValue("$v", version);
            command.Parameters.AddWithValue("$j", json);
            command.ExecuteNonQuery();
            if (kind == DocumentKinds.DenyList)
            {
                using var clear = _connection.CreateCommand();
                clear.Transaction = transaction;
                clear.CommandText = "DELETE FROM denylist_deltas WHERE version <= $v";
                clear.Parameters.AddWithValue("$v", version);
                clear.ExecuteNonQuery();
            }

            transaction.Commit();
        }
    }

    /// <summary>The stored document of a kind, or null.</summary>
    public (long Version, string Json)? LoadDocument(string kind)
    {
        lock (_lock)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT version, json FROM documents WHERE kind = $k";
            command.Parameters.AddWithValue("$k", kind);
            using var reader = command.ExecuteReader();
            return reader.Read() ? (reader.GetInt64(0), reader.GetString(1)) : null;
        }
    }

    /// <summary>Stores a signed deny-list delta that was applied.</summary>
    public void SaveDenyListDelta(long version, string json)
    {
        lock (_lock)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "INSERT OR REPLACE INTO denylist_deltas (version, json) VALUES ($v, $j)";
            command.Parameters.AddWithValue("$v", version);
            command.Parameters.AddWithValue("$j", json);
            command.ExecuteNonQuery();
        }
    }

    /// <summary>Stored deltas producing versions after <paramref name="version"/>, in order.</summary>
    public List<string> LoadDenyListDeltasAfter(long version)
    {
        lock (_lock)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT json FROM denylist_deltas WHERE version > $v ORDER BY version";
            command.Parameters.AddWithValue("$v", version);
            using var reader = command.ExecuteReader();
            var list = new List<string>();
            while (reader.Read())
            {
                list.Add(reader.GetString(0));
            }

            return list;
        }
    }
}
