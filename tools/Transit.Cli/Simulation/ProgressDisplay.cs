using System.Globalization;
using Spectre.Console;
using Transit.Simulation.Harness;

namespace Transit.Cli.Simulation;

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
