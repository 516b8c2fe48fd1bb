namespace Transit.Analytics.Rollups;

/// <summary>The rollup tables. Each keeps additive measures and the number of distinct riders per cell and day.</summary>
public enum RollupTable : byte
{
    /// <summary>Taps by hour, device place, accepted or refusal reason: measure 0 = taps.</summary>
    Taps = 1,

    /// <summary>Boardings and alightings by hour, route and stop: 0 = boardings, 1 = alightings, 2 = of which inferred.</summary>
    StopHour = 2,

    /// <summary>Origin–destination by boarding hour: 0 = legs, 1 = exact, 2 = chained to next boarding, 3 = to first origin. ToStop "" = unknown.</summary>
    Od = 3,

    /// <summary>Transfers from (route, alighting stop) to (route, boarding stop): 0 = transfers, 1 = total seconds.</summary>
    Transfers = 4,

    /// <summary>Transfer time distribution (Value = seconds): 0 = transfers; medians come from here.</summary>
    TransferTimes = 5,

    /// <summary>Journeys by start hour: 0 = journeys, 1 = legs, 2 = transfers.</summary>
    Journeys = 6,

    /// <summary>Settled revenue: 0 = amount in minor units, 1 = legs priced.</summary>
    Revenue = 7,

    /// <summary>
    /// Bus boardings and alightings per scheduled trip and stop (Value = stop_sequence): 0 = boardings, 1 = alightings,
    /// 2 = of which tapped off. (Tapped, not inferred as in <see cref="StopHour"/>: cells stored before bus tap-off
    /// was counted have 0 there, which reads rightly as all inferred.)
    /// </summary>
    TripStop = 8,
}

/// <summary>
/// One cell of a rollup table for one service day. Unused dimensions are "" so that every key column can be part
/// of a primary key. For transfers the plain dimensions describe where the rider came from and the To dimensions
/// where the rider went on.
/// </summary>
public readonly record struct CellKey(
    RollupTable Table,
    DateOnly Day,
    short Hour = -1,
    string Operator = "",
    string Mode = "",
    string Route = "",
    string Stop = "",
    string ToOperator = "",
    string ToMode = "",
    string ToRoute = "",
    string ToStop = "",
    string Category = "",
    string Reason = "",
    int Value = 0,
    string Trip = "")
{
    /// <summary>
    /// A refresh hashes millions of keys made of short ids; FNV-1a over their characters is several times cheaper
    /// than the default randomized string hashing, and keys are never chosen by an attacker.
    /// </summary>
    public override int GetHashCode()
    {
        var h = 2166136261u;
        h = Mix(h, unchecked((uint)Table | ((uint)(ushort)Hour << 8)));
        h = Mix(h, unchecked((uint)Day.DayNumber));
        h = Mix(h, unchecked((uint)Value));
        foreach (var text in (ReadOnlySpan<string>)[Operator, Mode, Route, Stop, ToOperator, ToMode, ToRoute, ToStop, Category, Reason, Trip])
        {
            foreach (var c in text)
            {
                h = Mix(h, c);
            }

            h = Mix(h, 0xFFFF);
        }

        return unchecked((int)h);
    }

    private static uint Mix(uint hash, uint value) => unchecked((hash ^ value) * 16777619u);
}

/// <summary>Up to four additive measures of a cell; what each means depends on the table.</summary>
public struct Measures : IEquatable<Measures>
{
    public long M0;
    public long M1;
    public long M2;
    public long M3;

    public Measures(long m0, long m1 = 0, long m2 = 0, long m3 = 0) => (M0, M1, M2, M3) = (m0, m1, m2, m3);

    public readonly bool IsZero => M0 == 0 && M1 == 0 && M2 == 0 && M3 == 0;

    public readonly long this[int index] => index switch
    {
        0 => M0,
        1 => M1,
        2 => M2,
        3 => M3,
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };

    public static Measures operator +(Measures a, Measures b) => new(a.M0 + b.M0, a.M1 + b.M1, a.M2 + b.M2, a.M3 + b.M3);

    public static Measures operator -(Measures a, Measures b) => new(a.M0 - b.M0, a.M1 - b.M1, a.M2 - b.M2, a.M3 - b.M3);

    public static bool operator ==(Measures a, Measures b) => a.Equals(b);

    public static bool operator !=(Measures a, Measures b) => !a.Equals(b);

    public readonly bool Equals(Measures other) => M0 == other.M0 && M1 == other.M1 && M2 == other.M2 && M3 == other.M3;

    public override readonly bool Equals(object? obj) => obj is Measures other && Equals(other);

    public override readonly int GetHashCode() => HashCode.Combine(M0, M1, M2, M3);
}
