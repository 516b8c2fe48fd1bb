using System.Net;
using System.Net.Http.Json;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text.Json;
using Transit.Clearing.Jobs;
using Transit.Tests.Monitoring;

namespace Transit.Clearing.Tests;

/// <summary>/health/live, /health/ready and /metrics on the operators' listener of a real clearing server.</summary>
[Collection(IngestCollection.Name)]
[Trait("Category", "Process")]
public sealed partial class MonitoringTests(PostgresFixture postgres)
{
    [Fact]
    public async Task HealthReady_EveryCheckPasses_Answers200AndReportsEachCheck()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        using var client = new HttpClient { BaseAddress = world.ApiUrl };

        var (status, report) = await ReadyAsync(client);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Healthy", report.GetProperty("status").GetString());
        foreach (var check in new[] { "database", "migrations", "jobs", "keys" })
        {
            Assert.Equal("Healthy", report.GetProperty("checks").GetProperty(check).GetProperty("status").GetString());
        }

        using var live = await client.GetAsync("/health/live");
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
    }

    [Fact]
    public async Task HealthReady_KeyDirectoryUnreadable_Answers503UntilItIsBack()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        using var client = new HttpClient { BaseAddress = world.ApiUrl };
        var moved = world.Keys.Path + ".away";

        // Root reads every file whatever its mode, so the directory goes away instead of losing its read bit.
        Directory.Move(world.Keys.Path, moved);
        var (status, report) = await ReadyAsync(client);
        Directory.Move(moved, world.Keys.Path);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("Unhealthy", report.GetProperty("checks").GetProperty("keys").GetProperty("status").GetString());
        Assert.Contains("is not a key directory", report.GetProperty("checks").GetProperty("keys").GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Equal("Healthy", report.GetProperty("checks").GetProperty("database").GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, (await ReadyAsync(client)).Status);

        // Live does not depend on the checks: restarting the node would not bring its keys back.
        Directory.Move(world.Keys.Path, moved);
        using var live = await client.GetAsync("/health/live");
        Directory.Move(moved, world.Keys.Path);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
    }

    [Fact]
    public async Task HealthReady_MigrationsBehind_Answers503NamingTheMissingMigration()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        using var client = new HttpClient { BaseAddress = world.ApiUrl };
        var latest = await world.ScalarAsync<string>("SELECT max(name) FROM schema_migrations");

        await world.ScalarAsync<int>("DELETE FROM schema_migrations WHERE name = $1", latest);
        var (status, report) = await ReadyAsync(client);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        var migrations = report.GetProperty("checks").GetProperty("migrations");
        Assert.Equal("Unhealthy", migrations.GetProperty("status").GetString());
        Assert.Contains(latest!, migrations.GetProperty("description").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task HealthReady_JobServerStopped_Answers503()
    {
        await using var world = await ClearingWorld.StartAsync(postgres, o => o.RunJobs = true);
        using var client = new HttpClient { BaseAddress = world.ApiUrl };
        var (running, report) = await ReadyAsync(client);
        Assert.Equal(HttpStatusCode.OK, running);
        Assert.Equal("running", report.GetProperty("checks").GetProperty("jobs").GetProperty("description").GetString());

        await world.Services.GetRequiredService<JobServer>().StopAsync(CancellationToken.None);
        var (stopped, after) = await ReadyAsync(client);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, stopped);
        Assert.Equal("Unhealthy", after.GetProperty("checks").GetProperty("jobs").GetProperty("status").GetString());
    }

    [Fact]
    public async Task Metrics_AfterIngestAndAHeartbeat_ExportsClearingAspNetCoreNpgsqlRuntimeAndFleetSeries()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var gate = await world.AddDeviceAsync("g1", "metro", "metro-entry", station: "CEN");
        await world.UploadOkAsync(gate, world.Tap(gate, "alice", ClearingWorld.At(8, 0)), world.Tap(gate, "bob", ClearingWorld.At(8, 1)));
        using (var heartbeat = await gate.Client.PostAsJsonAsync("/device/v1/status", new { deviceId = "g1", sentAt = DateTimeOffset.UtcNow, journalBacklog = 7L, alarm = "amber" }))
        {
            Assert.Equal(HttpStatusCode.OK, heartbeat.StatusCode);
        }

        using var client = new HttpClient { BaseAddress = world.ApiUrl };
        using var response = await client.GetAsync("/metrics");
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
        var samples = PrometheusText.Parse(text);
        Assert.Equal(2, samples["transit_clearing_ingest_transit_ingest_taps_stored"]);
        Assert.Equal(0, samples["transit_clearing_jobs_failed_total{kind=\"clear-day\"}"]);
        Assert.Equal(0, samples["transit_clearing_balance_check_failures_total"]);
        Assert.Equal(7, samples["transit_clearing_fleet_journal_backlog{device=\"g1\",operator=\"metro\"}"]);
        Assert.True(samples["transit_clearing_fleet_alarms{device=\"g1\",operator=\"metro\"}"] >= 1);
        Assert.True(PrometheusText.Exports(text, "microsoft_aspnetcore_hosting_http_server_request_duration_bucket"), "ASP.NET Core request durations");
        Assert.True(PrometheusText.Exports(text, "npgsql_db_client_operation_duration_bucket"), "Npgsql command durations");
        Assert.True(PrometheusText.Exports(text, "system_runtime_dotnet_gc_collections"), "runtime GC counts");
        Assert.True(PrometheusText.Exports(text, "process_working_set_bytes"), "process memory");
    }

    [Fact]
    public async Task Metrics_AJobFails_CountsItByKind()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var bus = await world.AddDeviceAsync("bus-1", "bus", "bus", stop: "BS1624", route: "B1");
        await world.UploadOkAsync(bus, world.Tap(bus, "bob", ClearingWorld.At(9, 0)));
        await world.ClearAsync();

        // Books that do not balance: the balance-check job of the day's pipeline fails its first run.
        await world.ScalarAsync<int>("UPDATE settlement_lines SET net = net + 1, gross = gross + 1 RETURNING 1");
        var run = await world.Services.GetRequiredService<DayRunner>().RunAsync(ClearingWorld.Day, CancellationToken.None);
        Assert.False(run.Succeeded);

        using var client = new HttpClient { BaseAddress = world.ApiUrl };
        var samples = PrometheusText.Parse(await client.GetStringAsync("/metrics"));
        Assert.Equal(1, samples["transit_clearing_jobs_failed_total{kind=\"balance-check\"}"]);
        Assert.Equal(0, samples["transit_clearing_jobs_failed_total{kind=\"payments\"}"]);
    }

    [Theory]
    [InlineData("/metrics")]
    [InlineData("/health/ready")]
    [InlineData("/health/live")]
    public async Task Monitoring_FromAnotherHost_OnlyWithAnAdminToken(string path)
    {
        var address = NonLoopbackAddress();
        await using var world = await ClearingWorld.StartAsync(postgres, apiUrl: $"http://{address}:0");
        Assert.Equal(address.ToString(), world.ApiUrl.Host);

        using var anonymous = new HttpClient { BaseAddress = world.ApiUrl };
        using var none = await anonymous.GetAsync(path);
        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        using var asOperator = await (await world.ApiAsync("operator", "metro")).GetAsync(path);
        Assert.Equal(HttpStatusCode.Forbidden, asOperator.StatusCode);
        using var asPlanner = await (await world.ApiAsync("planner")).GetAsync(path);
        Assert.Equal(HttpStatusCode.Forbidden, asPlanner.StatusCode);
        using var asAdmin = await (await world.ApiAsync("admin")).GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, asAdmin.StatusCode);
    }

    [Fact]
    public async Task AlertRules_InTheOperationsGuide_NameOnlyMetricsClearingExports()
    {
        var rules = AlertRules.Read();
        await using var world = await ClearingWorld.StartAsync(postgres);
        var gate = await world.AddDeviceAsync("g1", "metro", "metro-entry", station: "CEN");
        using (var heartbeat = await gate.Client.PostAsJsonAsync("/device/v1/status", new { deviceId = "g1", sentAt = DateTimeOffset.UtcNow, journalBacklog = 1L, clockOffsetMillis = 5L }))
        {
            Assert.Equal(HttpStatusCode.OK, heartbeat.StatusCode);
        }

        using var client = new HttpClient { BaseAddress = world.ApiUrl };
        var text = await client.GetStringAsync("/metrics");

        var named = AlertRules.MetricNames(rules).Where(n => !n.StartsWith("transit_gate_", StringComparison.Ordinal)).ToList();
        Assert.Contains("transit_clearing_jobs_failed_total", named);
        Assert.All(named, name => Assert.True(PrometheusText.Exports(text, name), $"the alert rules name {name}, which clearing does not export"));
    }

    private static async Task<(HttpStatusCode Status, JsonElement Report)> ReadyAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/health/ready");
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    private static IPAddress NonLoopbackAddress() =>
        NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a))
        ?? throw new InvalidOperationException("this test needs an IPv4 address other than loopback to connect from");
}
