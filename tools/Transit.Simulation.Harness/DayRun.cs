using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Transit.Clearing.Database;
using Transit.Clearing.Jobs;
using Transit.Clearing.Settlement;

namespace Transit.Simulation.Harness;

/// <summary>Runs one day's clearing to the end on Hangfire (the day's pipeline: clear, pay, balance check, reconcile, close analytics).</summary>
public static class DayRun
{
    public static async Task<(string Text, bool Balanced)> RunAsync(IServiceProvider services, DateOnly day, CancellationToken cancellation)
    {
        var (succeeded, outcome, _) = await services.GetRequiredService<DayRunner>().RunAsync(day, cancellation);
        var dataSource = services.GetRequiredService<NpgsqlDataSource>();
        var balance = await services.GetRequiredService<BalanceCheck>().ComputeAsync(day, cancellation);
        var payments = await Sql.ListAsync(dataSource, "SELECT status, count(*), sum(amount)::bigint FROM charges WHERE service_day = $1 GROUP BY 1 ORDER BY 1",
            r => $"{r.GetString(0)} {r.GetInt64(1)} ({r.GetInt64(2)})", cancellation, day);
        var text = $"""
            clearing {outcome}
            charges: {(payments.Count == 0 ? "none" : string.Join(", ", payments))}
            books: {balance}
            """;
        return (text, succeeded && balance.Balanced);
    }
}
