using System.Collections.Concurrent;

namespace Transit.GateAgent.Hardware;

/// <summary>What the simulated hardware did, in order; kept short (the newest 10,000 actions).</summary>
public sealed class SimulatedHardwareLog
{
    private const int Keep = 10_000;
    private readonly ConcurrentQueue<string> _actions = new();

    /// <summary>Records an action such as <c>barrier:open</c>.</summary>
    public void Record(string action)
    {
        _actions.Enqueue(action);
        while (_actions.Count > Keep && _actions.TryDequeue(out _))
        {
        }
    }

    /// <summary>The recorded actions, oldest first.</summary>
    public IReadOnlyList<string> Actions => [.. _actions];
}
