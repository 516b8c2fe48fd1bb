using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Transit.Clearing.Access;
using Transit.Clearing.Charging;
using Transit.Clearing.Database;
using Transit.Clearing.Devices;
using Transit.Clearing.Gtfs;
using Transit.Clearing.Ingest;
using Transit.Clearing.Pipeline;
using Transit.Clearing.Settlement;
using Transit.RideCodes;
using Transit.RideCodes.KeyStore;
using Transit.Simulation;
using Transit.Clearing.Hosting;

namespace Transit.Clearing.Tests;

/// <summary>A device registered in a test world, with an HTTPS client that presents its certificate.</summary>
public sealed class TestDevice(string id, string operatorId, string mode, string? station, string? stop, string? route, HttpClient client, string certificatePath, string keyPath)
{
    public string Id { get; } = id;

    public string OperatorId { get; } = operatorId;

    public string Mode { get; } = mode;

    public string? Station { get; } = station;

    public string? Stop { get; } = stop;

    public string? Route { get; } = route;

    public HttpClient Client { get; } = client;

    public string CertificatePath { get; } = certificatePath;

    public string KeyPath { get; } = keyPath;

    public long NextSeq { get; set; } = 1;
}

/// <summary>
/// A running clearing service on a fresh database of the collection's cluster: real Kestrel listeners (HTTP API,
/// mutual-TLS device API on a free port), a fresh key directory and the synthetic city's GTFS feed imported.
/// Jobs do not run by themselves: tests drive them, so every step is deterministic.
/// </summary>
public sealed class ClearingWorld : IAsyncDisposable
{
    /// <summary>The service day most tests use (a Wednesday).</summary>
    public static readonly DateOnly Day = new(2026, 11, 18);

    private readonly Dictionary<string, PhoneCredential> _riders = [];
    private readonly List<HttpClient> _clients = [];

    private ClearingWorld(string folder, RunningClearing server, ClearingOptions options, OperatorKeyDirectory keys)
    {
        Folder = folder;
        Server = server;
        Options = options;
        Keys = keys;
        ApiUrl = server.ApiUrls[0];
        DeviceUrl = server.DeviceUrl;
    }

    public string Folder { get; }

    public RunningClearing Server { get; }

    public ClearingDatabase Database => Server.Database;

    public ClearingOptions Options { get; }

    public OperatorKeyDirectory Keys { get; }

    public Uri ApiUrl { get; }

    public Uri DeviceUrl { get; }

    public IServiceProvider Services => Server.Services;

    public string FeedFolder => Path.Combine(Folder, "feed");

    public static DateTimeOffset At(int hour, int minute, int second = 0, DateOnly? day = null)
    {
        var local = (day ?? Day).ToDateTime(new TimeOnly(hour, minute, second));
        return new DateTimeOffset(local, TimeZoneInfo.FindSystemTimeZoneById(SyntheticCity.TimeZone).GetUtcOffset(local));
    }

    public static async Task<ClearingWorld> StartAsync(
        PostgresFixture postgres, Action<ClearingOptions>? configure = null, string? connectionString = null, string apiUrl = "http://127.0.0.1:0",
        IPaymentProvider? provider = null, Action<Microsoft.AspNetCore.Builder.WebApplication>? map = null)
    {
        var folder = Path.Combine(Path.GetTempPath(), "transit-clearing-" + Guid.NewGuid().ToString("N")[..12]);
        var keys = OperatorKeyDirectory.Init(Path.Combine(folder, "keys"), SignatureAlgorithm.P256);
        var options = new ClearingOptions
        {
            ConnectionString = connectionString ?? await postgres.CreateDatabaseAsync(),
            DataFolder = folder,
            KeyDirectory = keys.Path,
            DevicePort = 0,
            DeviceAddress = "127.0.0.1",
            RunJobs = false,
            TimeZone = SyntheticCity.TimeZone,
            ClearingParts = 4,
            MaximumFares = { ["metro"] = SyntheticCity.MetroMaximumFare },
            Payments = { Latency = TimeSpan.Zero, DeclineRate = 0 },
        };
        configure?.Invoke(options);
        var world = new ClearingWorld(folder, await RunningClearing.StartAsync(
            options, [apiUrl], configure: provider is null ? null : b => b.Services.AddSingleton(provider), map: map), options, keys);
        SyntheticCity.Write(world.FeedFolder);
        await world.Services.GetRequiredService<GtfsImporter>().ImportAsync(world.FeedFolder, new DateOnly(2026, 1, 1), CancellationToken.None);
        return world;
    }

