namespace Transit.Simulation.Harness;

/// <summary>
/// An error in a run that the user can fix or must know of (a folder in use, a gate that never became ready); the
/// message names what is wrong and where. The command line prints it and exits with <see cref="ExitCode"/>.
/// </summary>
public sealed class SimulationException(string message, int exitCode = SimulationException.UsageError) : Exception(message)
{
    /// <summary>The exit status for an error in what the user asked for (the command line's usage error).</summary>
    public const int UsageError = 2;

    public int ExitCode { get; } = exitCode;
}
