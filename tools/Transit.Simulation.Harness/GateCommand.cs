namespace Transit.Simulation.Harness;

/// <summary>
/// The program that runs one gate agent, before its <c>--config FILE</c>: the host decides which (the
/// <c>transit</c> command's <c>gate run</c> today; the gate's own executable is a drop-in replacement).
/// </summary>
public sealed record GateCommand(string Program, IReadOnlyList<string> Arguments)
{
    /// <summary><c>dotnet TRANSIT.DLL gate run</c>: the <c>transit</c> command at <paramref name="transitDll"/>.</summary>
    public static GateCommand Transit(string transitDll) => new("dotnet", [transitDll, "gate", "run"]);
}
