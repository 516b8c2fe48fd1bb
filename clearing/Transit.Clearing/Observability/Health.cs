using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using Transit.Clearing.Database;
using Transit.Clearing.Trust;

namespace Transit.Clearing.Observability;

/// <summary>Whether this node's job server is working. Readiness asks it; a node that runs no jobs registers none.</summary>
public interface IJobServerProbe
{
    bool IsRunning { get; }
}

/// <summary>Ready only when the embedded migrations are all recorded in the database.</summary>
internal sealed class MigrationsHealthCheck(NpgsqlDataSource dataSource) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var pending = await Migrator.PendingAsync(dataSource, cancellationToken);
        return pending.Count == 0
            ? HealthCheckResult.Healthy("schema current")
            : HealthCheckResult.Unhealthy($"{pending.Count} migration(s) not applied: {string.Join(", ", pending)}");
    }
}

/// <summary>
/// Ready only while the key directory opens, its documents verify and the everyday signing key is there: without
/// them the node can neither hand gates their trust documents nor sign deny-list deltas. What fails throws, and the
/// health check service reports the exception's message (it names the file).
/// </summary>
internal sealed class KeyDirectoryHealthCheck(OperatorKeys keys) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        keys.Open().EnsureCanSignEverydayDocuments();
        return Task.FromResult(HealthCheckResult.Healthy(keys.Path));
    }
}

/// <summary>Ready only while the job server runs, on a node configured to run jobs.</summary>
internal sealed class JobServerHealthCheck(IEnumerable<IJobServerProbe> probes) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var probe = probes.LastOrDefault();
        return Task.FromResult(
            probe is null ? HealthCheckResult.Healthy("this node runs no jobs (Clearing:RunJobs is false)")
            : probe.IsRunning ? HealthCheckResult.Healthy("running")
            : HealthCheckResult.Unhealthy("the job server is not running"));
    }
}

/// <summary><c>/health/live</c> and <c>/health/ready</c> (docs/operations.md, Monitoring).</summary>
public static class ClearingHealth
{
    private const string Ready = "ready";

    public static IServiceCollection AddClearingHealthChecks(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddNpgSql(name: "database", tags: [Ready], timeout: TimeSpan.FromSeconds(5))
            .AddCheck<MigrationsHealthCheck>("migrations", tags: [Ready])
            .AddCheck<JobServerHealthCheck>("jobs", tags: [Ready])
            .AddCheck<KeyDirectoryHealthCheck>("keys", tags: [Ready]);
        return services;
    }

    /// <summary>
    /// Live: the process answers (no check runs, so a database outage does not get the node restarted). Ready: every
    /// check passes; 503 otherwise, with each check's status and reason in the body.
    /// </summary>
    public static void MapClearingHealth(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/health/live", new() { Predicate = _ => false, ResponseWriter = WriteAsync })
            .RequireAuthorization(MonitoringAccess.Policy);
        app.MapHealthChecks("/health/ready", new() { Predicate = check => check.Tags.Contains(Ready), ResponseWriter = WriteAsync })
            .RequireAuthorization(MonitoringAccess.Policy);
    }

    private static Task WriteAsync(HttpContext http, HealthReport report)
    {
        http.Response.ContentType = "application/json; charset=utf-8";
        return http.Response.WriteAsJsonAsync(new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(
                e => e.Key, e => new { status = e.Value.Status.ToString(), description = e.Value.Description ?? e.Value.Exception?.Message }),
        });
    }
}
