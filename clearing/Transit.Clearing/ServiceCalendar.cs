using Npgsql;

namespace Transit.Clearing;

/// <summary>Maps instants to service days (local time, day starting at <see cref="ClearingOptions.ServiceDayStart"/>).</summary>
public sealed class ServiceCalendar(ClearingOptions options, NpgsqlDataSource dataSource)
{
    private TimeZoneInfo? _zone;

    /// <summary>The time zone of service days.</summary>
    public TimeZoneInfo Zone => _zone ?? TimeZoneInfo.Utc;

    /// <summary>Reads the zone from the options or the operators table.</summary>
    public async Task LoadAsync(CancellationToken cancellation)
    {
        var id = options.TimeZone;
        if (string.IsNullOrEmpty(id))
        {
            await using var command = dataSource.CreateCommand("SELECT time_zone FROM operators ORDER BY operator_id LIMIT 1");
            id = await command.ExecuteScalarAsync(cancellation) as string;
        }

        _zone = string.IsNullOrEmpty(id) ? TimeZoneInfo.Utc : TimeZoneInfo.FindSystemTimeZoneById(id);
    }

    /// <summary>The service day of <paramref name="at"/>.</summary>
    public DateOnly DayOf(DateTimeOffset at) =>
        DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(at, Zone).DateTime - options.ServiceDayStart);

    /// <summary>When service day <paramref name="day"/> begins.</summary>
    public DateTimeOffset Start(DateOnly day)
    {
        var local = day.ToDateTime(TimeOnly.MinValue) + options.ServiceDayStart;
        return new DateTimeOffset(local, Zone.GetUtcOffset(local));
    }

    /// <summary>When end-of-day clearing of <paramref name="day"/> may run.</summary>
    public DateTimeOffset Cutoff(DateOnly day) => Start(day.AddDays(1)) + options.ClearingCutoff;

    /// <summary>The account's shard (0–255): a stable hash, so every process and the database agree.</summary>
    public static short Shard(string account)
    {
        var hash = 2166136261u;
        foreach (var c in account)
        {
            hash = unchecked((hash ^ c) * 16777619u);
        }

        return (short)(hash & 0xFF);
    }
}
