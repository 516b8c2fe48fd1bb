using Transit.FareRules;

namespace Transit.Simulation;

/// <summary>
/// Which fare caps riders reached on one service day, and what the caps saved them, from each capped rider-day's
/// charged total and cap adjustment (clearing keeps the adjustment per journey, not which cap made it). A rider-day
/// whose charged total reaches a daily cap of its category (<c>fare_caps.txt</c>, period_type 0) reached the daily
/// cap; one capped below that was held by a cap of a longer period (the week, in the synthetic city).
/// </summary>
/// <param name="DailyRiders">Riders who reached a daily cap.</param>
/// <param name="DailySaved">What the caps took off those riders' day, in minor units.</param>
/// <param name="LongerRiders">Riders capped by a weekly (or longer) cap before reaching a daily one.</param>
/// <param name="LongerSaved">What the caps took off those riders' day, in minor units.</param>
public sealed record CapsReached(int DailyRiders, long DailySaved, int LongerRiders, long LongerSaved)
{
    /// <summary>Classifies the capped rider-days of one service day.</summary>
    /// <param name="riderDays">Each rider's day: category, charged total and cap adjustment total (minor units).</param>
    /// <param name="caps">The feed's caps.</param>
    public static CapsReached Of(IEnumerable<(string? Category, long Charged, long Saved)> riderDays, IReadOnlyList<FareCap> caps)
    {
        ArgumentNullException.ThrowIfNull(riderDays);
        ArgumentNullException.ThrowIfNull(caps);
        int dailyRiders = 0, longerRiders = 0;
        long dailySaved = 0, longerSaved = 0;
        foreach (var (category, charged, saved) in riderDays.Where(d => d.Saved > 0))
        {
            var daily = caps.Where(c => c.Period == CapPeriod.ServiceDay && c.Amount is not null && (c.RiderCategoryId is null || c.RiderCategoryId == category))
                .Select(c => c.Amount!.Value).DefaultIfEmpty(long.MaxValue).Min();
            if (charged >= daily)
            {
                dailyRiders++;
                dailySaved = checked(dailySaved + saved);
            }
            else
            {
                longerRiders++;
                longerSaved = checked(longerSaved + saved);
            }
        }

        return new CapsReached(dailyRiders, dailySaved, longerRiders, longerSaved);
    }
}
