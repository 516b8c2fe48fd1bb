using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Transit.GateAgent.Clearing;
using Transit.GateAgent.Configuration;
using Transit.GateAgent.Gps;
using Transit.GateAgent.Hardware;
using Transit.GateAgent.Journal;
using Transit.GateAgent.Loopback;
using Transit.GateAgent.Pipeline;
using Transit.GateAgent.Scanners;
using Transit.GateAgent.Simulation;
using Transit.GateAgent.Status;
using Transit.GateAgent.Trust;
using Transit.RideCodes;

namespace Transit.GateAgent;

/// <summary>The agent could not start; the message names the setting or resource and what to do.</summary>
public sealed class GateStartupException : Exception
{
    /// <summary>Creates the exception.</summary>
    public GateStartupException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public GateStartupException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public GateStartupException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Builds and runs the gate agent: a Generic Host with one background service per stage (scanner inputs, verify,
/// rules, journal, output, upload, sync, status).
/// </summary>
public static class GateAgentHost
{
    /// <summary>
    /// Runs the agent until <paramref name="cancellation"/> fires (Ctrl+C, SIGTERM) or a fatal error. Writes one
    /// line <c>ready {json}</c> to <paramref name="readyOutput"/> once every input listens, then returns 0.
    /// </summary>
    /// <exception cref="GateStartupException">Configuration, trust, journal or hardware unusable.</exception>
    public static async Task<int> RunAsync(string configPath, TextWriter readyOutput, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(readyOutput);
        var started = Stopwatch.StartNew();
        using var host = Build(configPath);
        TimeSpan warmup;
        try
        {
            warmup = DecisionWarmup.Run(host.Services.GetRequiredService<GateState>(), host.Services.GetRequiredService<TimeProvider>());
        }
        catch (InvalidOperationException ex)
        {
            throw new GateStartupException(ex.Message, ex);
        }

        try
        {
            await host.StartAsync(cancellation).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            throw new GateStartupException(ex.Message, ex);
        }

        try
        {
            warmup += await DecisionWarmup.RehearseAsync(
                host.Services.GetRequiredService<GatePipeline>(), host.Services.GetRequiredService<GateState>(), host.Services.GetRequiredService<TimeProvider>(), cancellation).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException)
        {
            throw new GateStartupException(ex.Message, ex);
        }

        var endpoints = host.Services.GetRequiredService<GateEndpoints>();
        var journal = host.Services.GetRequiredService<TapJournal>();
        var state = host.Services.GetRequiredService<GateState>();
        await readyOutput.WriteLineAsync(string.Create(
            CultureInfo.InvariantCulture,
            $$"""ready {"deviceId":"{{state.Context.DeviceId}}","scannerPort":{{Json(endpoints.ScannerPort)}},"statusPort":{{Json(endpoints.StatusPort)}},"highestSequence":{{journal.LastSeq}},"keySetVersion":{{state.Trust.KeySet.Version}},"denyListVersion":{{state.Trust.DenyList.Version}},"startMillis":{{started.ElapsedMilliseconds}},"warmupMillis":{{(long)warmup.TotalMilliseconds}}}""")).ConfigureAwait(false);
        await readyOutput.FlushAsync(cancellation).ConfigureAwait(false);
        SystemdNotifier.Notify("READY=1");
        var log = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Transit.GateAgent");
        log.LogInformation("gate {Device} ready in {Millis} ms (decision path warmed in {WarmupMillis} ms); journal on SQLite {Version} ({Library}); {Gc} GC",
            state.Context.DeviceId, started.ElapsedMilliseconds, (long)warmup.TotalMilliseconds, SqliteLibrary.Version, SqliteLibrary.Description, GCSettings.IsServerGC ? "server" : "workstation");
        if (GCSettings.IsServerGC)
        {
            log.LogWarning("the gate runs with server GC, which keeps more memory and threads than a gate needs: start it with DOTNET_gcServer=0 (transit-gate.service does)");
        }

        try
        {
            await host.WaitForShutdownAsync(cancellation).ConfigureAwait(false);
        }
        finally
        {
            SystemdNotifier.Notify("STOPPING=1");
            using var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await host.StopAsync(stopTimeout.Token).ConfigureAwait(false);
        }

        return 0;
    }

    /// <summary>Builds the host; the journal, trust and hardware are opened here so that errors surface at once.</summary>
    /// <exception cref="GateStartupException">Configuration, trust, journal or hardware unusable.</exception>
    public static IHost Build(string configPath)
    {
        var configDirectory = Path.GetDirectoryName(Path.GetFullPath(configPath))!;
        IConfigurationRoot configuration;
        GateSettings settings;
        try
        {
            configuration = GateSettingsLoader.BuildConfiguration(configPath);
            settings = GateSettingsLoader.Load(configuration, configDirectory);
        }
        catch (GateConfigurationException ex)
        {
            throw new GateStartupException(ex.Message, ex);
        }

        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings
        {
            DisableDefaults = true,
            ContentRootPath = configDirectory,
            ApplicationName = "transit-gate",
        });
        builder.Configuration.AddConfiguration(configuration);
        ConfigureLogging(builder.Logging, configuration);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10));

