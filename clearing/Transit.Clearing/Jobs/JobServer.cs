using Hangfire;
using Hangfire.AspNetCore;
using Hangfire.Common;
using Hangfire.Server;
using Hangfire.PostgreSql;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Transit.Clearing.Observability;

namespace Transit.Clearing.Jobs;

/// <summary>
/// Hangfire's storage for clearing: its own schema (<c>hangfire</c>) in clearing's database, reached through
/// clearing's <see cref="NpgsqlDataSource"/>. The schema is installed by <see cref="InstallAsync"/> when the database
/// opens, under an advisory lock, so that processes starting together never race on its DDL.
/// </summary>
public static class ClearingJobStorage
{
    public const string Schema = "hangfire";

    private const long InstallLock = 0x5452_414E_5349_5402;

    public static JobStorage Create(NpgsqlDataSource dataSource, ClearingOptions options) =>
        new PostgreSqlStorage(new DataSourceConnections(dataSource), new PostgreSqlStorageOptions
        {
            SchemaName = Schema,
            PrepareSchemaIfNecessary = false,
            // Workers wait on LISTEN/NOTIFY rather than polling: a continuation starts as soon as its parent succeeded.
            EnableLongPolling = true,
            QueuePollInterval = options.JobPollInterval,
            // A running job's server touches it every fifth of the timeout; a killed server's job is fetched again after it.
            UseSlidingInvisibilityTimeout = true,
            InvisibilityTimeout = options.JobInvisibilityTimeout,
        });

    /// <summary>Installs or upgrades Hangfire's schema, one process at a time.</summary>
    public static async Task InstallAsync(NpgsqlDataSource dataSource, CancellationToken cancellation)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellation);
        await using (var take = new NpgsqlCommand($"SELECT pg_advisory_lock({InstallLock})", connection))
        {
            await take.ExecuteNonQueryAsync(cancellation);
        }

        PostgreSqlObjectsInstaller.Install(connection, Schema);
        await using var release = new NpgsqlCommand($"SELECT pg_advisory_unlock({InstallLock})", connection);
        await release.ExecuteNonQueryAsync(cancellation);
    }

    private sealed class DataSourceConnections(NpgsqlDataSource dataSource) : IConnectionFactory
    {
        public NpgsqlConnection GetOrCreateConnection() => dataSource.CreateConnection();
    }
}

/// <summary>
/// The Hangfire server of a clearing process (web host and <c>transit clearing run-day</c> alike): its workers,
/// and the recurring jobs it (re)declares when it starts. <see cref="IsRunning"/> answers whether the server is up
/// and its heartbeat is recent, for a readiness check.
/// </summary>
public sealed class JobServer(IServiceProvider services, JobStorage storage, ClearingOptions options, ServiceCalendar calendar) : IHostedService, IAsyncDisposable, IJobServerProbe
{
    /// <summary>How recent the server's heartbeat must be for readiness (Hangfire beats every 30 s).</summary>
    private static readonly TimeSpan HeartbeatWithin = TimeSpan.FromMinutes(1);

    private BackgroundJobServer? _server;
    private DateTime _startedAt;
    private readonly string _name = $"clearing-{Environment.ProcessId}-{Guid.NewGuid():N}"[..24];

    /// <summary>Whether this process's server has been started (and not stopped).</summary>
    public bool Started => _server is not null;

    /// <summary>Whether this process's server runs and Hangfire's storage has seen its heartbeat within <paramref name="within"/>.</summary>
    public bool IsRunning(TimeSpan within)
    {
        if (_server is null)
        {
            return false;
        }

        var now = DateTime.UtcNow;
        return storage.GetMonitoringApi().Servers().Any(s => s.Name.StartsWith(_name, StringComparison.OrdinalIgnoreCase) && s.Heartbeat is { } beat && now - beat <= within);
    }

    /// <summary>For readiness: started, and either heard in storage recently or still within its first heartbeat.</summary>
    bool IJobServerProbe.IsRunning => Started && (DateTime.UtcNow - _startedAt < HeartbeatWithin || IsRunning(HeartbeatWithin));

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await calendar.LoadAsync(cancellationToken);
        services.GetRequiredService<JobScheduler>().DeclareRecurring();
        _server = new BackgroundJobServer(
            new BackgroundJobServerOptions
            {
                ServerName = _name,
                WorkerCount = Math.Max(1, options.Workers),
                SchedulePollingInterval = options.JobPollInterval,
                Activator = new AspNetCoreJobActivator(services.GetRequiredService<IServiceScopeFactory>()),
                // This server's own filter next to the global ones: several clearing hosts in one process keep their metrics apart.
                FilterProvider = new JobFilterProviderCollection(JobFilterProviders.Providers, new JobFilterCollection { new FailedRunCounter(services.GetRequiredService<ClearingMetrics>()) }),
            },
            storage);
        _startedAt = DateTime.UtcNow;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is { } server)
        {
            _server = null;
            server.SendStop();
            await server.WaitForShutdownAsync(cancellationToken);
            server.Dispose();
        }
    }

    public ValueTask DisposeAsync()
    {
        _server?.Dispose();
        _server = null;
        return ValueTask.CompletedTask;
    }
}

/// <summary>Counts every run of a job that ended in an error (each attempt, retried or not) in <c>jobs_failed_total{kind}</c>.</summary>
internal sealed class FailedRunCounter(ClearingMetrics metrics) : IServerFilter
{
    public void OnPerforming(PerformingContext context)
    {
    }

    public void OnPerformed(PerformedContext context)
    {
        // A run stopped by shutdown is not a failure: Hangfire runs it again on the next server.
        if (context.Exception is { } error && !context.ExceptionHandled && error.InnerException is not OperationCanceledException && error is not JobAbortedException)
        {
            metrics.JobFailed(JobBoard.KindOf(context.BackgroundJob.Job.Method.Name));
        }
    }
}
