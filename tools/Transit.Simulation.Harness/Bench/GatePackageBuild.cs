using System.Diagnostics;

namespace Transit.Simulation.Harness.Bench;

/// <summary>
/// Building and finding the gate's Debian packages (gate-agent/deploy/build-package). One source file linked into
/// both <c>transit bench gate --arch</c> and the packaged gate tests, so that they build and find packages alike.
/// </summary>
public static class GatePackageBuild
{
    /// <summary>The environment variable naming a directory of packages built beforehand, used instead of building.</summary>
    public const string PrebuiltVariable = "TRANSIT_GATE_PACKAGES";

    /// <summary>The full path of <paramref name="program"/> on PATH, as the shell would find it; null when absent.</summary>
    public static string? Which(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, program)).FirstOrDefault(File.Exists);

    /// <summary>
    /// The .deb for <paramref name="arch"/> (arm64 or x64): the newest in <see cref="PrebuiltVariable"/>'s directory
    /// when set and present there, otherwise built into <paramref name="outDirectory"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">build-package failed; the message carries its error output.</exception>
    public static async Task<string> FindOrBuildAsync(string repositoryRoot, string arch, string outDirectory, CancellationToken cancellation)
    {
        if (Environment.GetEnvironmentVariable(PrebuiltVariable) is { Length: > 0 } prebuilt && Directory.Exists(prebuilt)
            && Directory.GetFiles(prebuilt, $"transit-gate_*_{(arch == "x64" ? "amd64" : arch)}.deb").OrderDescending().FirstOrDefault() is { } existing)
        {
            return existing;
        }

        var start = new ProcessStartInfo(Path.Combine(repositoryRoot, "gate-agent/deploy/build-package"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            ArgumentList = { "--arch", arch, "--out", outDirectory },
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("cannot start gate-agent/deploy/build-package");
        var error = process.StandardError.ReadToEndAsync(cancellation);
        var output = await process.StandardOutput.ReadToEndAsync(cancellation).ConfigureAwait(false);
        await process.WaitForExitAsync(cancellation).ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"build-package --arch {arch} failed:\n{await error.ConfigureAwait(false)}");
        }

        return output.Trim().Split('\n')[^1];
    }
}
