using System.Globalization;
using Spectre.Console;

namespace Transit.Cli.Simulation;

/// <summary>One step of a run (starting gates, playing a day, uploading, clearing) with its count of work done.</summary>
internal sealed class ProgressStep(string name, long total)
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
    internal (bool Finished, long Done) Printed { get; set; }

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

/// <summary>The steps of a simulation run, updated by the run and shown by <see cref="ProgressDisplay"/>.</summary>
internal sealed class SimulationProgress
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

/// <summary>
/// Shows a run's progress while it works: live bars on a terminal (Spectre.Console), or a line per step every few
/// seconds when the output is a file or a pipe (CI logs, tests).
/// </summary>
internal static class ProgressDisplay
{
    public static async Task<T> RunAsync<T>(SimulationProgress progress, Func<Task<T>> work)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive)
        {
            return await PlainAsync(progress, work);
        }

        T result = default!;
        await AnsiConsole.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .StartAsync(async context =>
            {
                var tasks = new Dictionary<ProgressStep, ProgressTask>();
                var running = work();
                while (true)
                {
                    var done = running.IsCompleted;
                    foreach (var step in progress.Steps)
                    {
                        if (!tasks.TryGetValue(step, out var task))
                        {
                            tasks[step] = task = context.AddTask(Markup.Escape(step.Name), maxValue: Math.Max(1, step.Total));
                        }

                        task.MaxValue = Math.Max(1, step.Total);
                        task.Value = Math.Min(step.Done, task.MaxValue);
                        task.Description = Markup.Escape(Describe(step));
                        if (step.Finished && !task.IsFinished)
                        {
                            task.Value = task.MaxValue;
                            task.StopTask();
                        }
                    }

                    if (done)
                    {
                        break;
                    }

                    context.Refresh();
                    await Task.WhenAny(running, Task.Delay(150));
                }

                result = await running;
            });
        return result;
    }

    private static async Task<T> PlainAsync<T>(SimulationProgress progress, Func<Task<T>> work)
    {
        var running = work();
        var last = DateTime.UtcNow;
        while (true)
        {
            var done = running.IsCompleted;
            var periodic = DateTime.UtcNow - last > TimeSpan.FromSeconds(5);
            foreach (var step in progress.Steps)
            {
                var before = step.Printed;
                if ((step.Finished && !before.Finished) || (periodic && !step.Finished && step.Done != before.Done))
                {
                    Console.WriteLine($"  {Describe(step)}: {step.Done.ToString("N0", CultureInfo.InvariantCulture)}/{step.Total.ToString("N0", CultureInfo.InvariantCulture)}{(step.Finished ? " done" : "")}");
                    step.Printed = (step.Finished, step.Done);
                }
            }

            if (periodic)
            {
                last = DateTime.UtcNow;
            }

            if (done)
            {
                return await running;
            }

            await Task.WhenAny(running, Task.Delay(250));
        }
    }

    private static string Describe(ProgressStep step) => step.Detail.Length == 0 ? step.Name : $"{step.Name} ({step.Detail})";
}
