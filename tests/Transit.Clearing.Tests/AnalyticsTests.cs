using System.Globalization;
using System.Net;
using System.Text.Json;
using Transit.Analytics;
using Transit.Analytics.Exports;
using Transit.Analytics.Privacy;
using Transit.Analytics.Store;
using Transit.Clearing.Ingest;
using Transit.Clearing.Jobs;
using Transit.Simulation;

namespace Transit.Clearing.Tests;

/// <summary>
/// Ridership analytics inside clearing, end to end: a simulated day of known ground truth uploaded by the gates,
/// cleared, rolled up by the analytics jobs on PostgreSQL, and read through the API by each role.
/// </summary>
[Collection(ClearingCollection.Name)]
[Trait("Category", "Database")]
public sealed class AnalyticsTests(PostgresFixture postgres)
{
    private static readonly string Day = ClearingWorld.Day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    [Fact]
    public async Task CloseDayJob_SimulatedDay_MetroOdExactBusOdChainedTransfersExactRevenueSettled()
    {
        var plan = Population.Plan(ClearingWorld.Day, riders: 400, seed: 17);
        await using var world = await ClearedDayAsync(postgres, plan);
        using var admin = await world.ApiAsync("admin");
        var pseudonyms = world.Services.GetRequiredService<Pseudonymizer>();

        // Metro OD: every tapped-out leg, exactly.
        var metroTruth = plan.Legs.Where(l => l.Mode == "metro" && l.TapsOut).GroupBy(l => (l.FromStop, l.ToStop)).ToDictionary(g => g.Key, g => (long)g.Count());
        var metro = await RowsAsync(admin, $"/api/analytics/od?from={Day}&mode=metro");
        var metroExact = metro.Where(r => r.GetProperty("exact").GetInt64() > 0).ToDictionary(r => (r.GetProperty("stop").GetString()!, r.GetProperty("toStop").GetString()!), r => r.GetProperty("exact").GetInt64());
        Assert.Equal(metroTruth.OrderBy(p => p.Key), metroExact.OrderBy(p => p.Key));

        // Bus OD by trip chaining: the share inferred, and (from the matrix alone) a lower bound of the share right.
        var busTruth = plan.Legs.Where(l => l.Mode == "bus").GroupBy(l => (l.FromStop, l.ToStop)).ToDictionary(g => g.Key, g => (long)g.Count());
        var bus = await RowsAsync(admin, $"/api/analytics/od?from={Day}&mode=bus");
        var boardings = bus.Sum(r => r.GetProperty("legs").GetInt64());
        var inferred = bus.Where(r => r.GetProperty("toStop").GetString() != "").Sum(r => r.GetProperty("legs").GetInt64());
        var right = bus.Where(r => r.GetProperty("toStop").GetString() != "")
            .Sum(r => Math.Min(r.GetProperty("legs").GetInt64(), busTruth.GetValueOrDefault((r.GetProperty("stop").GetString()!, r.GetProperty("toStop").GetString()!))));
        Assert.Equal(busTruth.Values.Sum(), boardings);
        Assert.True(inferred >= 0.8 * boardings, $"{inferred} of {boardings} bus boardings have a destination");
        Assert.True(right >= 0.85 * inferred, $"{right} of {inferred} inferred destinations are right");

        // Transfers per flow, exactly.
        var transferTruth = plan.Legs.GroupBy(l => (l.Account, l.JourneyIndex))
            .SelectMany(j => j.OrderBy(l => l.Start).Zip(j.OrderBy(l => l.Start).Skip(1)))
            .GroupBy(p => (p.First.Mode, p.First.ToStop, p.Second.Mode, p.Second.FromStop)).ToDictionary(g => g.Key, g => (long)g.Count());
        var transfers = (await RowsAsync(admin, $"/api/analytics/transfers?from={Day}"))
            .GroupBy(r => (r.GetProperty("mode").GetString()!, r.GetProperty("stop").GetString()!, r.GetProperty("toMode").GetString()!, r.GetProperty("toStop").GetString()!))
            .ToDictionary(g => g.Key, g => g.Sum(r => r.GetProperty("transfers").GetInt64()));
        Assert.Equal(transferTruth.OrderBy(p => p.Key), transfers.OrderBy(p => p.Key));

        // Revenue by operator: what settlement gave each operator.
        var revenue = (await RowsAsync(admin, $"/api/analytics/revenue-by-operator?from={Day}")).ToDictionary(r => r.GetProperty("operator").GetString()!, r => r.GetProperty("amount").GetInt64());
        var gross = (await world.ListAsync("SELECT operator_id, sum(gross)::bigint FROM settlement_lines WHERE service_day = $1 GROUP BY 1", r => (r.GetString(0), r.GetInt64(1)), ClearingWorld.Day))
            .ToDictionary(x => x.Item1, x => x.Item2);
        Assert.Equal(gross.OrderBy(p => p.Key), revenue.OrderBy(p => p.Key));

        // Nothing in the analytics tables is an account token.
        var accounts = plan.Riders.Select(r => r.Account).ToHashSet();
        var stored = await world.ListAsync("SELECT rider FROM analytics_rider_days", r => r.GetInt64(0));
        Assert.Equal(plan.Taps.Select(t => pseudonyms.Of(t.Account)).Distinct().Order(), stored.Order());
        Assert.Empty(await world.ListAsync("SELECT 1 FROM analytics_cells WHERE stop_id = ANY($1) OR category = ANY($1)", r => r.GetInt32(0), (object)accounts.ToArray()));
    }

