using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Transit.EndToEnd.Tests;

/// <summary>How big the simulated days are: a small day in CI, the demo's size with <c>TRANSIT_TEST_SIZE=full</c>.</summary>
internal static class TestSize
{
    public static bool Full => Transit.Testing.TestSize.Full;

    public static int Riders => Full ? 12_500 : 400;

    public static int PlaySeconds => Full ? 120 : 15;

    public static TimeSpan Timeout => Full ? TimeSpan.FromMinutes(30) : TimeSpan.FromMinutes(8);
}

/// <summary>The real <c>transit</c> command as a child process.</summary>
internal sealed class TransitProcess : IDisposable
{
    public static readonly string Dll = TransitCommand.Dll;

    private readonly StringBuilder _output = new();
    private readonly StringBuilder _error = new();

    private TransitProcess(Process process) => Process = process;

    public Process Process { get; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public string Error
    {
        get
        {
            lock (_error)
            {
                return _error.ToString();
            }
        }
    }

    public static TransitProcess Start(params string[] args)
    {
        var process = new TransitProcess(Process.Start(TransitCommand.StartInfo(args))!);
        process.Process.OutputDataReceived += (_, e) => Append(process._output, e.Data);
        process.Process.ErrorDataReceived += (_, e) => Append(process._error, e.Data);
        process.Process.BeginOutputReadLine();
        process.Process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Waits for the exit; kills the whole tree when it takes longer than <paramref name="timeout"/>.</summary>
    public async Task<int> ExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await Process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            Process.Kill(entireProcessTree: true);
            throw new TimeoutException($"transit did not exit within {timeout.TotalMinutes:F0} min:\n{Output}\n{Error}");
        }

        Process.WaitForExit();
        return Process.ExitCode;
    }

    /// <summary>Waits until the output contains <paramref name="text"/>.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            if (Process.HasExited || DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"no '{text}' in the output of transit:\n{Output}\n{Error}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Sends a signal (SIGTERM = 15, SIGINT = 2) as a terminal or a service manager would.</summary>
    public void Signal(int signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", Process.Id.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    /// <summary>Every live process whose command line mentions <paramref name="text"/> (a run folder), but not this test.</summary>
    public static List<string> ProcessesMentioning(string text)
    {
        var found = new List<string>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), CultureInfo.InvariantCulture, out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }

            try
            {
                var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                if (cmdline.Contains(text, StringComparison.Ordinal))
                {
                    found.Add($"{pid}: {cmdline}");
                }
            }
            catch (IOException)
            {
                // The process ended while we looked.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return found;
    }

    public void Dispose()
    {
        if (!Process.HasExited)
        {
            Process.Kill(entireProcessTree: true);
        }

        Process.Dispose();
    }

    private static void Append(StringBuilder to, string? line)
    {
        if (line is not null)
        {
            lock (to)
            {
                to.AppendLine(line);
            }
        }
    }
}

/// <summary>The CSV files of a simulation's ground truth (docs/simulation.md), as rows of named fields.</summary>
internal sealed class TruthFiles(string folder)
{
    public IReadOnlyList<Row> Riders { get; } = Read(folder, "riders.csv");

    public IReadOnlyList<Row> Legs { get; } = Read(folder, "legs.csv");

    public IReadOnlyList<Row> Taps { get; } = Read(folder, "taps.csv");

    public IReadOnlyList<Row> Blocked { get; } = Read(folder, "blocked.csv");

    public IReadOnlyList<Row> Days { get; } = Read(folder, "days.csv");

    private static List<Row> Read(string folder, string name)
    {
        var lines = File.ReadAllLines(Path.Combine(folder, name));
        var header = lines[0].Split(',');
        return [.. lines.Skip(1).Select(l => new Row(header, l.Split(',')))];
    }

    internal sealed class Row(string[] header, string[] fields)
    {
        public string this[string column] => fields[Array.IndexOf(header, column)];

        public DateOnly Day => DateOnly.ParseExact(this["day"], "yyyy-MM-dd", CultureInfo.InvariantCulture);

        public DateTimeOffset Time(string column) => DateTimeOffset.Parse(this[column], CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);

        public long Long(string column) => long.Parse(this[column], CultureInfo.InvariantCulture);
    }
}

/// <summary>One whole city at a time: each test starts a PostgreSQL, a clearing server and twenty gate agents.</summary>
[CollectionDefinition(Name)]
public sealed class CityCollection
{
    public const string Name = "city";
}
