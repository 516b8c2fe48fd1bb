using System.Diagnostics;

namespace Transit.GateAgent.Pipeline;

/// <summary>
/// Decides which refused scans that are not ride codes at all (they did not parse) go into the journal, so that a
/// faulty scanner or someone holding garbage to it cannot fill the disk: the same text again within
/// <see cref="RepeatWindow"/> is left out, and beyond a burst of <see cref="Burst"/> at most
/// <see cref="PerSecond"/> distinct ones a second are journaled. Scans left out still get their red light and answer;
/// they are counted (<c>transit_gate_scans_not_journaled_total</c>). Used by the rules stage only (one thread).
/// </summary>
public sealed class GarbageFilter
{
    /// <summary>How long a journaled garbage text suppresses the same text.</summary>
    public static readonly TimeSpan RepeatWindow = TimeSpan.FromMinutes(1);

    /// <summary>Distinct garbage scans journaled per second, sustained.</summary>
    public const int PerSecond = 1;

    /// <summary>Distinct garbage scans journaled in a burst.</summary>
    public const int Burst = 10;

    private const int MaxRemembered = 1024;

    private readonly Dictionary<string, long> _recent = new(StringComparer.Ordinal);
    private double _tokens = Burst;
    private long _refilledAt;

    /// <summary>Whether to journal garbage text <paramref name="text"/> read at <paramref name="timestamp"/> (<see cref="Stopwatch"/> ticks).</summary>
    public bool Admit(string text, long timestamp)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (_recent.TryGetValue(text, out var seen) && Elapsed(seen, timestamp) < RepeatWindow)
        {
            return false;
        }

        _tokens = Math.Min(Burst, _tokens + (_refilledAt == 0 ? 0 : Elapsed(_refilledAt, timestamp).TotalSeconds * PerSecond));
        _refilledAt = timestamp;
        if (_tokens < 1)
        {
            return false;
        }

        _tokens--;
        if (_recent.Count >= MaxRemembered)
        {
            // Only a flood of distinct texts gets here; forgetting the old ones costs at most one row each per window.
            _recent.Clear();
        }

        _recent[text] = timestamp;
        return true;
    }

    private static TimeSpan Elapsed(long from, long to) => TimeSpan.FromSeconds(Math.Max(0, to - from) / (double)Stopwatch.Frequency);
}
