using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Hangfire;
using Npgsql;
using Transit.Analytics.Web;
using Transit.Clearing.Access;
using Transit.Clearing.Analytics;
using Transit.Clearing.Charging;
using Transit.Clearing.Database;
using Transit.Clearing.Devices;
using Transit.Clearing.Fleet;
using Transit.Clearing.Gtfs;
using Transit.Clearing.Ingest;
using Transit.Clearing.Issuers;
using Transit.Clearing.Jobs;
using Transit.Clearing.Pipeline;
using Transit.Clearing.Observability;
using Transit.Clearing.Observability.Export;
using Transit.Clearing.Riders;
using Transit.Clearing.Settlement;
using Transit.Clearing.Trust;
using Transit.Wallet;
using Transit.Clearing.Pricing;

namespace Transit.Clearing.Hosting;

/// <summary>The database of a clearing process: the configured one, or the embedded cluster, migrated.</summary>
public sealed class ClearingDatabase : IAsyncDisposable
{
    private ClearingDatabase(NpgsqlDataSource dataSource, EmbeddedPostgres? embedded, string connectionString)
    {
        DataSource = dataSource;
        Embedded = embedded;
        ConnectionString = connectionString;
    }

    public NpgsqlDataSource DataSource { get; }

    /// <summary>The embedded cluster, when no connection string was configured.</summary>
    public EmbeddedPostgres? Embedded { get; }

    public string ConnectionString { get; }

    public static async Task<ClearingDatabase> OpenAsync(ClearingOptions options, CancellationToken cancellation = default)
    {
        EmbeddedPostgres? embedded = null;
        var connectionString = options.ConnectionString;
        if (string.IsNullOrEmpty(connectionString))
        {
            embedded = await EmbeddedPostgres.StartAsync(EmbeddedPostgres.DefaultRoot(options.DataFolder), cancellation: cancellation);
            connectionString = embedded.ConnectionString;
        }

        var database = new ClearingDatabase(NpgsqlDataSource.Create(connectionString), embedded, connectionString);
        try
        {
            await Migrator.ApplyAsync(database.DataSource, cancellation);
            await ClearingJobStorage.InstallAsync(database.DataSource, cancellation);
            return database;
        }
        catch
        {
            await database.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync();
        if (Embedded is not null)
        {
            await Embedded.DisposeAsync();
        }
    }
}

/// <summary>Wiring of the clearing service: the services, the two listeners and the endpoints.</summary>
public static class ClearingHost
{
    /// <summary>Registers the clearing services over <paramref name="database"/> (web host and command line alike).</summary>
    public static IServiceCollection AddClearingCore(this IServiceCollection services, ClearingOptions options, ClearingDatabase database)
    {
        services.AddSingleton(options);
        services.AddSingleton(database);
        services.AddSingleton(database.DataSource);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<OperatorKeys>();
        services.AddSingleton<TrustHistory>();
        services.AddSingleton<IssuerRegistry>();
        services.AddSingleton<ServiceCalendar>();
        services.AddSingleton<TapPartitions>();
        services.AddSingleton<IngestMetrics>();
        services.AddSingleton(_ => new ClearingMetrics(JobKinds.Monitored));
        services.AddSingleton<IngestService>();
        services.AddSingleton<RouteStops>();
        services.AddSingleton<DeviceRegistry>();
        services.AddSingleton<Reconciliation>();
        services.AddSingleton<FleetView>();
        services.AddSingleton<GtfsImporter>();
        services.AddSingleton<IPricerSource, FeedPricerSource>();
        services.AddSingleton<IFareEngineFactory, FareRulesEngineFactory>();
        services.AddSingleton<DayClearing>();
        services.AddSingleton<IPaymentProvider, SimulatedPaymentProvider>();
        services.AddSingleton<PaymentService>();
        services.AddSingleton<DenyListPublisher>();
        services.AddSingleton<IssuerAcceptancePublisher>();
        services.AddSingleton<IssuerDenyLists>();
        services.AddSingleton<BalanceCheck>();
        services.AddSingleton<Statements>();
        services.AddSingleton<IssuerStatements>();
        services.AddSingleton(provider => ClearingJobStorage.Create(database.DataSource, options));
        // Clients, dashboard and server all get the storage above from here, never from Hangfire's static JobStorage.Current.
        services.AddHangfire((provider, configuration) => HangfireLogs.Use(configuration, provider.GetService<ILoggerFactory>()));
        services.AddSingleton<JobLocks>();
        services.AddSingleton<JobScheduler>();
        services.AddSingleton<JobBoard>();
        services.AddSingleton<JobServer>();
        services.AddTransient<ClearingJobs>();
        services.AddSingleton<DayRunner>();
        services.AddSingleton<TokenStore>();
        services.AddSingleton<RiderTokenStore>();
        services.AddSingleton<RiderIssuer>();
        services.AddAnalytics(provider => ClearingAnalytics.Options(options, provider.GetRequiredService<ServiceCalendar>()), ClearingAnalytics.Secret(options));
        return services;
    }

