namespace Transit.FareRules;

/// <summary>
/// Fast UTC → local conversion for one timezone. Offsets are computed per UTC week on first use (one
/// <see cref="TimeZoneInfo"/> call at each end, plus a search for the transition when they differ) and then read from a
/// lock-free table, so that pricing does not call into <see cref="TimeZoneInfo"/> for every leg.
/// </summary>
internal sealed class ZoneClock
{
    private const long TicksPerWeek = TimeSpan.TicksPerDay * 7;
    private static readonly long Origin = new DateTime(2000, 1, 3, 0, 0, 0, DateTimeKind.Utc).Ticks;
    private const int Weeks = 100 * 53;

    private readonly TimeZoneInfo _zone;
    private readonly Week?[] _weeks = new Week?[Weeks];

    public ZoneClock(TimeZoneInfo zone) => _zone = zone;

    /// <summary>The local wall-clock ticks of a UTC instant.</summary>
    public long LocalTicks(long utcTicks) => utcTicks + OffsetTicks(utcTicks);

    /// <summary>The local date and the seconds since local midnight of an instant.</summary>
    public (DateOnly Date, int Seconds) LocalDateAndTime(long utcTicks)
    {
        var local = LocalTicks(utcTicks);
        var day = local / TimeSpan.TicksPerDay;
        return (DateOnly.FromDayNumber((int)day), (int)((local - (day * TimeSpan.TicksPerDay)) / TimeSpan.TicksPerSecond));
    }

    private long OffsetTicks(long utcTicks)
    {
        var index = (utcTicks - Origin) / TicksPerWeek;
        if (index < 0 || index >= Weeks)
        {
            return _zone.GetUtcOffset(new DateTime(utcTicks, DateTimeKind.Utc)).Ticks;
        }

        var week = Volatile.Read(ref _weeks[index]);
        if (week is null)
        {
            week = ComputeWeek(Origin + (index * TicksPerWeek));
            Volatile.Write(ref _weeks[index], week);
        }

        return utcTicks < week.TransitionTicks ? week.Before : week.After;
    }

    private Week ComputeWeek(long startTicks)
    {
        var before = Offset(startTicks);
        var after = Offset(startTicks + TicksPerWeek - 1);
        if (before == after)
        {
            return new Week(before, after, long.MaxValue);
        }

        // One transition inside the week: binary search for its first tick, to the second.
        long low = startTicks, high = startTicks + TicksPerWeek - 1;
        while (high - low > TimeSpan.TicksPerSecond)
        {
            var middle = low + ((high - low) / 2);
            if (Offset(middle) == before)
            {
                low = middle;
            }
            else
            {
                high = middle;
            }
        }

        return new Week(before, after, high - (high % TimeSpan.TicksPerSecond));
    }

    private long Offset(long utcTicks) => _zone.GetUtcOffset(new DateTime(utcTicks, DateTimeKind.Utc)).Ticks;

    private sealed record Week(long Before, long After, long TransitionTicks);
}
