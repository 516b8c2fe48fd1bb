using Microsoft.Data.Sqlite;
using Transit.DeviceApi;
using Transit.GateAgent.Configuration;
using Transit.GateAgent.Taps;
using Transit.GateAgent.Trust;
using Transit.RideCodes;

namespace Transit.GateAgent.Journal;

/// <summary>
/// The durable tap journal: SQLite in WAL mode with <c>synchronous=FULL</c>, so a commit has reached the disk when
/// <see cref="Append(IReadOnlyList{Verdict}, Span{long}, Span{long})"/> returns. Sequence numbers are per device, contiguous and never reused (the newest row is
/// never pruned, so the next number survives pruning). It also keeps the trust documents that sync installed, so a
/// restart decides with the same trust as before it.
/// </summary>
public sealed class TapJournal : IDisposable
{
    private const string Columns =
        "seq, at_ms, code, accepted, reason, mode, operator_id, station_id, stop_id, route_id, account, credential_id, latency_us, key_set_version, deny_list_version";

    private readonly SqliteConnection _writer;
    private readonly SqliteCommand _insert;
    private readonly SqliteConnection _aux;
    private readonly Lock _auxLock = new();
    private long _lastSeq;
    private long _ackedThrough;
    private long _firstSeq;
    private int _finishCheckpoint;

