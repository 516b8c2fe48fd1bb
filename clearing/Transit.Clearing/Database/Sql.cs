using Npgsql;
using NpgsqlTypes;

namespace Transit.Clearing.Database;

/// <summary>Small helpers over Npgsql commands: parameters by position, nulls as DBNull.</summary>
public static class Sql
{
    public static NpgsqlCommand Command(NpgsqlConnection connection, string sql, params object?[] parameters)
    {
        var command = new NpgsqlCommand(sql, connection);
        foreach (var p in parameters)
        {
            // A typed parameter may be shared by several commands; each gets its own copy.
            command.Parameters.Add(p is NpgsqlParameter typed ? typed.Clone() : new NpgsqlParameter { Value = p ?? DBNull.Value });
        }

        return command;
    }

    public static async Task<int> ExecAsync(NpgsqlConnection connection, string sql, CancellationToken cancellation, params object?[] parameters)
    {
        await using var command = Command(connection, sql, parameters);
        return await command.ExecuteNonQueryAsync(cancellation);
    }

    public static async Task<T?> ScalarAsync<T>(NpgsqlConnection connection, string sql, CancellationToken cancellation, params object?[] parameters)
    {
        await using var command = Command(connection, sql, parameters);
        var value = await command.ExecuteScalarAsync(cancellation);
        return value is null or DBNull ? default : (T)value;
    }

    public static async Task<List<T>> ListAsync<T>(NpgsqlConnection connection, string sql, Func<NpgsqlDataReader, T> read, CancellationToken cancellation, params object?[] parameters)
    {
        await using var command = Command(connection, sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        var list = new List<T>();
        while (await reader.ReadAsync(cancellation))
        {
            list.Add(read(reader));
        }

        return list;
    }

    public static async Task<int> ExecAsync(NpgsqlDataSource dataSource, string sql, CancellationToken cancellation, params object?[] parameters)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellation);
        return await ExecAsync(connection, sql, cancellation, parameters);
    }

    public static async Task<List<T>> ListAsync<T>(NpgsqlDataSource dataSource, string sql, Func<NpgsqlDataReader, T> read, CancellationToken cancellation, params object?[] parameters)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellation);
        return await ListAsync(connection, sql, read, cancellation, parameters);
    }

    public static async Task<T?> ScalarAsync<T>(NpgsqlDataSource dataSource, string sql, CancellationToken cancellation, params object?[] parameters)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellation);
        return await ScalarAsync<T>(connection, sql, cancellation, parameters);
    }

    /// <summary>A typed parameter, for values whose type the server cannot infer (nulls, arrays).</summary>
    public static NpgsqlParameter Typed(object? value, NpgsqlDbType type) => new() { Value = value ?? DBNull.Value, NpgsqlDbType = type };

    public static string? NullableString(this NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    public static long? NullableLong(this NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetInt64(ordinal);

    public static DateTimeOffset? NullableTime(this NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetFieldValue<DateTimeOffset>(ordinal);

    /// <summary>Writes text or NULL into a binary COPY row.</summary>
    public static void PutText(this NpgsqlBinaryImporter copy, string? value)
    {
        if (value is null)
        {
            copy.WriteNull();
        }
        else
        {
            copy.Write(value, NpgsqlDbType.Text);
        }
    }

    /// <summary>Writes a bigint or NULL into a binary COPY row.</summary>
    public static void PutLong(this NpgsqlBinaryImporter copy, long? value)
    {
        if (value is { } v)
        {
            copy.Write(v, NpgsqlDbType.Bigint);
        }
        else
        {
            copy.WriteNull();
        }
    }

    /// <summary>Writes a timestamptz or NULL into a binary COPY row.</summary>
    public static void PutTime(this NpgsqlBinaryImporter copy, DateTimeOffset? value)
    {
        if (value is { } v)
        {
            copy.Write(v.UtcDateTime, NpgsqlDbType.TimestampTz);
        }
        else
        {
            copy.WriteNull();
        }
    }
}
