using System.Collections.Concurrent;

namespace Transit.FareRules;

/// <summary>IANA timezone look-up with a cache (TimeZoneInfo.FindSystemTimeZoneById reads files each time).</summary>
internal static class TimeZones
{
    private static readonly ConcurrentDictionary<string, TimeZoneInfo?> Cache = new(StringComparer.Ordinal);

    public static bool TryFind(string id, out TimeZoneInfo zone)
    {
        var found = Cache.GetOrAdd(id, static key =>
        {
            try
            {
                return TimeZoneInfo.FindSystemTimeZoneById(key);
            }
            catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException)
            {
                return null;
            }
        });
        zone = found ?? TimeZoneInfo.Utc;
        return found is not null;
    }
}
