using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Transit.Simulation.Harness.Bench;

/// <summary>
/// Writes benchmark results into docs/benchmarks.md. Each benchmark owns one section between
/// <c>&lt;!-- bench:NAME --&gt;</c> markers and rewrites only that section, so the areas can be re-run separately.
/// </summary>
public static class BenchmarkReport
{
    /// <summary>The repository's docs/benchmarks.md, found by walking up from the current directory.</summary>
    public static string DefaultPath()
    {
        for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Transit.sln")))
            {
                return Path.Combine(dir.FullName, "docs", "benchmarks.md");
            }
        }

        return Path.Combine(Environment.CurrentDirectory, "benchmarks.md");
    }

    /// <summary>Replaces (or appends) section <paramref name="name"/> with <paramref name="markdown"/>.</summary>
    public static void WriteSection(string path, string name, string markdown)
    {
        var begin = $"<!-- bench:{name} -->";
        var end = $"<!-- /bench:{name} -->";
        var text = File.Exists(path) ? File.ReadAllText(path) : "# Benchmarks\n\nFigures written by `transit bench`; each section names its command, machine and same-run reference.\n";
        var block = $"{begin}\n{markdown.TrimEnd()}\n{end}";
        var start = text.IndexOf(begin, StringComparison.Ordinal);
        var stop = text.IndexOf(end, StringComparison.Ordinal);
        text = start >= 0 && stop > start
            ? string.Concat(text.AsSpan(0, start), block, text.AsSpan(stop + end.Length))
            : text.TrimEnd() + "\n\n" + block + "\n";
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    /// <summary>One line naming the machine: CPU, cores, memory, OS and runtime.</summary>
    public static string Machine()
    {
        var cpu = "unknown CPU";
        if (File.Exists("/proc/cpuinfo"))
        {
            cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? cpu;
        }

        var memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024);
        return string.Create(
            CultureInfo.InvariantCulture,
            $"{cpu}, {Environment.ProcessorCount} cores, {memory:F0} GiB, {RuntimeInformation.OSDescription.Trim()}, .NET {Environment.Version}");
    }

    /// <summary>A markdown table.</summary>
    public static string Table(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        var sb = new StringBuilder();
        sb.Append("| ").AppendJoin(" | ", header).Append(" |\n");
        sb.Append('|').AppendJoin('|', header.Select(_ => " --- ")).Append("|\n");
        foreach (var row in rows)
        {
            sb.Append("| ").AppendJoin(" | ", row).Append(" |\n");
        }

        return sb.ToString();
    }

    /// <summary>Runs an external reference command (e.g. <c>openssl speed</c>) and returns its standard output.</summary>
    public static string RunReference(string file, string arguments, TimeSpan timeout)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        }) ?? throw new SimulationException($"cannot start {file}", 1);
        var output = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new SimulationException($"{file} {arguments} did not finish within {timeout.TotalSeconds:F0} s", 1);
        }

        return output.GetAwaiter().GetResult();
    }

    /// <summary>The 1, 5 and 15 minute load averages: other work on the machine shows in the figures.</summary>
    public static string Load() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    /// <summary>The 1 minute load average alone, for a figure taken over a short run.</summary>
    public static string LoadNow() => Load().Split(' ')[0];

    public static string F(double value, string format = "N0") => value.ToString(format, CultureInfo.InvariantCulture);
}
