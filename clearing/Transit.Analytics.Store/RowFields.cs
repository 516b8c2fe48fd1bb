using Npgsql;

namespace Transit.Analytics.Store;

/// <summary>
/// Fields of the reader's current row. The store's readers are never sequential, so a row is in memory once
/// <c>ReadAsync</c> returns and these reads cannot block; their async twins would cost a task per field on loops over
/// millions of taps.
/// </summary>
internal static class RowFields
{
    public static string? TextOrNull(this NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    public static T Field<T>(this NpgsqlDataReader reader, int ordinal) => reader.GetFieldValue<T>(ordinal);
}