    /// <summary>
    /// Configures a web host for clearing: opens (or starts) the database, registers everything, and listens on
    /// <paramref name="apiUrls"/> (operators' API) and on the mutual-TLS device port.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA2000", Justification = "The server certificate serves every TLS handshake until the process ends; the database is returned to the caller, which disposes it.")]
    public static async Task<ClearingDatabase> AddClearingAsync(this WebApplicationBuilder builder, ClearingOptions? options = null, IReadOnlyList<string>? apiUrls = null)
    {
        options ??= builder.Configuration.GetSection("Clearing").Get<ClearingOptions>() ?? new ClearingOptions();
        apiUrls ??= (builder.Configuration["urls"] ?? "http://localhost:8080").Split(';', StringSplitOptions.RemoveEmptyEntries);

        // The key directory is checked before the database starts: a refused start then has nothing to stop.
        var keys = new OperatorKeys(options);
        var directory = keys.Open();
        directory.EnsureCanSignEverydayDocuments();
        var authority = directory.OpenDeviceAuthority();
        var serverCertificate = X509Certificate2.CreateFromPemFile(directory.ServerCertificatePath, directory.ServerKeyPath);
        var database = await ClearingDatabase.OpenAsync(options);
        builder.AddClearingLoggingDefaults();
        builder.Services.AddClearingCore(options, database);
        builder.Services.AddSingleton<FleetMetrics>();
        builder.Services.AddSingleton<PrometheusExport>();
        builder.Services.AddClearingHealthChecks();
        builder.Services.AddProblemDetails(problems => problems.CustomizeProblemDetails = ApiProblems.Customize);
        builder.Services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.AddRequestDecompression();
        var authentication = builder.Services.AddAuthentication(BearerTokenHandler.SchemeName).AddScheme<AuthenticationSchemeOptions, BearerTokenHandler>(BearerTokenHandler.SchemeName, null);
        builder.Services.AddAuthorization(o => o.AddMonitoringPolicy());
        builder.Services.AddOpenApi();
        builder.Services.AddRiderApi(authentication, options);
        if (options.RunJobs)
        {
            builder.Services.AddHostedService(provider => provider.GetRequiredService<JobServer>());
            builder.Services.AddSingleton<IJobServerProbe>(provider => provider.GetRequiredService<JobServer>());
        }

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = 8 * 1024 * 1024;
            foreach (var url in apiUrls)
            {
                Listen(kestrel, new Uri(url.Replace("*", "0.0.0.0", StringComparison.Ordinal).Replace("+", "0.0.0.0", StringComparison.Ordinal)), serverCertificate);
            }

            kestrel.Listen(IPAddress.Parse(options.DeviceAddress), options.DevicePort, listen => listen.MarkDeviceListener().UseHttps(new HttpsConnectionAdapterOptions
            {
                ServerCertificate = serverCertificate,
                SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                ClientCertificateMode = ClientCertificateMode.RequireCertificate,
                // Only the device CA's certificates get through the handshake; registration and revocation are checked per request.
                ClientCertificateValidation = (certificate, _, _) => authority.Issued(certificate, TimeProvider.System.GetUtcNow()),
            }));
        });
        return database;
    }

    /// <summary>Maps every endpoint group and prepares what the endpoints need.</summary>
    public static async Task<WebApplication> MapClearingAsync(this WebApplication app)
    {
        // Listening starts with the exporter: what happens before it is not measured, so it is made before any request.
        app.Services.GetRequiredService<PrometheusExport>();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseListenerSeparation();
        app.UseRequestDecompression();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        app.MapDeviceEndpoints().MapTapUploadEndpoints();
        app.MapStatementEndpoints();
        app.MapIssuerEndpoints();
        app.MapDayEndpoints();
        app.MapFleetEndpoints();
        app.MapAccountEndpoints();
        app.MapIssuerDenyListEndpoints();
        app.MapClearingHealth();
        app.MapClearingMetrics();
        app.MapRiderEndpoints();
        app.MapWallet();
        app.MapJobDashboard();
        var keys = app.Services.GetRequiredService<OperatorKeys>().Open();
        if (keys.HasRootKey)
        {
            app.Logger.LogWarning(
                "the key directory {Path} holds the root private key: whoever takes this server can sign key sets every gate trusts. "
                + "Serve from a copy without it ('transit keys export-server') and keep the root offline", keys.Path);
        }

        await app.Services.GetRequiredService<TrustHistory>().RefreshAsync(CancellationToken.None);
        var calendar = app.Services.GetRequiredService<ServiceCalendar>();
        await calendar.LoadAsync(CancellationToken.None);
        app.MapAnalyticsEndpoints(ClearingAnalytics.Options(app.Services.GetRequiredService<ClearingOptions>(), calendar));
        app.MapAnalyticsDashboard();
        app.MapOpenApi();
        return app;
    }

    /// <summary>A service provider with the clearing services but no web host, for the command line.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA2000", Justification = "A command's services live until the command exits; an embedded cluster it started keeps running on purpose, and the next command attaches to it.")]
    public static async Task<ServiceProvider> BuildServicesAsync(ClearingOptions options, LogLevel logLevel = LogLevel.Warning)
    {
        var database = await ClearingDatabase.OpenAsync(options);
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.AddSimpleConsole(c => c.SingleLine = true).SetMinimumLevel(logLevel));
        services.AddClearingCore(options, database);
        var provider = services.BuildServiceProvider();
        try
        {
            await provider.GetRequiredService<ServiceCalendar>().LoadAsync(CancellationToken.None);
            return provider;
        }
        catch
        {
            // The provider does not dispose the database it was handed.
            await provider.DisposeAsync();
            await database.DisposeAsync();
            throw;
        }
    }

    private static void Listen(KestrelServerOptions kestrel, Uri url, X509Certificate2 certificate)
    {
        Action<ListenOptions> configure = url.Scheme == "https" ? l => l.UseHttps(certificate) : _ => { };
        if (url.Host == "localhost")
        {
            kestrel.ListenLocalhost(url.Port, configure);
        }
        else
        {
            kestrel.Listen(IPAddress.Parse(url.Host.Trim('[', ']')), url.Port, configure);
        }
    }
}