        // A simulation plays a compressed day through a real agent by setting its clock (docs/gate-install.md).
        var time = settings.Simulation.Clock == "manual" ? new SimulationClock(TimeProvider.System) : TimeProvider.System;
        var services = builder.Services;
        services.AddSingleton(time);
        services.AddSingleton(settings);
        services.AddSingleton(settings.Device);
        services.AddSingleton(settings.Clearing);
        services.AddSingleton(settings.Journal);
        services.AddSingleton(settings.Hardware);
        services.AddSingleton(_ => TapJournal.Open(settings.Journal.Path!, settings.Device.Id!));
        services.AddSingleton(sp => GateState.Load(settings, sp.GetRequiredService<TapJournal>().Documents, time, sp.GetRequiredService<ILogger<GateState>>()));
        services.AddSingleton(sp => GateHardware.Create(settings.Hardware, sp.GetRequiredService<SimulatedHardwareLog>(), sp.GetRequiredService<ILogger<GateHardware>>()));
        services.AddSingleton<SimulatedHardwareLog>();
        services.AddSingleton<GateMetrics>();
        services.AddSingleton(_ => new GateHealth(settings.Clearing.AlarmAfterFailures));
        services.AddSingleton<ScanInbox>();
        services.AddSingleton<GatePipeline>();
        services.AddSingleton<GateEndpoints>();
        services.AddSingleton<GateController>();

        // Stages start in this order and stop in reverse: the journal and rules are up before any input listens.
        services.AddHostedService<JournalStage>();
        services.AddHostedService<OutputStage>();
        services.AddHostedService<RulesStage>();
        services.AddHostedService<VerifyStage>();
        services.AddHostedService<JournalMaintenanceService>();
        services.AddHostedService<DiskSpaceMonitor>();
        if (settings.Clearing.Url is { Length: > 0 })
        {
            services.AddSingleton(_ => new ClearingClient(settings.Clearing));
            services.AddSingleton<UploadService>();
            services.AddHostedService(sp => sp.GetRequiredService<UploadService>());
            services.AddSingleton<SyncService>();
            services.AddHostedService(sp => sp.GetRequiredService<SyncService>());
            services.AddHostedService<HeartbeatService>();
        }

        if (settings.Status.Port is { } statusPort)
        {
            services.AddHostedService(sp => ActivatorUtilities.CreateInstance<StatusServer>(sp, statusPort));
        }

        if (settings.Scanner.Tcp.Port is { } tcpPort)
        {
            services.AddHostedService(sp => ActivatorUtilities.CreateInstance<TcpScannerService>(sp, tcpPort));
        }

        foreach (var serial in settings.Scanner.Serial)
        {
            services.AddHostedService(sp => ActivatorUtilities.CreateInstance<SerialScannerService>(sp, serial));
        }

        foreach (var input in settings.Scanner.InputEvents)
        {
            services.AddHostedService(sp => ActivatorUtilities.CreateInstance<InputEventScannerService>(sp, input));
        }

        if (settings.Gps.Device is { Length: > 0 })
        {
            // GPS silence is measured on the machine's clock even when a simulation drives the gate's clock.
            services.AddSingleton(sp => GpsTracker.Create(settings.Gps, sp.GetRequiredService<GateState>(), TimeProvider.System, sp.GetRequiredService<ILogger<GpsTracker>>()));
            services.AddHostedService(sp => ActivatorUtilities.CreateInstance<GpsReceiverService>(sp, settings.Gps));
        }

        var host = builder.Build();
        try
        {
            // Opened now rather than on first use, so that a bad journal, trust file or GPIO chip stops the start
            // with a message naming it, before any service runs.
            try
            {
                host.Services.GetRequiredService<TapJournal>();
            }
            catch (Exception ex) when (ex is InvalidOperationException or Microsoft.Data.Sqlite.SqliteException or IOException or UnauthorizedAccessException)
            {
                throw new GateStartupException($"Journal:Path {settings.Journal.Path}: {ex.Message}", ex);
            }

            try
            {
                host.Services.GetRequiredService<GateState>();
                host.Services.GetRequiredService<GateHardware>();
                host.Services.GetService<GpsTracker>();
            }
            catch (Exception ex) when (ex is TrustDocumentException or HardwareException or GateConfigurationException)
            {
                throw new GateStartupException(ex.Message, ex);
            }

            return host;
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }

    private static void ConfigureLogging(ILoggingBuilder logging, IConfiguration configuration)
    {
        logging.AddConfiguration(configuration.GetSection("Logging"));
        if (configuration.GetSection("Logging:LogLevel").GetChildren().Any() is false)
        {
            logging.SetMinimumLevel(LogLevel.Information);
        }

        // Structured (JSON) logs on standard error, one object a line; standard output carries only the ready line.
        // Logging:Console:FormatterName=simple switches to plain text for a developer at a terminal.
        if (string.Equals(configuration["Logging:Console:FormatterName"], ConsoleFormatterNames.Simple, StringComparison.OrdinalIgnoreCase))
        {
            logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
                o.UseUtcTimestamp = true;
            });
        }
        else
        {
            logging.AddJsonConsole(o =>
            {
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                o.UseUtcTimestamp = true;
            });
        }

        logging.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
    }

    private static string Json(int? port) => port?.ToString(CultureInfo.InvariantCulture) ?? "null";
}
