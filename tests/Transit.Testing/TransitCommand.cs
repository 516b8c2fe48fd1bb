using System.Diagnostics;

namespace Transit.Testing;

/// <summary>
/// The real <c>transit</c> command, run as a child process with <c>dotnet</c>: a test project that sets
/// <c>RunsTransitCommand</c> gets it built and copied into its output's <c>cli/</c> folder (tests/Directory.Build.targets);
/// the command's own tests, which reference it, find it beside their binaries.
/// </summary>
public static class TransitCommand
{
    /// <summary>The command's assembly: <c>cli/transit.dll</c> beside the test binaries, or <c>transit.dll</c> among them.</summary>
    public static string Dll { get; } = File.Exists(Path.Combine(AppContext.BaseDirectory, "transit.dll"))
        ? Path.Combine(AppContext.BaseDirectory, "transit.dll")
        : Path.Combine(AppContext.BaseDirectory, "cli", "transit.dll");

    /// <summary><c>dotnet transit.dll ARGS</c>, streams redirected, in the temporary folder unless told otherwise.</summary>
    public static ProcessStartInfo StartInfo(IEnumerable<string> args, string? workingDirectory = null) =>
        ChildProcess.StartInfo("dotnet", [Dll, .. args], workingDirectory);

    /// <summary>Runs <c>transit ARGS</c> to its end (see <see cref="ChildProcess.RunToEndAsync"/>).</summary>
    public static Task<(int ExitCode, string Output, string Error)> RunAsync(string[] args, string? input = null, string? workingDirectory = null, TimeSpan? timeout = null) =>
        ChildProcess.RunToEndAsync(StartInfo(args, workingDirectory), input, timeout);
}
