using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Transit.Clearing.Jobs;
using Transit.Clearing.Reports;
using Transit.Clearing.Settlement;

namespace Transit.Simulation.Harness;

/// <summary>Runs one day's clearing to the end on Hangfire (the day's pipeline: clear, pay, balance check, reconcile, close analytics).</summary>
public static class DayRun
{
    public static async Task<(string Text, bool Balanced)> RunAsync(IServiceProvider services, DateOnly day, CancellationToken cancellation)
    {
        var (succeeded, outcome, _) = await services.GetRequiredService<DayRunner>().RunAsync(day, cancellation);
        var balance = await services.GetRequiredService<BalanceCheck>().ComputeAsync(day, cancellation);
        var payments = (await new DayFigures(services.GetRequiredService<NpgsqlDataSource>()).ChargesAsync(day, cancellation))
            .Select(c => FormattableString.Invariant($"{c.Status} {c.Count} ({c.Amount})")).ToList();
        var text = $"""
            clearing {outcome}
            charges: {(payments.Count == 0 ? "none" : string.Join(", ", payments))}
            books: {balance}
            """;
        return (text, succeeded && balance.Balanced);
    }
}