    private TapJournal(string path, SqliteConnection writer, SqliteConnection aux)
    {
        Path = path;
        _writer = writer;
        _aux = aux;
        Documents = new TrustDocumentStore(aux, _auxLock);
        _insert = writer.CreateCommand();
        _insert.CommandText = $"INSERT INTO taps ({Columns}) VALUES ($seq, $at, $code, $accepted, $reason, $mode, $op, $station, $stop, $route, $account, $cred, $lat, $ksv, $dlv)";
        foreach (var name in new[] { "$seq", "$at", "$code", "$accepted", "$reason", "$mode", "$op", "$station", "$stop", "$route", "$account", "$cred", "$lat", "$ksv", "$dlv" })
        {
            _insert.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        _insert.Prepare();
    }

    /// <summary>The database file.</summary>
    public string Path { get; }

    /// <summary>The trust documents kept in the same file.</summary>
    public TrustDocumentStore Documents { get; }

    /// <summary>The highest sequence number committed (0 when none).</summary>
    public long LastSeq => Interlocked.Read(ref _lastSeq);

    /// <summary>Every tap up to this sequence number is acknowledged by clearing.</summary>
    public long AckedThrough => Interlocked.Read(ref _ackedThrough);

    /// <summary>Taps committed but not yet acknowledged.</summary>
    public long Backlog => Math.Max(0, LastSeq - AckedThrough);

    /// <summary>Lowest sequence number still held (later than 1 once pruned).</summary>
    public long FirstSeq => Interlocked.Read(ref _firstSeq);

    /// <summary>Opens (creating when needed) the journal of <paramref name="deviceId"/>.</summary>
    /// <exception cref="InvalidOperationException">The journal belongs to another device.</exception>
    public static TapJournal Open(string path, string deviceId)
    {
        var full = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        var connectionString = new SqliteConnectionStringBuilder { DataSource = full, Pooling = false, Mode = SqliteOpenMode.ReadWriteCreate }.ToString();
        var writer = new SqliteConnection(connectionString);
        var aux = new SqliteConnection(connectionString);
        try
        {
            writer.Open();
            Execute(writer, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=10000;");

            // Checkpoints copy the WAL into the database with their own fsyncs; doing them on the tap path would put
            // that cost into some riders' decisions, so the maintenance service checkpoints from the aux connection.
            Execute(writer, "PRAGMA wal_autocheckpoint=0;");
            Execute(writer, """
                CREATE TABLE IF NOT EXISTS taps (
                  seq INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, code TEXT NOT NULL, accepted INTEGER NOT NULL,
                  reason TEXT NOT NULL, mode TEXT NOT NULL, operator_id TEXT NOT NULL, station_id TEXT, stop_id TEXT,
                  route_id TEXT, account TEXT, credential_id TEXT, latency_us INTEGER NOT NULL,
                  key_set_version INTEGER NOT NULL, deny_list_version INTEGER NOT NULL);
                CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value);
                """);
            Execute(writer, TrustDocumentStore.Schema);
            aux.Open();
            Execute(aux, "PRAGMA synchronous=FULL; PRAGMA busy_timeout=10000;");

            var owner = Scalar(writer, "SELECT value FROM meta WHERE key = 'device_id'") as string;
            if (owner is null)
            {
                using var command = writer.CreateCommand();
                command.CommandText = "INSERT INTO meta (key, value) VALUES ('device_id', $id)";
                command.Parameters.AddWithValue("$id", deviceId);
                command.ExecuteNonQuery();
            }
            else if (owner != deviceId)
            {
                throw new InvalidOperationException(
                    $"journal {full} belongs to device '{owner}', not '{deviceId}'; sequence numbers are per device, so use another Journal:Path");
            }

            var journal = new TapJournal(full, writer, aux);
            journal._lastSeq = Scalar(writer, "SELECT MAX(seq) FROM taps") is long last ? last : 0;
            journal._firstSeq = Scalar(writer, "SELECT MIN(seq) FROM taps") is long first ? first : journal._lastSeq + 1;
            journal._ackedThrough = Scalar(writer, "SELECT value FROM meta WHERE key = 'acked_through'") is long acked ? acked : 0;
            return journal;
        }
        catch
        {
            writer.Dispose();
            aux.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Commits <paramref name="verdicts"/> in one transaction (one fsync for the group) under the next sequence
    /// numbers, written into <paramref name="seqs"/> (0 for a verdict not <see cref="Verdict.Journaled"/>), with each
    /// one's journaled latency (read to entering the commit) in <paramref name="journaledLatencyMicros"/>. On failure nothing is committed and no number is
    /// used: every entry of <paramref name="seqs"/> is 0.
    /// </summary>
    public void Append(IReadOnlyList<Verdict> verdicts, Span<long> seqs, Span<long> journaledLatencyMicros)
    {
        ArgumentNullException.ThrowIfNull(verdicts);
        try
        {
            Insert(verdicts, seqs, journaledLatencyMicros);
        }
        catch
        {
            seqs[..verdicts.Count].Clear();
            throw;
        }
    }

    /// <summary>Commits <paramref name="verdicts"/> in one transaction; their sequence numbers (0 for one not journaled).</summary>
    public long[] Append(IReadOnlyList<Verdict> verdicts)
    {
        ArgumentNullException.ThrowIfNull(verdicts);
        var seqs = new long[verdicts.Count];
        Append(verdicts, seqs, new long[verdicts.Count]);
        return seqs;
    }

    private void Insert(IReadOnlyList<Verdict> verdicts, Span<long> seqs, Span<long> journaledLatencyMicros)
    {
        var seq = _lastSeq;
        using var transaction = _writer.BeginTransaction();
        for (var i = 0; i < verdicts.Count; i++)
        {
            var verdict = verdicts[i];
            seqs[i] = 0;
            if (verdict.Journaled && !verdict.Scan.SelfTest)
            {
                seqs[i] = ++seq;
                journaledLatencyMicros[i] = Bind(transaction, verdict, seq).JournaledLatencyMicros;
                _insert.ExecuteNonQuery();
            }
            else
            {
                journaledLatencyMicros[i] = verdict.Scan.MicrosSinceRead();
            }
        }

        transaction.Commit();
        Interlocked.Exchange(ref _lastSeq, seq);
    }

    /// <summary>
    /// The warm-up's self-test <paramref name="verdicts"/> take the insert of a real tap and are rolled back, then
    /// one durable commit of a row that is not a tap: the first rider then finds the statement compiled, SQLite's
    /// pages in memory, and the WAL begun and its file extended, which otherwise costs that rider several fsyncs'
    /// worth. No tap and no sequence number is used; <paramref name="journaledLatencyMicros"/> gets each one's journaled latency.
    /// </summary>
    public void Rehearse(IReadOnlyList<Verdict> verdicts, Span<long> journaledLatencyMicros)
    {
        ArgumentNullException.ThrowIfNull(verdicts);
        using (var transaction = _writer.BeginTransaction())
        {
            var seq = _lastSeq;
            for (var i = 0; i < verdicts.Count; i++)
            {
                journaledLatencyMicros[i] = Bind(transaction, verdicts[i], ++seq).JournaledLatencyMicros;
                _insert.ExecuteNonQuery();
            }

            transaction.Rollback();
        }

        using (var touch = _writer.CreateCommand())
        {
            touch.CommandText = "INSERT INTO meta (key, value) VALUES ('warmed_up_at', $v) ON CONFLICT(key) DO UPDATE SET value = excluded.value";
            touch.Parameters.AddWithValue("$v", verdicts.Count > 0 ? verdicts[^1].At.ToUnixTimeMilliseconds() : 0);
            touch.ExecuteNonQuery();
        }

        ReadFrom(AckedThrough + 1, 1);
    }

    /// <summary>The insert statement bound to <paramref name="verdict"/>'s row as <paramref name="seq"/>, and the latency journaled with it (read to entering the commit).</summary>
    private (SqliteCommand Insert, long JournaledLatencyMicros) Bind(SqliteTransaction transaction, Verdict verdict, long seq)
    {
        var context = verdict.Context;
        var latencyMicros = verdict.Scan.MicrosSinceRead();
        _insert.Transaction = transaction;
        var p = _insert.Parameters;
        p[0].Value = seq;
        p[1].Value = verdict.At.ToUnixTimeMilliseconds();
        p[2].Value = verdict.StoredText;
        p[3].Value = verdict.Accepted ? 1 : 0;
        p[4].Value = verdict.Reason;
        p[5].Value = context.Mode.Name();
        p[6].Value = context.OperatorId;
        p[7].Value = (object?)context.StationId ?? DBNull.Value;
        p[8].Value = (object?)context.StopId ?? DBNull.Value;
        p[9].Value = (object?)context.RouteId ?? DBNull.Value;
        p[10].Value = (object?)verdict.Verification.Account ?? DBNull.Value;
        p[11].Value = (object?)verdict.Verification.Code?.Credential.CredentialIdText ?? DBNull.Value;
        p[12].Value = latencyMicros;
        p[13].Value = verdict.KeySetVersion;
        p[14].Value = verdict.DenyListVersion;
        return (_insert, latencyMicros);
    }

    /// <summary>Up to <paramref name="max"/> taps from <paramref name="fromSeq"/> on, in order.</summary>
    public List<TapRecord> ReadFrom(long fromSeq, int max)
    {
        lock (_auxLock)
        {
            using var command = _aux.CreateCommand();
            command.CommandText = $"SELECT {Columns} FROM taps WHERE seq >= $from ORDER BY seq LIMIT $max";
            command.Parameters.AddWithValue("$from", fromSeq);
            command.Parameters.AddWithValue("$max", max);
            using var reader = command.ExecuteReader();
            var records = new List<TapRecord>();
            while (reader.Read())
            {
                records.Add(ReadRecord(reader));
            }

            return records;
        }
    }

    /// <summary>Records clearing's acknowledgement: every tap up to <paramref name="seq"/> is stored there.</summary>
    public void MarkUploaded(long seq)
    {
        seq = Math.Min(seq, LastSeq);
        if (seq <= AckedThrough)
        {
            return;
        }

        WriteAcked(seq);
    }

    /// <summary>
    /// Moves the acknowledgement back to <paramref name="seq"/> when clearing reports that it holds less than it had
    /// acknowledged (a server restored from a backup), so those taps are sent again.
    /// </summary>
    public void RewindUploaded(long seq)
    {
        WriteAcked(Math.Max(0, seq));
    }

    /// <summary>
    /// Deletes acknowledged taps decided before <paramref name="cutoff"/>, oldest first, in chunks so that the tap
    /// path never waits long for the write lock. The newest tap is always kept. Returns how many were deleted.
    /// </summary>
    public long Prune(DateTimeOffset cutoff, int chunk = 20_000)
    {
        long deleted = 0;
        while (true)
        {
            lock (_auxLock)
            {
                var limit = Math.Min(AckedThrough, LastSeq - 1);
                using var find = _aux.CreateCommand();
                find.CommandText = "SELECT MAX(seq) FROM (SELECT seq, at_ms FROM taps WHERE seq <= $limit ORDER BY seq LIMIT $chunk) WHERE at_ms < $cutoff";
                find.Parameters.AddWithValue("$limit", limit);
                find.Parameters.AddWithValue("$chunk", chunk);
                find.Parameters.AddWithValue("$cutoff", cutoff.ToUnixTimeMilliseconds());
                if (find.ExecuteScalar() is not long through)
                {
                    return deleted;
                }

                using var delete = _aux.CreateCommand();
                delete.CommandText = "DELETE FROM taps WHERE seq <= $through";
                delete.Parameters.AddWithValue("$through", through);
                deleted += delete.ExecuteNonQuery();
                Interlocked.Exchange(ref _firstSeq, through + 1);
            }
        }
    }

    /// <summary>
    /// Copies the WAL into the database without blocking writers (run off the tap path). Taps committed meanwhile stay
    /// behind, and the WAL is rewritten from its start only once a checkpoint has copied every frame, so passes repeat
    /// while they catch up and <see cref="FinishCheckpoint"/> then copies the last few frames between two commits.
    /// </summary>
    /// <returns>Whether every frame was copied.</returns>
    public bool Checkpoint()
    {
        const int MaxPasses = 20;
        lock (_auxLock)
        {
            using var command = _aux.CreateCommand();
            command.CommandText = "PRAGMA wal_checkpoint(PASSIVE);";
            var complete = false;
            for (var pass = 0; pass < MaxPasses && !complete; pass++)
            {
                using var reader = command.ExecuteReader();
                reader.Read();
                complete = reader.GetInt64(2) >= reader.GetInt64(1);
            }

            Volatile.Write(ref _finishCheckpoint, 1);
            return complete;
        }
    }

    /// <summary>
    /// After <see cref="Checkpoint"/>, copies the frames committed since, on the appending connection between two
    /// appends (so nothing is committed meanwhile and the copy is complete): the next commit then starts the WAL over.
    /// Only the thread that calls <see cref="Append(IReadOnlyList{Verdict}, Span{long}, Span{long})"/> may call it. Costs one small copy and one fsync of the database.
    /// </summary>
    public void FinishCheckpoint()
    {
        if (Volatile.Read(ref _finishCheckpoint) == 0 || Interlocked.Exchange(ref _finishCheckpoint, 0) == 0)
        {
            return;
        }

        Execute(_writer, "PRAGMA wal_checkpoint(PASSIVE);");
    }

    /// <summary>
    /// Accepted taps decided at or after <paramref name="since"/>, newest first: what a restart needs to rebuild the
    /// replay cache and pass-back state. Reads backwards from the newest tap, so a large journal costs nothing.
    /// </summary>
    public List<(string Code, DateTimeOffset At, string? Account)> ReadAcceptedSince(DateTimeOffset since, int maxRows = 1_000_000)
    {
        lock (_auxLock)
        {
            using var command = _aux.CreateCommand();
            command.CommandText = "SELECT at_ms, accepted, code, account FROM taps ORDER BY seq DESC LIMIT $max";
            command.Parameters.AddWithValue("$max", maxRows);
            using var reader = command.ExecuteReader();
            var sinceMs = since.ToUnixTimeMilliseconds();
            var taps = new List<(string, DateTimeOffset, string?)>();
            while (reader.Read())
            {
                var at = reader.GetInt64(0);
                if (at < sinceMs)
                {
                    break;
                }

                if (reader.GetInt64(1) == 1)
                {
                    taps.Add((reader.GetString(2), DateTimeOffset.FromUnixTimeMilliseconds(at), reader.IsDBNull(3) ? null : reader.GetString(3)));
                }
            }

            return taps;
        }
    }

    /// <summary>Reads a journal file without opening it for writing: for <c>transit gate journal</c>.</summary>
    public static IEnumerable<TapRecord> ReadAll(string path, long fromSeq = 0)
    {
        var connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = false, Mode = SqliteOpenMode.ReadOnly }.ToString();
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        var acked = Scalar(connection, "SELECT value FROM meta WHERE key = 'acked_through'") is long a ? a : 0;
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM taps WHERE seq >= $from ORDER BY seq";
        command.Parameters.AddWithValue("$from", fromSeq);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var record = ReadRecord(reader);
            yield return record with { Uploaded = record.Seq <= acked };
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _insert.Dispose();
        _writer.Dispose();
        _aux.Dispose();
    }

    private void WriteAcked(long seq)
    {
        lock (_auxLock)
        {
            using var command = _aux.CreateCommand();
            command.CommandText = "INSERT INTO meta (key, value) VALUES ('acked_through', $v) ON CONFLICT(key) DO UPDATE SET value = excluded.value";
            command.Parameters.AddWithValue("$v", seq);
            command.ExecuteNonQuery();
            Interlocked.Exchange(ref _ackedThrough, seq);
        }
    }

    private static TapRecord ReadRecord(SqliteDataReader r) => new()
    {
        Seq = r.GetInt64(0),
        At = DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(1)),
        Code = r.GetString(2),
        Accepted = r.GetInt64(3) == 1,
        Reason = r.GetString(4),
        Mode = r.GetString(5),
        OperatorId = r.GetString(6),
        StationId = r.IsDBNull(7) ? null : r.GetString(7),
        StopId = r.IsDBNull(8) ? null : r.GetString(8),
        RouteId = r.IsDBNull(9) ? null : r.GetString(9),
        Account = r.IsDBNull(10) ? null : r.GetString(10),
        CredentialId = r.IsDBNull(11) ? null : r.GetString(11),
        LatencyMicros = r.GetInt64(12),
        KeySetVersion = r.GetInt64(13),
        DenyListVersion = r.GetInt64(14),
        Issuer = IssuerOf(r.GetString(2)),
    };

    // The journal keeps the code as scanned; the issuer it names is read back from it rather than stored twice.
    private static string? IssuerOf(string code) =>
        code.StartsWith(RideCodeFormat.IssuerPrefix, StringComparison.Ordinal)
        && RideCodeFormat.TryParse(code, out var parsed) == ParseStatus.Ok
            ? parsed.Credential.Issuer
            : null;

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }
}
