namespace Transit.Testing;

/// <summary>
/// The real <c>transit</c> command, run as a child process with <c>dotnet</c>: a test project that sets
/// <c>RunsTransitCommand</c> gets it built and copied into its output's <c>cli/</c> folder (tests/Directory.Build.targets).
/// </summary>
public static class TransitCommand
{
    /// <summary>The command's assembly, <c>cli/transit.dll</c> beside the test binaries.</summary>
    public static string Dll { get; } = Path.Combine(AppContext.BaseDirectory, "cli", "transit.dll");
}
