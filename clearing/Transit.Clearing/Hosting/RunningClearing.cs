using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Transit.Clearing.Hosting;

/// <summary>A clearing server started in this process (command line, tests, benchmarks, demo).</summary>
public sealed class RunningClearing : IAsyncDisposable
{
    private RunningClearing(WebApplication app, ClearingDatabase database)
    {
        App = app;
        Database = database;
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        DeviceUrl = new Uri(addresses.Last(a => a.StartsWith("https:", StringComparison.Ordinal)));
        ApiUrls = [.. addresses.Where(a => a != DeviceUrl.ToString().TrimEnd('/')).Select(a => new Uri(a))];
    }

    public WebApplication App { get; }

    public ClearingDatabase Database { get; }

    public IServiceProvider Services => App.Services;

    /// <summary>Where the operators' API listens.</summary>
    public IReadOnlyList<Uri> ApiUrls { get; }

    /// <summary>Where the mutual-TLS device API listens.</summary>
    public Uri DeviceUrl { get; }

    /// <summary>Starts clearing with <paramref name="options"/>, the API on <paramref name="apiUrls"/> (port 0: any free port).</summary>
    /// <param name="map">Maps endpoints of the host's own (the demo's gate scanner) beside clearing's, before it listens.</param>
    public static async Task<RunningClearing> StartAsync(
        ClearingOptions options, IReadOnlyList<string> apiUrls, bool logToConsole = false, Action<WebApplicationBuilder>? configure = null,
        Action<WebApplication>? map = null, CancellationToken cancellation = default)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory, Args = [] });
        if (!logToConsole)
        {
            builder.Logging.ClearProviders();
        }

        var database = await builder.AddClearingAsync(options, apiUrls);
        WebApplication? app = null;
        try
        {
            configure?.Invoke(builder);
            app = builder.Build();
            await app.MapClearingAsync();
            map?.Invoke(app);
            await app.StartAsync(cancellation);
            return new RunningClearing(app, database);
        }
        catch
        {
            // Every way out of a refused start stops what it started, the embedded PostgreSQL above all.
            if (app is not null)
            {
                await app.DisposeAsync();
            }

            await database.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// An HTTPS client for a device listener: presents the device's certificate (PEM, when given) and trusts only
    /// server certificates issued by the operator's device CA.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA2000", Justification = "The certificates are used by the client's handshakes for as long as the client lives; the client's owner disposes the client.")]
    public static HttpClient DeviceClient(Uri deviceUrl, string caCertificatePath, string? certificatePath, string? keyPath)
    {
        var ca = X509Certificate2.CreateFromPem(File.ReadAllText(caCertificatePath));
        var certificate = certificatePath is null ? null : X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
        return new HttpClient(new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = certificate is null ? null : [certificate],
                // Offer the device certificate whatever CA names the server lists.
                LocalCertificateSelectionCallback = (_, _, _, _, _) => certificate!,
                RemoteCertificateValidationCallback = (_, server, _, _) =>
                {
                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.Add(ca);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    return server is not null && chain.Build(new X509Certificate2(server));
                },
            },
        })
        { BaseAddress = deviceUrl, Timeout = TimeSpan.FromMinutes(5) };
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
        await Database.DisposeAsync();
    }
}