    /// <summary>Registers a device and returns it with a client presenting its certificate.</summary>
    public async Task<TestDevice> AddDeviceAsync(string id, string operatorId, string mode, string? station = null, string? stop = null, string? route = null)
    {
        var (device, certificate, key) = await Services.GetRequiredService<DeviceRegistry>().AddAsync(
            new DeviceRegistration(id, operatorId, mode, station, stop, route), Path.Combine(Folder, "devices"), CancellationToken.None);
        return new TestDevice(device.DeviceId, operatorId, mode, station, stop, route, DeviceClient(certificate, key), certificate, key);
    }

    /// <summary>An HTTPS client for the device listener presenting the given certificate and trusting only the operator's CA.</summary>
    public HttpClient DeviceClient(string? certificatePath, string? keyPath)
    {
        var client = RunningClearing.DeviceClient(DeviceUrl, Keys.CaCertificatePath, certificatePath, keyPath);
        _clients.Add(client);
        return client;
    }

    /// <summary>An API client with a new token of <paramref name="role"/>.</summary>
    public async Task<HttpClient> ApiAsync(string role, string? operatorId = null)
    {
        return ApiClient(await Services.GetRequiredService<TokenStore>().CreateAsync(role, operatorId, "test", CancellationToken.None));
    }

    /// <summary>An API client presenting <paramref name="token"/>.</summary>
    public HttpClient ApiClient(string token)
    {
        var client = new HttpClient { BaseAddress = ApiUrl };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        _clients.Add(client);
        return client;
    }

    /// <summary>A rider's phone (credential valid around the test days).</summary>
    public PhoneCredential Rider(string account, string category = "adult")
    {
        if (!_riders.TryGetValue(account, out var phone))
        {
            var (key, issuer) = Keys.OpenIssuingKey();
            using (issuer)
            {
                phone = PhoneCredential.Issue(issuer, key.KeyId, account, category, new DateTimeOffset(2026, 11, 15, 0, 0, 0, TimeSpan.Zero), TimeSpan.FromDays(7));
            }

            _riders[account] = phone;
        }

        return phone;
    }

    /// <summary>A tap of <paramref name="account"/> at the device, with a fresh code signed 2 s before.</summary>
    public TapRecord Tap(TestDevice device, string account, DateTimeOffset at, bool accepted = true, string reason = "ok", long? seq = null, byte counter = 0) =>
        TapWithCode(device, Rider(account).Show(at.AddSeconds(-2), counter).ToText(), at, accepted, reason, seq);

    public TapRecord TapWithCode(TestDevice device, string code, DateTimeOffset at, bool accepted = true, string reason = "ok", long? seq = null) => new()
    {
        Seq = seq ?? device.NextSeq++,
        At = at,
        Code = code,
        Accepted = accepted,
        Reason = reason,
        Mode = device.Mode,
        OperatorId = device.OperatorId,
        StationId = device.Station,
        StopId = device.Stop,
        RouteId = device.Route,
    };

    public Task<HttpResponseMessage> UploadAsync(TestDevice device, params TapRecord[] taps) =>
        device.Client.PostAsJsonAsync("/device/v1/taps", new TapBatch(device.Id, [.. taps]));

    public async Task<TapBatchAnswer> UploadOkAsync(TestDevice device, params TapRecord[] taps)
    {
        using var response = await UploadAsync(device, taps);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"upload answered {(int)response.StatusCode}: {body}");
        return System.Text.Json.JsonSerializer.Deserialize<TapBatchAnswer>(body)!;
    }

    /// <summary>Clears a day as the jobs would: price and charge, collect payments, publish the deny list, check the books.</summary>
    public async Task<DayBalance> ClearAsync(DateOnly? day = null)
    {
        var date = day ?? Day;
        await Services.GetRequiredService<DayClearing>().ClearAsync(date, CancellationToken.None);
        await Services.GetRequiredService<PaymentService>().RunAsync(CancellationToken.None);
        await Services.GetRequiredService<DenyListPublisher>().PublishAsync(CancellationToken.None);
        return await Services.GetRequiredService<BalanceCheck>().CheckAsync(date, CancellationToken.None);
    }

    public Task<T?> ScalarAsync<T>(string sql, params object?[] parameters) => Sql.ScalarAsync<T>(Database.DataSource, sql, CancellationToken.None, parameters);

    public Task<List<T>> ListAsync<T>(string sql, Func<NpgsqlDataReader, T> read, params object?[] parameters) =>
        Sql.ListAsync(Database.DataSource, sql, read, CancellationToken.None, parameters);

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }

        foreach (var phone in _riders.Values)
        {
            phone.Dispose();
        }

        await Server.DisposeAsync();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // Left for the temp cleaner.
        }
    }
}
