namespace Transit.Simulation.Harness.Bench;

/// <summary>
/// CPU time (user + system) spent by this process and by a PostgreSQL cluster between <see cref="Start"/> and
/// <see cref="Stop"/>, read from /proc. PostgreSQL's share is the postmaster, its live children, and the children it
/// reaped in between (their time moves to the postmaster's child counters).
/// </summary>
public sealed class CpuMeter
{
    private const double TicksPerSecond = 100; // USER_HZ, fixed at 100 on Linux
    private readonly int? _postmaster;
    private readonly (double Process, double Postgres) _start;

    private CpuMeter(int? postmaster)
    {
        _postmaster = postmaster;
        _start = Read();
    }

    public static CpuMeter Start(string? dataDirectory)
    {
        int? postmaster = null;
        var pidFile = dataDirectory is null ? null : Path.Combine(dataDirectory, "postmaster.pid");
        if (pidFile is not null && File.Exists(pidFile) && int.TryParse(File.ReadLines(pidFile).First(), System.Globalization.CultureInfo.InvariantCulture, out var pid))
        {
            postmaster = pid;
        }

        return new CpuMeter(postmaster);
    }

    /// <summary>CPU-seconds of this process and of PostgreSQL since <see cref="Start"/>.</summary>
    public (double Process, double Postgres) Stop()
    {
        var end = Read();
        return (end.Process - _start.Process, end.Postgres - _start.Postgres);
    }

    private (double Process, double Postgres) Read()
    {
        var self = Stat("self");
        var process = self is null ? 0 : self.Value.User + self.Value.System;
        double postgres = 0;
        if (_postmaster is { } postmaster && OperatingSystem.IsLinux())
        {
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                if (Stat(Path.GetFileName(dir)) is { } stat && (stat.Pid == postmaster || stat.Parent == postmaster))
                {
                    postgres += stat.User + stat.System + (stat.Pid == postmaster ? stat.Children : 0);
                }
            }
        }

        return (process / TicksPerSecond, postgres / TicksPerSecond);
    }

    private static (int Pid, int Parent, long User, long System, long Children)? Stat(string pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/stat");
            // The command name (field 2) may hold spaces; every field after its closing parenthesis is numeric.
            var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
            var culture = System.Globalization.CultureInfo.InvariantCulture;
            return (
                pid == "self" ? Environment.ProcessId : int.Parse(pid, culture), int.Parse(fields[1], culture),
                long.Parse(fields[11], culture), long.Parse(fields[12], culture), long.Parse(fields[13], culture) + long.Parse(fields[14], culture));
        }
        catch (Exception ex) when (ex is IOException or FormatException or UnauthorizedAccessException or IndexOutOfRangeException)
        {
            return null;
        }
    }
}
