using Microsoft.Extensions.DependencyInjection;
using Transit.Clearing;
using Transit.Clearing.Database;
using Transit.Clearing.Gtfs;
using Transit.RideCodes;
using Transit.RideCodes.KeyStore;
using Transit.Clearing.Hosting;

namespace Transit.Simulation.Harness.Bench;

/// <summary>A clearing server on a private embedded cluster in a temporary folder, for benchmarks.</summary>
public sealed class BenchEnvironment : IAsyncDisposable
{
    private readonly List<HttpClient> _clients = [];

    private BenchEnvironment(string folder, RunningClearing server, OperatorKeyDirectory keys)
    {
        Folder = folder;
        Server = server;
        Keys = keys;
    }

    public string Folder { get; }

    public RunningClearing Server { get; }

    public ClearingDatabase Database => Server.Database;

    public OperatorKeyDirectory Keys { get; }

    public IServiceProvider Services => Server.Services;

    public static async Task<BenchEnvironment> StartAsync(bool runJobs, CancellationToken cancellation)
    {
        var folder = Path.Combine(Path.GetTempPath(), "transit-bench-" + Guid.NewGuid().ToString("N")[..8]);
        var keys = OperatorKeyDirectory.Init(Path.Combine(folder, "keys"), SignatureAlgorithm.P256);
        var options = new ClearingOptions
        {
            DataFolder = folder,
            KeyDirectory = keys.Path,
            DevicePort = 0,
            DeviceAddress = "127.0.0.1",
            RunJobs = runJobs,
            TimeZone = "UTC",
            Payments = { Latency = TimeSpan.Zero },
        };
        var bench = new BenchEnvironment(folder, await RunningClearing.StartAsync(options, ["http://127.0.0.1:0"], cancellation: cancellation), keys);

        // Devices are registered only for operators and stops of an imported feed.
        var feed = Path.Combine(folder, "feed");
        SyntheticCity.Write(feed);
        await bench.Services.GetRequiredService<GtfsImporter>().ImportAsync(feed, new DateOnly(2000, 1, 1), cancellation);
        return bench;
    }

    public HttpClient DeviceClient(string certificatePath, string keyPath)
    {
        var client = RunningClearing.DeviceClient(Server.DeviceUrl, Keys.CaCertificatePath, certificatePath, keyPath);
        _clients.Add(client);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }

        await Server.DisposeAsync();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Console.WriteLine($"left {Folder}: {ex.Message}");
        }
    }
}
