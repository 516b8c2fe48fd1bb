using System.Diagnostics;
using Npgsql;

namespace Transit.Clearing.Tests;

/// <summary>Real <c>transit clearing run-day</c> child processes against the test cluster.</summary>
[Collection(ProcessCollection.Name)]
[Trait("Category", "Process")]
public sealed class ProcessTests(PostgresFixture postgres)
{
    private static readonly string Dll = TransitCommand.Dll;
    private static readonly string DayText = ClearingWorld.Day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task RunDay_TwoProcessesAtOnce_ChargeEachAccountDayExactlyOnce()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var riders = await UploadCommuters(world, 120);

        var runs = await Task.WhenAll(RunDayAsync(world.Options.ConnectionString!, world.Keys.Path), RunDayAsync(world.Options.ConnectionString!, world.Keys.Path));

        Assert.All(runs, r => Assert.True(r.ExitCode == 0, r.Output + r.Error));
        Assert.Equal(riders, await world.ScalarAsync<long>("SELECT count(*) FROM charges"));
        Assert.Equal(riders, await world.ScalarAsync<long>("SELECT count(DISTINCT (account, service_day)) FROM charges"));
        Assert.Equal(riders, await world.ScalarAsync<long>("SELECT count(*) FROM account_days WHERE charged_total > 0"));
        Assert.True((await world.Services.GetRequiredService<Settlement.BalanceCheck>().ComputeAsync(ClearingWorld.Day, CancellationToken.None)).Balanced);
    }

    [Fact]
    public async Task RunDay_KilledMidwayAndRestarted_EndsLikeAnUninterruptedRun()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var (killed, reference) = await CommutersClearedInACopyAsync(world);

        await RunAndKillAtAsync(killed, world.Keys.Path, "clearing: part 3 committed", ("TRANSIT_CLEARING_PAUSE_AFTER_PART", "3"));
        var partial = await world.ScalarAsync<long>("SELECT count(*) FROM charges");
        var expected = await CountAsync(reference, "SELECT count(*) FROM charges");
        Assert.InRange(partial, 1, expected - 1);
        var board = world.Services.GetRequiredService<Jobs.JobBoard>();
        Assert.Equal("running", Assert.Single(await board.ListAsync(50, CancellationToken.None), j => j.Kind == Jobs.JobKinds.ClearDay).Status);

        await RestartAndCompareAsync(killed, reference, world.Keys.Path);

        // The restarted process ran the killed job itself again (Hangfire fetched it once its invisibility lapsed), not a copy.
        var clear = Assert.Single(await board.ListAsync(50, CancellationToken.None), j => j.Kind == Jobs.JobKinds.ClearDay);
        Assert.Equal(("done", 2), (clear.Status, clear.Attempts));
    }

    [Fact]
    public async Task RunDay_KilledInsideAPartsTransaction_LeavesNothingHalfAppliedAndTheRestartEndsLikeAnUninterruptedRun()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var (killed, reference) = await CommutersClearedInACopyAsync(world);

        await RunAndKillAtAsync(killed, world.Keys.Path, "clearing: part 1 written, not committed", ("TRANSIT_CLEARING_PAUSE_INSIDE_PART", "1"));

        // The part's rows died with its transaction: its account-days are still waiting, none of them priced or
        // charged, and no account-day anywhere lacks its charge.
        Assert.InRange(await world.ScalarAsync<long>("SELECT count(*) FROM dirty_account_days"), 1, 150);
        Assert.Equal(0, await world.ScalarAsync<long>("SELECT count(*) FROM dirty_account_days d JOIN account_days a USING (service_day, account)"));
        Assert.Equal(0, await world.ScalarAsync<long>("SELECT count(*) FROM dirty_account_days d JOIN charges c USING (service_day, account)"));
        Assert.Equal(0, await world.ScalarAsync<long>("""
            SELECT count(*) FROM account_days a WHERE charged_total <> (SELECT COALESCE(sum(amount), 0) FROM charges c WHERE c.service_day = a.service_day AND c.account = a.account)
            """));

        await RestartAndCompareAsync(killed, reference, world.Keys.Path);
    }

    [Fact]
    public async Task RunDay_KilledWhileAPaymentIsAtTheProvider_CollectsEveryChargeExactlyOnceAfterTheRestart()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var (killed, reference) = await CommutersClearedInACopyAsync(world, ("TRANSIT_PAYMENTS_LEDGER", Path.Combine(world.Folder, "reference-ledger.tsv")));
        var ledger = Path.Combine(world.Folder, "ledger.tsv");

        await RunAndKillAtAsync(killed, world.Keys.Path, "payments: ", ("TRANSIT_PAYMENTS_PAUSE_INSIDE", "1"), ("TRANSIT_PAYMENTS_LEDGER", ledger));

        // The provider took the first request; the books, whose batch died uncommitted, still see every charge pending.
        Assert.Single(Charging.SimulatedPaymentProvider.LoadLedger(ledger));
        Assert.Equal(0, await world.ScalarAsync<long>("SELECT count(*) FROM charges WHERE status <> 'pending' AND amount <> 0"));
        Assert.Equal(0, await world.ScalarAsync<long>("SELECT count(*) FROM payment_events"));

        await RestartAndCompareAsync(killed, reference, world.Keys.Path, ("TRANSIT_PAYMENTS_LEDGER", ledger));

        // The provider's own ledger: one request per charge, and what it collected is what the books say was collected.
        var requests = Charging.SimulatedPaymentProvider.LoadLedger(ledger).Values.ToList();
        var perCharge = requests.GroupBy(r => r.Request.RequestKey[..r.Request.RequestKey.LastIndexOf("/a", StringComparison.Ordinal)]).ToList();
        Assert.All(perCharge, g => Assert.Single(g));
        Assert.Equal(await CountAsync(killed, "SELECT count(*) FROM charges WHERE amount <> 0"), perCharge.Count);
        Assert.Equal(
            await CountAsync(killed, "SELECT COALESCE(sum(amount), 0)::bigint FROM charges WHERE status = 'succeeded'"),
            requests.Where(r => r.Final == Charging.PaymentState.Succeeded).Sum(r => r.Request.Amount));
    }

    [Fact]
    public async Task Cli_CommandsWithoutDb_ShareTheEmbeddedCluster_ServingAKeyDirectoryWithoutTheRootKey()
    {
        var dir = Path.Combine(Path.GetTempPath(), "transit-cli-" + Guid.NewGuid().ToString("N")[..10]);
        try
        {
            // The root key stays in the offline copy; clearing gets the server's copy.
            Assert.Equal(0, (await CliAsync("keys", "init", "--dir", Path.Combine(dir, "offline-keys"))).ExitCode);
            var export = await CliAsync("keys", "export-server", "--dir", Path.Combine(dir, "offline-keys"), "--out", Path.Combine(dir, "keys"));
            Assert.True(export.ExitCode == 0, export.Error);
            Assert.False(File.Exists(Path.Combine(dir, "keys", "root.key.json")));
            Transit.Simulation.SyntheticCity.Write(Path.Combine(dir, "feed"));
            var import = await CliAsync("clearing", "import-gtfs", "--data", dir, "--feed", Path.Combine(dir, "feed"), "--valid-from", "2026-11-01");
            Assert.True(import.ExitCode == 0, import.Error);
            Assert.Contains("2 operators", import.Output, StringComparison.Ordinal);

            // A running server owns the cluster; other commands attach to it.
            var serve = Process.Start(Start(["clearing", "serve", "--data", dir, "--urls", "http://127.0.0.1:0", "--device-port", "0", "--no-jobs"]))!;
            try
            {
                var serveErrors = serve.StandardError.ReadToEndAsync();
                using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
                string? line;
                while ((line = await serve.StandardOutput.ReadLineAsync(timeout.Token)) is not null && !line.Contains("embedded PostgreSQL", StringComparison.Ordinal))
                {
                }

                Assert.True(line is not null, "clearing serve did not start: " + (serve.HasExited ? await serveErrors : ""));

                var add = await CliAsync("devices", "add", "--data", dir, "--id", "g1", "--operator", "metro", "--station", "CEN");
                Assert.True(add.ExitCode == 0, add.Error);
                Assert.True(File.Exists(Path.Combine(dir, "keys", "devices", "g1", "device.crt.pem")));
                Assert.Equal(0, (await CliAsync("devices", "revoke", "--data", dir, "--id", "g1")).ExitCode);
                Assert.Contains("revoked", (await CliAsync("devices", "list", "--data", dir)).Output, StringComparison.Ordinal);
                Assert.StartsWith("trt_", (await CliAsync("tokens", "create", "--data", dir, "--role", "operator", "--operator", "bus")).Output, StringComparison.Ordinal);
                Assert.Equal(2, (await CliAsync("tokens", "create", "--data", dir, "--role", "operator")).ExitCode);
            }
            finally
            {
                using var interrupt = Process.Start("kill", ["-INT", serve.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
                await interrupt.WaitForExitAsync();
                using var stopping = new CancellationTokenSource(TimeSpan.FromMinutes(1));
                try
                {
                    await serve.WaitForExitAsync(stopping.Token);
                }
                catch (OperationCanceledException)
                {
                    serve.Kill(entireProcessTree: true);
                    throw new TimeoutException("clearing serve did not stop within a minute of SIGINT");
                }
            }

            Assert.False(File.Exists(Path.Combine(dir, "pg", "owner.pid")));
            var day = await CliAsync("clearing", "run-day", "--data", dir, "--date", DayText);
            Assert.True(day.ExitCode == 0, day.Output + day.Error);
            Assert.Contains("balanced", day.Output, StringComparison.Ordinal);
            var statement = await CliAsync("clearing", "statement", "--data", dir, "--operator", "bus", "--date", DayText);
            Assert.StartsWith("operator_id,service_day,currency,kind,charges,gross,fee,net,journeys,legs", statement.Output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("simple", false)]
    public async Task Serve_Logs_OneJsonObjectALineByDefaultPlainTextOnRequest_AndNoLinePerRequest(string? formatter, bool json)
    {
        var dir = Path.Combine(Path.GetTempPath(), "transit-logs-" + Guid.NewGuid().ToString("N")[..10]);
        try
        {
            var keys = RideCodes.KeyStore.OperatorKeyDirectory.Init(Path.Combine(dir, "keys"), RideCodes.SignatureAlgorithm.P256);
            var start = Start(["clearing", "serve", "--db", await postgres.CreateDatabaseAsync(), "--keys", keys.Path, "--data", dir,
                "--urls", "http://127.0.0.1:0", "--device-port", "0", "--no-jobs"]);
            start.Environment.Remove("ASPNETCORE_ENVIRONMENT");
            start.Environment.Remove("DOTNET_ENVIRONMENT");
            if (formatter is not null)
            {
                start.Environment["Logging__Console__FormatterName"] = formatter;
            }

            using var serve = Process.Start(start)!;
            var errors = serve.StandardError.ReadToEndAsync();
            var lines = new List<string>();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            string? api = null;
            while (api is null && await serve.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                lines.Add(line);
                api = line.StartsWith("  API ", StringComparison.Ordinal) ? line["  API ".Length..].Trim()[..^"api".Length] : null;
            }

            Assert.True(api is not null, "clearing serve did not start: " + string.Join('\n', lines) + (serve.HasExited ? await errors : ""));
            using (var client = new HttpClient { BaseAddress = new Uri(api) })
            {
                for (var i = 0; i < 3; i++)
                {
                    Assert.Equal(System.Net.HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);
                }
            }

            using (var interrupt = Process.Start("kill", ["-INT", serve.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await interrupt.WaitForExitAsync();
            }

            lines.AddRange((await serve.StandardOutput.ReadToEndAsync(timeout.Token)).Split('\n', StringSplitOptions.RemoveEmptyEntries));
            await serve.WaitForExitAsync(timeout.Token);

            // The command's own banner is plain text; everything else is the log.
            var log = lines.Where(l => !l.StartsWith("clearing is running", StringComparison.Ordinal) && !l.StartsWith("  ", StringComparison.Ordinal)).ToList();
            Assert.Contains(log, l => l.Contains("Now listening on", StringComparison.Ordinal));
            Assert.Contains(log, l => l.Contains("Application is shutting down", StringComparison.Ordinal));
            Assert.DoesNotContain(log, l => l.Contains("Request starting", StringComparison.Ordinal) || l.Contains("/health/ready", StringComparison.Ordinal));
            if (json)
            {
                Assert.All(log, l =>
                {
                    var entry = System.Text.Json.JsonDocument.Parse(l).RootElement;
                    Assert.EndsWith("Z", entry.GetProperty("Timestamp").GetString(), StringComparison.Ordinal);
                    Assert.NotEmpty(entry.GetProperty("LogLevel").GetString()!);
                    Assert.NotEmpty(entry.GetProperty("Category").GetString()!);
                    Assert.NotEmpty(entry.GetProperty("Message").GetString()!);
                });
            }
            else
            {
                Assert.DoesNotContain(log, l => l.StartsWith('{'));
                Assert.Contains(log, l => l.Contains("info: Microsoft.Hosting.Lifetime", StringComparison.Ordinal));
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static ProcessStartInfo Start(string[] args)
    {
        var start = TransitCommand.StartInfo(args);
        start.RedirectStandardInput = false;
        return start;
    }

    internal static Task<(int ExitCode, string Output, string Error)> CliAsync(params string[] args) => RunToEndAsync(Start(args));

    private static Task<(int ExitCode, string Output, string Error)> RunToEndAsync(ProcessStartInfo start) =>
        ChildProcess.RunToEndAsync(start, timeout: TimeSpan.FromMinutes(3));

    private static async Task<int> UploadCommuters(ClearingWorld world, int riders)
    {
        string[] stations = ["W1", "CEN", "E1", "E2", "N1", "S1"];
        var entries = new Dictionary<string, TestDevice>();
        var exits = new Dictionary<string, TestDevice>();
        foreach (var station in stations)
        {
            entries[station] = await world.AddDeviceAsync($"in-{station}", "metro", "metro-entry", station: station);
            exits[station] = await world.AddDeviceAsync($"out-{station}", "metro", "metro-exit", station: station);
        }

        var batches = stations.SelectMany(s => new[] { entries[s], exits[s] }).ToDictionary(d => d.Id, _ => new List<TapRecord>());
        for (var i = 0; i < riders; i++)
        {
            var account = $"c{i:D5}";
            var home = stations[i % stations.Length];
            var work = stations[(i / stations.Length + 1 + i) % stations.Length];
            if (work == home)
            {
                work = stations[(i + 1) % stations.Length];
            }

            var minute = i % 50;
            batches[entries[home].Id].Add(world.Tap(entries[home], account, ClearingWorld.At(7, minute)));
            batches[exits[work].Id].Add(world.Tap(exits[work], account, ClearingWorld.At(7, minute + 9)));
            batches[entries[work].Id].Add(world.Tap(entries[work], account, ClearingWorld.At(17, minute), counter: 1));
            if (i % 7 != 0)
            {
                // Every seventh rider leaves without tapping out: an incomplete journey.
                batches[exits[home].Id].Add(world.Tap(exits[home], account, ClearingWorld.At(17, minute + 9), counter: 1));
            }
        }

        foreach (var device in entries.Values.Concat(exits.Values))
        {
            var taps = batches[device.Id];
            if (taps.Count > 0)
            {
                await world.UploadOkAsync(device, [.. taps]);
            }
        }

        return riders;
    }

    private static async Task<string> CopyDatabaseAsync(string source)
    {
        var builder = new NpgsqlConnectionStringBuilder(source);
        var copy = builder.Database + "_copy";
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(source) { Database = "postgres", Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using (var terminate = new NpgsqlCommand($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{builder.Database}' AND pid <> pg_backend_pid()", connection))
        {
            await terminate.ExecuteNonQueryAsync();
        }

        await using (var create = new NpgsqlCommand($"CREATE DATABASE {copy} TEMPLATE {builder.Database}", connection))
        {
            await create.ExecuteNonQueryAsync();
        }

        builder.Database = copy;
        return builder.ConnectionString;
    }

    private static async Task<long> CountAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Everything a day's clearing decides, as text, to compare two databases.</summary>
    private static async Task<string> SnapshotAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var parts = new List<string>();
        foreach (var sql in (string[])[
            "SELECT account, revision, fare_total, priced_total, charged_total, journeys, taps, flags FROM account_days ORDER BY account",
            "SELECT account, journey_no, fare_amount, charged_amount, cap_adjustment, flags FROM journeys ORDER BY account, journey_no",
            "SELECT account, journey_no, leg_no, operator_id, from_stop, to_stop, product_id, amount, share FROM journey_legs ORDER BY account, journey_no, leg_no",
            "SELECT account, revision, amount, status, idempotency_key FROM charges ORDER BY account, revision",
            "SELECT c.account, l.operator_id, l.gross, l.fee, l.net FROM settlement_lines l JOIN charges c USING (charge_id) ORDER BY 1, 2",
            "SELECT account, debt, blocked FROM accounts ORDER BY account"])
        {
            await using var command = new NpgsqlCommand(sql, connection);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                parts.Add(string.Join('|', Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "∅" : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture))));
            }

            parts.Add("--");
        }

        return string.Join('\n', parts);
    }

    /// <summary>
    /// Uploads a day of 150 commuters, copies the database, clears the copy with an uninterrupted run-day (the
    /// reference) and returns both connection strings; the original is left to clear.
    /// </summary>
    private static async Task<(string Original, string Reference)> CommutersClearedInACopyAsync(ClearingWorld world, params (string Name, string Value)[] environment)
    {
        await UploadCommuters(world, 150);
        var original = world.Options.ConnectionString!;
        world.Database.DataSource.Clear();
        var reference = await CopyDatabaseAsync(original);
        var uninterrupted = await RunDayAsync(reference, world.Keys.Path, environment);
        Assert.True(uninterrupted.ExitCode == 0, uninterrupted.Output + uninterrupted.Error);
        return (original, reference);
    }

    /// <summary>Runs run-day again on the killed database: it must finish, balance and end exactly like the reference.</summary>
    private static async Task RestartAndCompareAsync(string killed, string reference, string keys, params (string Name, string Value)[] environment)
    {
        var restarted = await RunDayAsync(killed, keys, environment);
        Assert.True(restarted.ExitCode == 0, restarted.Output + restarted.Error);
        Assert.Contains("balanced", restarted.Output, StringComparison.Ordinal);
        Assert.Equal(await SnapshotAsync(reference), await SnapshotAsync(killed));
    }

    private static ProcessStartInfo RunDayStart(string connectionString, string keys, (string Name, string Value)[] environment)
    {
        var start = Start(["clearing", "run-day", "--date", DayText, "--db", connectionString, "--keys", keys]);
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        return start;
    }

    private static Task<(int ExitCode, string Output, string Error)> RunDayAsync(string connectionString, string keys, params (string Name, string Value)[] environment) =>
        RunToEndAsync(RunDayStart(connectionString, keys, environment));

    /// <summary>Starts run-day with a pause point set, waits until it prints <paramref name="line"/>, then kills it with SIGKILL.</summary>
    private static async Task RunAndKillAtAsync(string connectionString, string keys, string line, params (string Name, string Value)[] environment)
    {
        var start = RunDayStart(connectionString, keys, environment);
        using var process = Process.Start(start)!;
        _ = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } output && !output.StartsWith(line, StringComparison.Ordinal))
        {
        }

        process.Kill();
        await process.WaitForExitAsync(timeout.Token);
        Assert.NotEqual(0, process.ExitCode);
    }
}
