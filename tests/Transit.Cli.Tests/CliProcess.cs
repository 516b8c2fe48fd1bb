namespace Transit.Cli.Tests;

/// <summary>Runs the real <c>transit</c> command as a child process, as users and scripts do.</summary>
internal static class CliProcess
{
    public static Task<(int ExitCode, string Output, string Error)> RunAsync(string[] args, string? input = null, string? workingDirectory = null) =>
        TransitCommand.RunAsync(args, input, workingDirectory);
}