    [Fact]
    public async Task Api_EachRole_SeesWhatItMayAndSmallCellsAreWithheld()
    {
        var plan = Population.Plan(ClearingWorld.Day, riders: 300, seed: 23);
        await using var world = await ClearedDayAsync(postgres, plan);
        using var planner = await world.ApiAsync("planner");
        using var busOperator = await world.ApiAsync("operator", "bus");
        using var admin = await world.ApiAsync("admin");

        // Planner: every OD row counting fewer than 10 distinct riders is withheld; larger ones only as complements.
        var truth = plan.Legs.Where(l => l.Mode == "bus").GroupBy(l => (l.FromStop, l.ToStop)).ToDictionary(g => g.Key, g => g.Select(l => l.Account).Distinct().Count());
        var od = await RowsAsync(planner, $"/api/analytics/od?from={Day}&mode=bus");
        Assert.Contains(od, r => r.GetProperty("suppressed").GetBoolean());
        Assert.Contains(await RowsAsync(planner, $"/api/analytics/od?from={Day}&mode=metro"), r => !r.GetProperty("suppressed").GetBoolean());
        foreach (var row in od.Where(r => r.GetProperty("toStop").GetString() != ""))
        {
            var riders = truth[(row.GetProperty("stop").GetString()!, row.GetProperty("toStop").GetString()!)];
            Assert.True(riders >= 10 || row.GetProperty("suppressed").GetBoolean(), $"{riders} riders shown");
            Assert.Equal(row.GetProperty("suppressed").GetBoolean(), row.GetProperty("legs").ValueKind == JsonValueKind.Null);
        }

        // Planner: no rider-level data and no statements.
        Assert.Equal(HttpStatusCode.Forbidden, (await planner.GetAsync($"/api/accounts/{plan.Riders[0].Account}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await planner.GetAsync($"/api/statements/bus/{Day}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await planner.GetAsync($"/api/analytics/exports/fare_transactions.csv?from={Day}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await planner.GetAsync($"/api/analytics/exports/rider_trip.txt?from={Day}")).StatusCode);

        // Operator: its own operator only.
        Assert.Equal(HttpStatusCode.Forbidden, (await busOperator.GetAsync($"/api/analytics/boardings-by-route?from={Day}&operator=metro")).StatusCode);
        var routes = await RowsAsync(busOperator, $"/api/analytics/boardings-by-route?from={Day}");
        Assert.NotEmpty(routes);
        Assert.All(routes, r => Assert.Equal("bus", r.GetProperty("operator").GetString()));

        // Exports for planners pass the standards' definitions; suppressed cells are listed.
        foreach (var spec in ExportSpecs.All.Except(ExportSpecs.RiderLevel))
        {
            var content = await planner.GetStringAsync($"/api/analytics/exports/{spec.FileName}?from={Day}");
            Assert.Empty(ExportValidator.Validate(spec, content));
        }

        Assert.Contains("fewer than 10 distinct riders", await planner.GetStringAsync($"/api/analytics/exports/suppressed.txt?from={Day}"), StringComparison.Ordinal);

        // CSV carries the same rows as JSON, withheld rows included and marked.
        var json = await RowsAsync(planner, $"/api/analytics/boardings-by-stop?from={Day}");
        var csv = (await planner.GetStringAsync($"/api/analytics/boardings-by-stop?from={Day}&format=csv")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("operator,mode,stop,boardings,alightings,alightingsInferred,riders,suppressed", csv[0]);
        Assert.Equal(json.Count, csv.Length - 1);
        Assert.Equal(json.Count(r => r.GetProperty("suppressed").GetBoolean()), csv.Count(l => l.EndsWith(",true", StringComparison.Ordinal)));

        // The API is described in the OpenAPI document, and the dashboard is served by clearing itself.
        var openApi = await admin.GetStringAsync("/openapi/v1.json");
        Assert.Contains("/api/analytics/{view}", openApi, StringComparison.Ordinal);
        using var anonymous = new HttpClient { BaseAddress = world.ApiUrl };
        Assert.Contains("<script src=\"lib/chart.umd.min.js\">", await anonymous.GetStringAsync("/dashboard/od.html"), StringComparison.Ordinal);
        Assert.Contains("Chart", await anonymous.GetStringAsync("/dashboard/lib/chart.umd.min.js"), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"/api/analytics/od?from={Day}")).StatusCode);
    }

    [Fact]
    public async Task AnalyticsExport_ForEachAudience_WritesFilesThatPassTheStandards()
    {
        var plan = Population.Plan(ClearingWorld.Day, riders: 250, seed: 37);
        await using var world = await ClearedDayAsync(postgres, plan);
        var admin = Path.Combine(world.Folder, "export-admin");
        var planner = Path.Combine(world.Folder, "export-planner");
        var metro = Path.Combine(world.Folder, "export-operator");
        foreach (var (folder, audience) in new[] { (admin, "admin"), (planner, "planner"), (metro, "operator") })
        {
            string[] operatorOption = audience == "operator" ? ["--operator", SyntheticCity.MetroOperator] : [];
            var (exit, output, error) = await ProcessTests.CliAsync(["analytics", "export", "--from", Day, "--out", folder, "--as", audience, .. operatorOption, "--db", world.Options.ConnectionString!, "--keys", world.Keys.Path]);
            Assert.True(exit == 0, output + error);
        }

        foreach (var spec in ExportSpecs.All)
        {
            Assert.Empty(ExportValidator.Validate(spec, await File.ReadAllTextAsync(Path.Combine(admin, spec.FileName))));
        }

        foreach (var (folder, table) in new[] { (admin, "fare_transactions"), (admin, "station_activities"), (planner, "station_activities"), (metro, "station_activities") })
        {
            Assert.Empty(Transit.Analytics.Tests.TableSchemaChecker.TidesV1(table).Check(await File.ReadAllTextAsync(Path.Combine(folder, table + ".csv"))));
        }

        var transactions = (await File.ReadAllLinesAsync(Path.Combine(admin, "fare_transactions.csv"))).Skip(1).ToList();
        Assert.Equal(plan.Taps.Count(t => t.ExpectedReason == "ok"), transactions.Count);
        var riderTrips = (await File.ReadAllLinesAsync(Path.Combine(admin, "rider_trip.txt"))).Skip(1).ToList();
        Assert.NotEmpty(riderTrips);
        Assert.DoesNotContain(transactions.Concat(riderTrips), line => plan.Riders.Any(r => line.Contains(r.Account, StringComparison.Ordinal)));
        Assert.All(new[] { planner, metro }, folder => Assert.DoesNotContain(Directory.GetFiles(folder), f => Path.GetFileName(f) is "fare_transactions.csv" or "rider_trip.txt"));
        Assert.True(File.Exists(Path.Combine(planner, "suppressed.txt")));
        Assert.True(new FileInfo(Path.Combine(planner, "board_alight.txt")).Length < new FileInfo(Path.Combine(admin, "board_alight.txt")).Length);
    }

    [Fact]
    public async Task RefreshJob_TapsArrivingLate_KeepTheRollupsEqualToAFullRefresh()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var plan = Population.Plan(ClearingWorld.Day, riders: 200, seed: 29);
        var noon = plan.Taps[plan.Taps.Count / 2].At;

        // The morning arrives first, then the afternoon together with a tenth of the morning (a bus without network).
        var devices = await DevicesAsync(world, plan);
        await UploadAsync(world, plan, devices, (t, i) => t.At < noon && i % 10 != 0);
        var jobs = world.Services.GetRequiredService<AnalyticsJobs>();
        await jobs.ExecuteAsync(AnalyticsJobs.Refresh, Day, CancellationToken.None);
        await UploadAsync(world, plan, devices, (t, i) => !(t.At < noon && i % 10 != 0));
        await jobs.ExecuteAsync(AnalyticsJobs.Refresh, Day, CancellationToken.None);
        var incremental = await CellsAsync(world);
        var full = await jobs.ExecuteAsync(AnalyticsJobs.CloseDay, Day, CancellationToken.None);

        Assert.Contains(" 0 changed", full, StringComparison.Ordinal);
        Assert.Equal(incremental, await CellsAsync(world));
        Assert.Equal(plan.Taps.Count, await world.ScalarAsync<long>("SELECT sum(m0)::bigint FROM analytics_cells WHERE tbl = 1"));
    }

    [Fact]
    public async Task ExecuteAsync_RefreshAndCloseOfOneDayAtOnce_CountEveryTapOnce()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var plan = Population.Plan(ClearingWorld.Day, riders: 300, seed: 43);
        await UploadAsync(world, plan);
        var jobs = world.Services.GetRequiredService<AnalyticsJobs>();

        await Task.WhenAll(
            Task.Run(() => jobs.ExecuteAsync(AnalyticsJobs.Refresh, Day, CancellationToken.None)),
            Task.Run(() => jobs.ExecuteAsync(AnalyticsJobs.CloseDay, Day, CancellationToken.None)));

        Assert.Equal(plan.Taps.Count, await world.ScalarAsync<long>("SELECT sum(m0)::bigint FROM analytics_cells WHERE tbl = 1"));
        Assert.Equal(plan.Legs.Count, await world.ScalarAsync<long>("SELECT sum(m0)::bigint FROM analytics_cells WHERE tbl = 3"));
        Assert.Contains(" 0 changed", await jobs.ExecuteAsync(AnalyticsJobs.CloseDay, Day, CancellationToken.None), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DayPipeline_ClearDay_EndsWithTheAnalyticsCloseOfTheDay()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        await UploadAsync(world, Population.Plan(ClearingWorld.Day, riders: 50, seed: 31));
        Assert.True((await world.Services.GetRequiredService<DayRunner>().RunAsync(ClearingWorld.Day, CancellationToken.None)).Succeeded);

        var jobs = await world.Services.GetRequiredService<JobBoard>().ListAsync(50, CancellationToken.None);
        var close = Assert.Single(jobs, j => j.Kind == AnalyticsJobs.CloseDay);
        Assert.Equal("done", close.Status);
        Assert.True(await world.ScalarAsync<long>("SELECT count(*) FROM analytics_cells WHERE service_day = $1", ClearingWorld.Day) > 0);
    }

    /// <summary>A clearing world with the planned day uploaded by the gates, cleared, and closed by the analytics job.</summary>
    internal static async Task<ClearingWorld> ClearedDayAsync(PostgresFixture postgres, DayPlan plan)
    {
        var world = await ClearingWorld.StartAsync(postgres);
        await UploadAsync(world, plan);
        await world.ClearAsync();
        await world.Services.GetRequiredService<AnalyticsJobs>().ExecuteAsync(AnalyticsJobs.CloseDay, Day, CancellationToken.None);
        return world;
    }

    private static async Task<List<JsonElement>> RowsAsync(HttpClient client, string url)
    {
        using var response = await client.GetAsync(url);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{url}: {(int)response.StatusCode} {body}");
        return [.. JsonDocument.Parse(body).RootElement.GetProperty("rows").EnumerateArray()];
    }

    private static Task<List<string>> CellsAsync(ClearingWorld world) => world.ListAsync(
        "SELECT concat_ws('|', tbl, service_day, hour, operator_id, mode, route_id, stop_id, to_stop_id, category, reason, value, trip_id, m0, m1, m2, m3, riders, small_riders::text) FROM analytics_cells ORDER BY 1",
        r => r.GetString(0));

    private static async Task UploadAsync(ClearingWorld world, DayPlan plan) =>
        await UploadAsync(world, plan, await DevicesAsync(world, plan), (_, _) => true);

    /// <summary>One device per station entry, station exit and bus route the plan uses.</summary>
    private static async Task<Dictionary<string, TestDevice>> DevicesAsync(ClearingWorld world, DayPlan plan)
    {
        var devices = new Dictionary<string, TestDevice>(StringComparer.Ordinal);
        foreach (var key in plan.Taps.Select(t => t.DeviceKey).Distinct().Order(StringComparer.Ordinal))
        {
            var id = key.Replace('/', '-');
            devices[key] = key.Split('/') switch
            {
                ["bus", var route] => await world.AddDeviceAsync(id, SyntheticCity.BusOperator, "bus", stop: null, route: route),
                [var station, "entry"] => await world.AddDeviceAsync(id, SyntheticCity.MetroOperator, "metro-entry", station: station),
                [var station, _] => await world.AddDeviceAsync(id, SyntheticCity.MetroOperator, "metro-exit", station: station),
                _ => throw new InvalidOperationException(key),
            };
        }

        return devices;
    }

    /// <summary>Uploads the planned taps that <paramref name="which"/> selects, each device's in its sequence order, as the gates decided them.</summary>
    private static async Task UploadAsync(ClearingWorld world, DayPlan plan, Dictionary<string, TestDevice> devices, Func<PlannedTap, int, bool> which)
    {
        var categories = plan.Riders.ToDictionary(r => r.Account, r => r.Category);
        var codes = new Dictionary<string, string>(StringComparer.Ordinal);
        var sequences = new Dictionary<string, long>(StringComparer.Ordinal);
        var batches = new Dictionary<string, List<TapRecord>>(StringComparer.Ordinal);
        for (var i = 0; i < plan.Taps.Count; i++)
        {
            var tap = plan.Taps[i];
            var device = devices[tap.DeviceKey];
            var seq = sequences[tap.DeviceKey] = sequences.GetValueOrDefault(tap.DeviceKey) + 1;
            var at = new DateTimeOffset(tap.At, TimeZoneInfo.FindSystemTimeZoneById(SyntheticCity.TimeZone).GetUtcOffset(tap.At));
            world.Rider(tap.Account, categories[tap.Account]);
            var code = tap.RepeatOfPrevious ? codes[tap.Account] : world.Rider(tap.Account).Show(at.AddSeconds(-tap.CodeAgeSeconds), 0).ToText();
            codes[tap.Account] = code;
            if (!which(tap, i))
            {
                continue;
            }

            var record = world.TapWithCode(device, code, at, tap.ExpectedReason == "ok", tap.ExpectedReason, seq);
            record = record with { StopId = device.Mode == "bus" ? tap.StopId : null };
            if (!batches.TryGetValue(tap.DeviceKey, out var batch))
            {
                batches[tap.DeviceKey] = batch = [];
            }

            batch.Add(record);
        }

        foreach (var (key, batch) in batches)
        {
            // A device uploads contiguous ranges: send what this selection holds in runs of consecutive sequence numbers.
            foreach (var run in Runs(batch))
            {
                await world.UploadOkAsync(devices[key], [.. run]);
            }
        }
    }

    private static IEnumerable<List<TapRecord>> Runs(List<TapRecord> taps)
    {
        var run = new List<TapRecord>();
        foreach (var tap in taps.OrderBy(t => t.Seq))
        {
            if (run.Count > 0 && (tap.Seq != run[^1].Seq + 1 || run.Count == 5000))
            {
                yield return run;
                run = [];
            }

            run.Add(tap);
        }

        if (run.Count > 0)
        {
            yield return run;
        }
    }
}
