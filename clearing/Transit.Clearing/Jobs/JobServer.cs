using Hangfire;
using Hangfire.AspNetCore;
using Hangfire.PostgreSql;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

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
public sealed class JobServer(IServiceProvider services, JobStorage storage, ClearingOptions options, ServiceCalendar calendar) : IHostedService, IAsyncDisposable
{
    private BackgroundJobServer? _server;
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
            },
            storage);
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
