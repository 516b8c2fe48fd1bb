namespace Transit.GateAgent.Clearing;

/// <summary>Exponential backoff with full jitter.</summary>
public sealed class Backoff(TimeSpan initial, TimeSpan max)
{
    private int _failures;

    /// <summary>Consecutive failures so far.</summary>
    public int Failures => _failures;

    /// <summary>The wait before the next try: uniform in [initial/2, min(max, initial × 2^failures)].</summary>
    public TimeSpan Next()
    {
        var exponent = Math.Min(_failures, 30);
        _failures++;
        var ceiling = Math.Min(max.TotalMilliseconds, initial.TotalMilliseconds * Math.Pow(2, exponent));
        var floor = Math.Min(initial.TotalMilliseconds / 2, ceiling);
        return TimeSpan.FromMilliseconds(floor + (Random.Shared.NextDouble() * (ceiling - floor)));
    }

    /// <summary>Forgets the failures after a success.</summary>
    public void Reset() => _failures = 0;
}
