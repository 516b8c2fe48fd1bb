namespace Transit.RideCodes;

/// <summary>
/// Remembers accepted codes until they would be stale anyway, so that the same code shown twice is refused.
/// Bounded: past <see cref="Capacity"/> entries the oldest is forgotten first. Thread-safe.
/// </summary>
public sealed class ReplayCache
{
    /// <summary>Default capacity: a busy gate sees far fewer codes than this within one freshness window.</summary>
    public const int DefaultCapacity = 200_000;

    private readonly Dictionary<ReplayKey, long> _expiries = [];
    private readonly Queue<(ReplayKey Key, long Expiry)> _order = new();
    private readonly Lock _lock = new();

    /// <summary>Creates a cache holding at most <paramref name="capacity"/> codes.</summary>
    public ReplayCache(int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        Capacity = capacity;
    }

    /// <summary>
    /// Until when an accepted code must be held: a code stays fresh while its age is at most
    /// <paramref name="maxAge"/>, so it is held through that last instant, one tick past it (expiries are exclusive).
    /// </summary>
    public static DateTimeOffset HoldUntil(RideCode code, TimeSpan maxAge)
    {
        ArgumentNullException.ThrowIfNull(code);
        return code.Timestamp + maxAge + TimeSpan.FromTicks(1);
    }

    /// <summary>Most codes held at once.</summary>
    public int Capacity { get; }

    /// <summary>Codes held now (some may have expired and not been swept yet).</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _expiries.Count;
            }
        }
    }

    /// <summary>True when <paramref name="key"/> is held and not expired at <paramref name="now"/>.</summary>
    public bool Contains(ReplayKey key, DateTimeOffset now)
    {
        lock (_lock)
        {
            return _expiries.TryGetValue(key, out var expiry) && expiry > now.UtcTicks;
        }
    }

    /// <summary>
    /// Records <paramref name="key"/> until <paramref name="expiresAt"/>; false, and nothing changes, when it is
    /// already held and not expired.
    /// </summary>
    public bool TryAdd(ReplayKey key, DateTimeOffset expiresAt, DateTimeOffset now)
    {
        var nowTicks = now.UtcTicks;
        lock (_lock)
        {
            if (_expiries.TryGetValue(key, out var held) && held > nowTicks)
            {
                return false;
            }

            Sweep(nowTicks);
            _expiries[key] = expiresAt.UtcTicks;
            _order.Enqueue((key, expiresAt.UtcTicks));
            return true;
        }
    }

    private void Sweep(long nowTicks)
    {
        while (_order.Count > 0 && (_order.Peek().Expiry <= nowTicks || _expiries.Count >= Capacity))
        {
            var (key, expiry) = _order.Dequeue();
            if (_expiries.TryGetValue(key, out var held) && held == expiry)
            {
                _expiries.Remove(key);
            }
        }
    }
}
