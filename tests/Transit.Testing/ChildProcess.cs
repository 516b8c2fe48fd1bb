using System.Diagnostics;

namespace Transit.Testing;

/// <summary>Programs the tests start as child processes: output, error and input redirected, run to their end.</summary>
public static class ChildProcess
{
    /// <summary>How long <see cref="RunToEndAsync"/> waits unless told otherwise.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(2);

    /// <summary><paramref name="fileName"/> with <paramref name="args"/>, its streams redirected, in the temporary folder unless told otherwise.</summary>
    public static ProcessStartInfo StartInfo(string fileName, IEnumerable<string> args, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return start;
    }

    /// <summary>
    /// Runs <paramref name="start"/> to its end, writing <paramref name="input"/> (if any) to it and then closing its
    /// input, and returns its exit code and what it wrote.
    /// </summary>
    /// <exception cref="OperationCanceledException">It ran longer than <paramref name="timeout"/> (default <see cref="DefaultTimeout"/>).</exception>
    public static async Task<(int ExitCode, string Output, string Error)> RunToEndAsync(ProcessStartInfo start, string? input = null, TimeSpan? timeout = null)
    {
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {start.FileName}");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (start.RedirectStandardInput)
        {
            if (input is not null)
            {
                await process.StandardInput.WriteAsync(input);
            }

            process.StandardInput.Close();
        }

        using var limit = new CancellationTokenSource(timeout ?? DefaultTimeout);
        await process.WaitForExitAsync(limit.Token);
        return (process.ExitCode, await output, await error);
    }
}
