namespace Transit.Simulation.Harness;

/// <summary>One step of a run (starting gates, playing a day, uploading, clearing) with its count of work done.</summary>
public sealed class ProgressStep(string name, long total)
{
    private long _done;
    private string _detail = "";

    public string Name { get; } = name;

    public long Total { get; set; } = total;

    public long Done => Interlocked.Read(ref _done);

    public string Detail
    {
        get => Volatile.Read(ref _detail);
        set => Volatile.Write(ref _detail, value);
    }

    public bool Finished { get; private set; }

    /// <summary>What a plain (line by line) display last printed of this step.</summary>
    public (bool Finished, long Done) Printed { get; set; }

    public void Add(long count = 1) => Interlocked.Add(ref _done, count);

    public void Set(long done) => Interlocked.Exchange(ref _done, done);

    public void Finish(string? detail = null)
    {
        if (detail is not null)
        {
            Detail = detail;
        }

        Set(Math.Max(Done, Total));
        Finished = true;
    }
}

/// <summary>The steps of a simulation run, updated by the run and shown by the command line's progress display.</summary>
public sealed class SimulationProgress
{
    private readonly List<ProgressStep> _steps = [];

    public ProgressStep Begin(string name, long total)
    {
        var step = new ProgressStep(name, total);
        lock (_steps)
        {
            _steps.Add(step);
        }

        return step;
    }

    public IReadOnlyList<ProgressStep> Steps
    {
        get
        {
            lock (_steps)
            {
                return [.. _steps];
            }
        }
    }
}
