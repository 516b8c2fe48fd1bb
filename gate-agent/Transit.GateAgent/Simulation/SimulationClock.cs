using System.Globalization;

namespace Transit.GateAgent.Simulation;

/// <summary>
/// The gate's clock while a simulation drives it (<c>Simulation:Clock</c> = <c>manual</c>): the last instant the
/// simulation set, plus the real time elapsed since. A compressed service day can then be played through a real
/// agent: freshness checks, pass-back and the time stamped on each tap (which clearing prices by) follow the
/// simulated day, while timers and latencies keep running in real time.
/// </summary>
public sealed class SimulationClock : TimeProvider
{
    /// <summary>
    /// A TCP simulation-input line that sets the clock instead of being scanned: <c>#clock</c>, a space and an
    /// ISO 8601 instant. No ride code starts with <c>#</c> (it is not in the Base45 alphabet).
    /// </summary>
    public const string LinePrefix = "#clock ";

    private readonly TimeProvider _real;
    private Anchor _anchor;

    /// <summary>Starts at <paramref name="real"/>'s time, until the simulation sets it.</summary>
    public SimulationClock(TimeProvider real)
    {
        ArgumentNullException.ThrowIfNull(real);
        _real = real;
        _anchor = new Anchor(real.GetUtcNow(), real.GetTimestamp());
    }

    /// <inheritdoc />
    public override DateTimeOffset GetUtcNow()
    {
        var anchor = Volatile.Read(ref _anchor);
        return anchor.At + _real.GetElapsedTime(anchor.Timestamp);
    }

    /// <summary>Makes <paramref name="at"/> the time now; it may go back as well as forward.</summary>
    public void Set(DateTimeOffset at) => Volatile.Write(ref _anchor, new Anchor(at.ToUniversalTime(), _real.GetTimestamp()));

    /// <summary>Parses the instant of a clock line (<see cref="LinePrefix"/> then ISO 8601; no offset means UTC).</summary>
    public static bool TryParseLine(string line, out DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(line);
        at = default;
        return line.StartsWith(LinePrefix, StringComparison.Ordinal)
            && DateTimeOffset.TryParse(
                line.AsSpan(LinePrefix.Length).Trim(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out at);
    }

    private sealed record Anchor(DateTimeOffset At, long Timestamp);
}
