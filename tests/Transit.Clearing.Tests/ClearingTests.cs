using System.Net;
using System.Text.Json;
using Transit.Analytics.Store;
using Transit.Clearing.Jobs;

namespace Transit.Clearing.Tests;

[Collection(ClearingCollection.Name)]
[Trait("Category", "Database")]
public sealed class ClearingTests(PostgresFixture postgres)
{
    private static readonly string Day = ClearingWorld.Day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

    [Theory]
    [InlineData("")]
    [InlineData("1st")]
    [InlineData("x; DROP DATABASE transit")]
    [InlineData("Upper")]
    public async Task CreateDatabase_NameNotAPlainIdentifier_IsRefusedBeforeAnySql(string name)
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => postgres.Cluster.CreateDatabaseAsync(name));
        Assert.Contains($"'{name}'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClearDay_ZoneFaresOnBusesWithAndWithoutTapOff_PricesEveryLegAndCountsTheUnpriced()
    {
        // Zakroczym: every bus fare depends on the zone where the rider gets off (zone 1 ↔ 2: 4.00, 1 ↔ 3: 5.00).
        await using var world = await ClearingWorld.StartAsync(postgres);
        var feed = Repository.PathOf("tests", "data", "gtfs", "zakroczym");
        var import = await world.Services.GetRequiredService<Gtfs.GtfsImporter>().ImportAsync(feed, new DateOnly(2026, 11, 1), CancellationToken.None);
        Assert.Contains(import.Warnings!, w => w.Contains("fare_needs_destination_without_tap_out", StringComparison.Ordinal));
        foreach (var rider in (string[])["ola", "piotr", "zofia"])
        {
            world.Rider(rider, category: "0"); // the feed's default rider category ("normalny")
        }

        var board = await world.AddDeviceAsync("z1-front", "0", "bus", stop: "100", route: "Z1");
        var alight = await world.AddDeviceAsync("z1-rear", "0", "bus-exit", stop: "117", route: "Z1");
        await world.UploadOkAsync(board,
            world.Tap(board, "ola", ClearingWorld.At(8, 0)), world.Tap(board, "piotr", ClearingWorld.At(9, 0)));
        await world.UploadOkAsync(alight,
            world.Tap(alight, "piotr", ClearingWorld.At(9, 20)), world.Tap(alight, "zofia", ClearingWorld.At(10, 0)));

        var books = await world.ClearAsync();

        Assert.True(books.Balanced);
        var charges = await world.ListAsync("SELECT account, amount FROM charges ORDER BY account", r => (r.GetString(0), r.GetInt64(1)));
        // ola boarded in zone 1 and never tapped off: the dearest fare from zone 1. piotr tapped off in zone 2.
        // zofia tapped off without boarding: a missing entry, the network's dearest fare.
        Assert.Equal([("ola", 500L), ("piotr", 400L), ("zofia", 500L)], charges);
        var legs = await world.ListAsync("SELECT account, from_stop, to_stop, flags FROM journey_legs ORDER BY account",
            r => (r.GetString(0), r.IsDBNull(1) ? null : r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2), r.GetInt32(3)));
        Assert.Equal([("ola", "100", null, 4), ("piotr", "100", "117", 0), ("zofia", "117", null, 1)], legs);
        Assert.Equal((1L, 500L), (books.UnpricedLegs, books.UnpricedAmount));
        Assert.Contains("1 legs unpriced by the fare rules, charged 500", books.ToString(), StringComparison.Ordinal);

        var admin = await world.ApiAsync("admin");
        var dayJson = JsonDocument.Parse(await admin.GetStringAsync($"/api/days/{Day}")).RootElement;
        Assert.Equal((1, 500), (dayJson.GetProperty("unpricedLegs").GetInt64(), dayJson.GetProperty("unpricedAmount").GetInt64()));
        var statement = JsonDocument.Parse(await admin.GetStringAsync($"/api/statements/0/{Day}")).RootElement;
        Assert.Equal((1, 500), (statement.GetProperty("unpricedLegs").GetInt64(), statement.GetProperty("unpricedAmount").GetInt64()));
    }

    [Fact]
    public async Task ClearDay_MetroAndBusRiders_ChargesEachAccountDayOnceAndBalances()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var (west, east, central) = (await Gate(world, "in-w1", "metro-entry", "W1"), await Gate(world, "out-e1", "metro-exit", "E1"), await Gate(world, "out-cen", "metro-exit", "CEN"));
        var eastIn = await Gate(world, "in-e1", "metro-entry", "E1");
        var westOut = await Gate(world, "out-w1", "metro-exit", "W1");
        var bus = await world.AddDeviceAsync("bus-17", "bus", "bus", stop: "BS1624", route: "B1");
        world.Rider("carol", "child");

        await world.UploadOkAsync(west, world.Tap(west, "alice", ClearingWorld.At(8, 0)), world.Tap(west, "carol", ClearingWorld.At(8, 5)));
        await world.UploadOkAsync(east, world.Tap(east, "alice", ClearingWorld.At(8, 20)));
        await world.UploadOkAsync(central, world.Tap(central, "carol", ClearingWorld.At(8, 15)));
        await world.UploadOkAsync(eastIn, world.Tap(eastIn, "alice", ClearingWorld.At(17, 0)));
        await world.UploadOkAsync(westOut, world.Tap(westOut, "alice", ClearingWorld.At(17, 20)));
        await world.UploadOkAsync(bus, world.Tap(bus, "bob", ClearingWorld.At(9, 0)));

        var books = await world.ClearAsync();

        Assert.True(books.Balanced);
        Assert.Equal(280 + 280 + 160 + 100, books.Charges);
        var charges = await world.ListAsync("SELECT account, revision, amount, status FROM charges ORDER BY account",
            r => (r.GetString(0), r.GetInt32(1), r.GetInt64(2), r.GetString(3)));
        Assert.Equal([("alice", 1, 560L, "succeeded"), ("bob", 1, 160L, "succeeded"), ("carol", 1, 100L, "succeeded")], charges);
        Assert.Equal(2, await world.ScalarAsync<int>("SELECT journeys FROM account_days WHERE account = 'alice'"));

        // Clearing the day again changes nothing: no account-day is charged twice.
        var again = await world.ClearAsync();
        Assert.Equal(books.Charges, again.Charges);
        Assert.Equal(3, await world.ScalarAsync<long>("SELECT count(*) FROM charges"));

        var admin = await world.ApiAsync("admin");
        var metro = JsonDocument.Parse(await admin.GetStringAsync($"/api/statements/metro/{Day}")).RootElement;
        Assert.Equal(660, metro.GetProperty("gross").GetInt64());
        Assert.Equal(8 + 2, metro.GetProperty("fee").GetInt64());
        Assert.Equal(650, metro.GetProperty("net").GetInt64());
        var csv = await admin.GetStringAsync($"/api/statements/bus/{Day}?format=csv");
        Assert.Contains($"bus,{Day},EUR,total,1,160,2,158", csv, StringComparison.Ordinal);
        var day = JsonDocument.Parse(await admin.GetStringAsync($"/api/days/{Day}")).RootElement;
        Assert.True(day.GetProperty("balanced").GetBoolean());
        Assert.Equal(7, day.GetProperty("taps").GetInt64());
    }

    [Fact]
    public async Task ClearDay_LateTaps_ChargeOrRefundExactlyTheDifference()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var west = await Gate(world, "in-w1", "metro-entry", "W1");
        var central = await Gate(world, "out-cen", "metro-exit", "CEN");
        var eastIn = await Gate(world, "in-e1", "metro-entry", "E1");
        var harbourOut = await Gate(world, "out-e2", "metro-exit", "E2");
        await world.UploadOkAsync(west, world.Tap(west, "dave", ClearingWorld.At(8, 0)));

        var first = await world.ClearAsync();
        Assert.Equal(400, first.Charges);
        Assert.Equal(2, await world.ScalarAsync<int>("SELECT flags FROM journeys WHERE account = 'dave'") & 2);

        // The exit gate was offline; its tap arrives after the day was charged: a complete one-zone ride costs 200.
        await world.UploadOkAsync(central, world.Tap(central, "dave", ClearingWorld.At(8, 12)));
        var second = await world.ClearAsync();
        Assert.Equal(200, second.Charges);

        // Another late journey in zone B: charged on its own, 200 more.
        await world.UploadOkAsync(eastIn, world.Tap(eastIn, "dave", ClearingWorld.At(18, 0)));
        await world.UploadOkAsync(harbourOut, world.Tap(harbourOut, "dave", ClearingWorld.At(18, 15)));
        var third = await world.ClearAsync();
        Assert.Equal(400, third.Charges);

        var charges = await world.ListAsync("SELECT revision, amount, status FROM charges WHERE account = 'dave' ORDER BY revision",
            r => (r.GetInt32(0), r.GetInt64(1), r.GetString(2)));
        Assert.Equal([(1, 400L, "succeeded"), (2, -200L, "refunded"), (3, 200L, "succeeded")], charges);
        Assert.Equal(400, await world.ScalarAsync<long>("SELECT charged_total FROM account_days WHERE account = 'dave'"));
        var metro = JsonDocument.Parse(await (await world.ApiAsync("admin")).GetStringAsync($"/api/statements/metro/{Day}")).RootElement;
        Assert.Equal(400, metro.GetProperty("gross").GetInt64());
    }

    [Fact]
    public async Task ClearDay_DailyCap_ChargesTheCapAndApportionsIt()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var west = await Gate(world, "in-w1", "metro-entry", "W1");
        var east = await Gate(world, "out-e1", "metro-exit", "E1");
        foreach (var hour in new[] { 7, 12, 18 })
        {
            await world.UploadOkAsync(west, world.Tap(west, "frank", ClearingWorld.At(hour, 0)));
            await world.UploadOkAsync(east, world.Tap(east, "frank", ClearingWorld.At(hour, 20)));
        }

        var books = await world.ClearAsync();

        Assert.Equal(600, books.Charges);
        var journeys = await world.ListAsync("SELECT fare_amount, charged_amount, cap_adjustment FROM journeys WHERE account = 'frank' ORDER BY journey_no",
            r => (r.GetInt64(0), r.GetInt64(1), r.GetInt64(2)));
        Assert.Equal([(280L, 280L, 0L), (280L, 280L, 0L), (280L, 40L, 240L)], journeys);
        Assert.Equal(600, await world.ScalarAsync<long>("SELECT sum(share)::bigint FROM journey_legs WHERE account = 'frank'"));
    }

    [Fact]
    public async Task ClearDays_WeeklyCap_CountsEarlierDaysOfTheWeek()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var ride = await TwoZoneRides(world, "hana");
        var charged = new List<long>();
        for (var d = 0; d < 4; d++)
        {
            foreach (var hour in new[] { 7, 12, 18 })
            {
                await ride(Monday.AddDays(d), hour);
            }

            charged.Add((await world.ClearAsync(Monday.AddDays(d))).Charges);
        }

        // Three two-zone rides a day (840) meet the daily cap (600); on Thursday the weekly cap (2,200) leaves 400.
        Assert.Equal([600L, 600L, 600L, 400L], charged);
    }

    [Fact]
    public async Task ClearDays_LateTapEarlierInTheWeek_RepricesTheLaterDaysOfTheWeeklyCap()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var rideAsync = await TwoZoneRides(world, "hana");
        var monday = Monday;
        await rideAsync(monday, 7);
        for (var d = 1; d < 4; d++)
        {
            foreach (var hour in new[] { 7, 12, 18 })
            {
                await rideAsync(monday.AddDays(d), hour);
            }
        }

        var charged = new List<long>();
        for (var d = 0; d < 4; d++)
        {
            charged.Add((await world.ClearAsync(monday.AddDays(d))).Charges);
        }

        // Monday 280, then the daily cap (600) each day: 2,080 of the weekly 2,200.
        Assert.Equal([280L, 600L, 600L, 600L], charged);

        // Two more Monday rides arrive late: Monday reaches its daily cap, so Thursday has only 400 of the week left.
        await rideAsync(monday, 12);
        await rideAsync(monday, 18);
        Assert.Equal(600, (await world.ClearAsync(monday)).Charges);
        var dirty = await world.ListAsync("SELECT service_day FROM dirty_account_days WHERE account = 'hana' ORDER BY 1", r => r.GetFieldValue<DateOnly>(0));
        Assert.Equal([monday.AddDays(1), monday.AddDays(2), monday.AddDays(3)], dirty);
        for (var d = 1; d < 4; d++)
        {
            Assert.True((await world.ClearAsync(monday.AddDays(d))).Balanced);
        }

        var thursday = await world.ListAsync("SELECT revision, amount FROM charges WHERE account = 'hana' AND service_day = $1 ORDER BY revision",
            r => (r.GetInt32(0), r.GetInt64(1)), monday.AddDays(3));
        Assert.Equal([(1, 600L), (2, -200L)], thursday);
        Assert.Equal(2_200, await world.ScalarAsync<long>("SELECT sum(amount)::bigint FROM charges WHERE account = 'hana'"));
        Assert.Equal(4, await world.ScalarAsync<long>("SELECT count(*) FROM account_days WHERE account = 'hana'"));
        var all = await world.ListAsync("SELECT service_day - $1, revision, amount FROM charges WHERE account = 'hana' ORDER BY 1, 2",
            r => (r.GetInt32(0), r.GetInt32(1), r.GetInt64(2)), monday);
        Assert.Equal([(0, 1, 280L), (0, 2, 320L), (1, 1, 600L), (2, 1, 600L), (3, 1, 600L), (3, 2, -200L)], all);
    }

    [Fact]
    public async Task DeclinedPayment_PutsTheAccountOnTheDenyList_GatesSeeIt_SettlingTakesItOff()
    {
        await using var world = await ClearingWorld.StartAsync(postgres, o => o.Payments.DeclineAccounts = ["eve"]);
        var west = await Gate(world, "in-w1", "metro-entry", "W1");
        var east = await Gate(world, "out-e1", "metro-exit", "E1");
        await world.UploadOkAsync(west, world.Tap(west, "eve", ClearingWorld.At(8, 0)), world.Tap(west, "alice", ClearingWorld.At(8, 1)));
        await world.UploadOkAsync(east, world.Tap(east, "eve", ClearingWorld.At(8, 20)), world.Tap(east, "alice", ClearingWorld.At(8, 21)));

        await world.ClearAsync();

        Assert.Equal("declined", await world.ScalarAsync<string>("SELECT status FROM charges WHERE account = 'eve'"));
        Assert.Equal(280, await world.ScalarAsync<long>("SELECT debt FROM accounts WHERE account = 'eve'"));
        var delta = JsonDocument.Parse(await west.Client.GetStringAsync("/device/v1/denylist?since=1")).RootElement;
        Assert.Equal(2, delta.GetProperty("version").GetInt64());
        var added = Transit.RideCodes.DenyListDelta.Open(
            Transit.RideCodes.SignedDocument.Parse(delta.GetProperty("deltas")[0].GetRawText()), world.Keys.RootPublicKey, world.Keys.KeySet);
        Assert.Equal(["eve"], added.AddAccounts.ToArray());

        var admin = await world.ApiAsync("admin");
        using var settle = await admin.PostAsync("/api/accounts/eve/settle", null);
        Assert.Equal(HttpStatusCode.OK, settle.StatusCode);
        await world.Services.GetRequiredService<Charging.DenyListPublisher>().PublishAsync(CancellationToken.None);

        var removal = JsonDocument.Parse(await west.Client.GetStringAsync("/device/v1/denylist?since=2")).RootElement;
        var removed = Transit.RideCodes.DenyListDelta.Open(
            Transit.RideCodes.SignedDocument.Parse(removal.GetProperty("deltas")[0].GetRawText()), world.Keys.RootPublicKey, world.Keys.KeySet);
        Assert.Equal(["eve"], removed.RemoveAccounts.ToArray());
        Assert.Equal(0, await world.ScalarAsync<long>("SELECT debt FROM accounts WHERE account = 'eve'"));
        Assert.True((await world.Services.GetRequiredService<Settlement.BalanceCheck>().CheckAsync(ClearingWorld.Day, CancellationToken.None)).Balanced);
    }

    [Fact]
    public async Task Api_OperatorToken_SeesOnlyItsOwnStatementAndNoRiderData()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var bus = await world.AddDeviceAsync("bus-1", "bus", "bus", stop: "BS1624", route: "B1");
        await world.UploadOkAsync(bus, world.Tap(bus, "bob", ClearingWorld.At(9, 0)));
        await world.ClearAsync();

        var busOperator = await world.ApiAsync("operator", "bus");
        Assert.Equal(HttpStatusCode.OK, (await busOperator.GetAsync($"/api/statements/bus/{Day}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await busOperator.GetAsync($"/api/statements/metro/{Day}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await busOperator.GetAsync("/api/accounts/bob")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await busOperator.GetAsync("/api/jobs")).StatusCode);
        var fleet = JsonDocument.Parse(await busOperator.GetStringAsync("/api/fleet")).RootElement;
        Assert.All(fleet.EnumerateArray(), d => Assert.Equal("bus", d.GetProperty("operatorId").GetString()));
        var validator = fleet.EnumerateArray().Single(d => d.GetProperty("deviceId").GetString() == "bus-1");
        Assert.Equal("BS1624", validator.GetProperty("stopId").GetString());
        var lastTap = validator.GetProperty("lastTap");
        Assert.Equal(("B1", "BS1624"), (lastTap.GetProperty("routeId").GetString(), lastTap.GetProperty("stopId").GetString()));
        var statement = JsonDocument.Parse(await busOperator.GetStringAsync($"/api/statements/bus/{Day}")).RootElement;
        Assert.Equal((1, 1, "EUR"), (statement.GetProperty("journeys").GetInt64(), statement.GetProperty("legs").GetInt64(), statement.GetProperty("currency").GetString()));

        var planner = await world.ApiAsync("planner");
        Assert.Equal(HttpStatusCode.OK, (await planner.GetAsync($"/api/days/{Day}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await planner.GetAsync($"/api/statements/bus/{Day}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await planner.GetAsync("/api/accounts/bob")).StatusCode);

        using var anonymous = new HttpClient { BaseAddress = world.ApiUrl };
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"/api/days/{Day}")).StatusCode);
        var admin = await world.ApiAsync("admin");
        var account = JsonDocument.Parse(await admin.GetStringAsync("/api/accounts/bob")).RootElement;
        Assert.Equal(160, account.GetProperty("charges")[0].GetProperty("amount").GetInt64());
        Assert.Equal(1, await world.ScalarAsync<long>("SELECT count(*) FROM api_tokens WHERE role = 'admin' AND length(token_hash) = 32"));
    }

    [Fact]
    public async Task JobStorage_EightProcessesOpeningAFreshDatabaseAtOnce_InstallHangfiresSchemaOnce()
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        var sources = Enumerable.Range(0, 8).Select(_ => Npgsql.NpgsqlDataSource.Create(connectionString)).ToList();
        try
        {
            await Task.WhenAll(sources.Select(s => Task.Run(() => ClearingJobStorage.InstallAsync(s, CancellationToken.None))));

            await using var check = sources[0].CreateCommand("SELECT count(*), max(version) FROM hangfire.schema");
            await using var reader = await check.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal(1, reader.GetInt64(0));
            Assert.True(reader.GetInt32(1) >= 23, $"schema version {reader.GetInt32(1)}");
        }
        finally
        {
            foreach (var source in sources)
            {
                await source.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task RecurringJobs_SweepEveryMinute_CloseOfDayAtTheCutoffInTheServiceDaysTimeZone()
    {
        await using var world = await ClearingWorld.StartAsync(postgres, o => o.ClearingCutoff = TimeSpan.FromMinutes(150));
        await using var server = world.Services.GetRequiredService<JobServer>();
        await server.StartAsync(CancellationToken.None);

        using var connection = world.Services.GetRequiredService<Hangfire.JobStorage>().GetConnection();
        var recurring = Hangfire.Storage.StorageConnectionExtensions.GetRecurringJobs(connection).ToDictionary(j => j.Id);
        Assert.Equal("* * * * *", recurring[JobKinds.Sweep].Cron);
        // The service day starts at 04:00 local time; the cut-off is 2.5 h after the next one starts.
        Assert.Equal("30 6 * * *", recurring[JobKinds.CloseOfDay].Cron);
        Assert.Equal(Transit.Simulation.SyntheticCity.TimeZone, recurring[JobKinds.CloseOfDay].TimeZoneId);
        Assert.Equal(Transit.Simulation.SyntheticCity.TimeZone, recurring[JobKinds.Sweep].TimeZoneId);
    }

    [Fact]
    public async Task CloseOfDay_JustAfterTheCutoff_QueuesTheDayThatClosed_NotADayWithoutTaps()
    {
        await using var world = await WorldWithABusTapAsync();
        var calendar = world.Services.GetRequiredService<ServiceCalendar>();
        JobScheduler At(DateTimeOffset now) => new(
            world.Services.GetRequiredService<Hangfire.JobStorage>(), world.Services.GetRequiredService<Hangfire.IBackgroundJobClient>(),
            world.Database.DataSource, calendar, world.Options, new FixedTime(now));

        Assert.Equal($"queued {Day}", await At(calendar.Cutoff(ClearingWorld.Day).AddMinutes(1)).CloseOfDayAsync(CancellationToken.None));
        Assert.True(world.Services.GetRequiredService<JobScheduler>().IsPending("day:" + Day));
        var next = ClearingWorld.Day.AddDays(1);
        Assert.Equal($"{JobKinds.DayKey(next)} had no taps", await At(calendar.Cutoff(next).AddMinutes(1)).CloseOfDayAsync(CancellationToken.None));
        Assert.False(world.Services.GetRequiredService<JobScheduler>().IsPending("day:" + JobKinds.DayKey(next)));
    }

    [Fact]
    public async Task JobDashboard_AnonymousOperatorAndPlannerRefused_AdminSeesIt()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        await using var server = world.Services.GetRequiredService<JobServer>();
        await server.StartAsync(CancellationToken.None);
        using var anonymous = new HttpClient { BaseAddress = world.ApiUrl };
        var busOperator = await world.ApiAsync("operator", "bus");
        var planner = await world.ApiAsync("planner");
        var admin = await world.ApiAsync("admin");

        foreach (var path in (string[])["/jobs", "/jobs/recurring", "/jobs/jobs/succeeded"])
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(path)).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await busOperator.GetAsync(path)).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await planner.GetAsync(path)).StatusCode);
        }

        // The dashboard's actions (here: trigger a recurring job) are refused the same way.
        using (var trigger = new FormUrlEncodedContent([new("jobs[]", JobKinds.Sweep)]))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync("/jobs/recurring/trigger", trigger)).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await busOperator.PostAsync("/jobs/recurring/trigger", trigger)).StatusCode);
        }

        using var page = await admin.GetAsync("/jobs/recurring");
        var html = await page.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("Transit clearing jobs", html, StringComparison.Ordinal);
        Assert.Contains(JobKinds.Sweep, html, StringComparison.Ordinal);
        Assert.Contains(JobKinds.CloseOfDay, html, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/jobs")).StatusCode);
        Assert.True(server.IsRunning(TimeSpan.FromMinutes(1)));
    }

    [Fact]
    public async Task Jobs_DayPipeline_QueuedOnceRunsEachStepInOrderAndIsVisible()
    {
        await using var world = await WorldWithABusTapAsync();
        var scheduler = world.Services.GetRequiredService<JobScheduler>();

        var pipeline = scheduler.QueueDay(ClearingWorld.Day);
        Assert.Equal(pipeline, scheduler.QueueDay(ClearingWorld.Day));
        Assert.Equal(["Enqueued", "Awaiting", "Awaiting", "Awaiting", "Awaiting"], scheduler.States(pipeline));
        var (succeeded, _, _) = await world.Services.GetRequiredService<DayRunner>().RunAsync(ClearingWorld.Day, CancellationToken.None);

        Assert.True(succeeded);
        Assert.All(scheduler.States(pipeline), s => Assert.Equal("Succeeded", s));
        var jobs = JsonDocument.Parse(await (await world.ApiAsync("admin")).GetStringAsync("/api/jobs")).RootElement.EnumerateArray().ToList();
        var steps = pipeline.Select(id => jobs.Single(j => j.GetProperty("jobId").GetInt64() == long.Parse(id, System.Globalization.CultureInfo.InvariantCulture))).ToList();
        Assert.Equal(
            [(JobKinds.ClearDay, Day), (JobKinds.Payments, "all"), (JobKinds.BalanceCheck, Day), (JobKinds.Reconcile, Day), (AnalyticsJobs.CloseDay, Day)],
            steps.Select(j => (j.GetProperty("kind").GetString(), j.GetProperty("key").GetString())));
        Assert.All(steps, j => Assert.Equal("done", j.GetProperty("status").GetString()));
        Assert.All(steps, j => Assert.Equal(1, j.GetProperty("attempts").GetInt32()));
        Assert.All(steps, j => Assert.True(j.GetProperty("finishedAt").GetDateTimeOffset() >= j.GetProperty("startedAt").GetDateTimeOffset()));

        // Each step started only after the one before ran, by the order Hangfire recorded the states in (its serial
        // state ids), which no clock reading can blur. Not after the parent's Succeeded row: Hangfire may enqueue a
        // continuation, and a worker start it, a moment before that row is written (seen 1 run in 6, under load).
        foreach (var (before, after) in pipeline.Zip(pipeline.Skip(1)))
        {
            Assert.True(
                await world.ScalarAsync<bool>(
                    $"""
                    SELECT (SELECT min(id) FROM {ClearingJobStorage.Schema}.state WHERE jobid = $2 AND name = 'Processing')
                         > (SELECT max(id) FROM {ClearingJobStorage.Schema}.state WHERE jobid = $1 AND name = 'Processing')
                    """,
                    long.Parse(before, System.Globalization.CultureInfo.InvariantCulture), long.Parse(after, System.Globalization.CultureInfo.InvariantCulture)),
                $"job {after} started before job {before} succeeded");
        }

        Assert.Contains("1 charges", steps[0].GetProperty("result").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, await world.ScalarAsync<long>("SELECT count(*) FROM charges"));
        Assert.True(await world.ScalarAsync<bool>("SELECT balance_ok FROM service_days WHERE service_day = $1", ClearingWorld.Day));
    }

    [Fact]
    public async Task Jobs_BalanceCheckFails_TheRunStopsAtOnceNamingItAndTheNextRunRetriesItNow()
    {
        await using var world = await WorldWithABusTapAsync();
        await world.ClearAsync();
        await world.ScalarAsync<int>("UPDATE settlement_lines SET net = net + 1, gross = gross + 1 RETURNING 1");
        var runner = world.Services.GetRequiredService<DayRunner>();

        var failed = await runner.RunAsync(ClearingWorld.Day, CancellationToken.None);
        Assert.False(failed.Succeeded);
        Assert.Equal(["done", "done", "queued", "queued", "queued"], failed.Steps.Select(j => j.Status));
        Assert.Equal("Scheduled", failed.Steps[2].State);

        // Normally the first attempt; on a machine loaded enough to hold the runner's poll past the 10 s retry delay, a later one.
        var attempt = System.Text.RegularExpressions.Regex.Match(failed.Steps[2].LastError ?? "", "^Retry attempt ([1-5]) of 5: balance check failed");
        Assert.True(attempt.Success, failed.Steps[2].LastError);
        Assert.StartsWith($"balance-check queued (Scheduled): {attempt.Value}", failed.Outcome, StringComparison.Ordinal);

        await world.ScalarAsync<int>("UPDATE settlement_lines SET net = net - 1, gross = gross - 1 RETURNING 1");
        var retried = await runner.RunAsync(ClearingWorld.Day, CancellationToken.None);
        Assert.True(retried.Succeeded, retried.Outcome);
        Assert.Equal(failed.Steps.Select(j => j.JobId), retried.Steps.Select(j => j.JobId));
        Assert.Equal(int.Parse(attempt.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) + 1, retried.Steps[2].Attempts);
    }

    [Fact]
    public async Task Jobs_ClearDayWhileAnotherWorkerHoldsTheDay_WaitsForItThenClearsOnce()
    {
        await using var world = await WorldWithABusTapAsync();
        var scheduler = world.Services.GetRequiredService<JobScheduler>();
        var server = world.Services.GetRequiredService<JobServer>();

        // Another worker (here: the test) is clearing the day.
        var other = await world.Services.GetRequiredService<JobLocks>().HoldAsync(JobKinds.ClearDay, Day, CancellationToken.None);
        var pipeline = scheduler.QueueDay(ClearingWorld.Day);
        await server.StartAsync(CancellationToken.None);
        try
        {
            await WaitForAsync(() => scheduler.States(pipeline)[0] == "Processing");
            await Task.Delay(TimeSpan.FromSeconds(2));
            Assert.Equal("Processing", scheduler.States(pipeline)[0]);
            Assert.Equal(0, await world.ScalarAsync<long>("SELECT count(*) FROM charges"));

            await other.DisposeAsync();
            await WaitForAsync(() => !scheduler.IsPending(pipeline));
            Assert.All(scheduler.States(pipeline), s => Assert.Equal("Succeeded", s));
            Assert.Equal(1, await world.ScalarAsync<long>("SELECT count(*) FROM charges"));
        }
        finally
        {
            await server.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Scheduler_DayPastItsCutoff_IsClearedAndLateTapsAreRepriced()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var west = await Gate(world, "in-w1", "metro-entry", "W1");
        var central = await Gate(world, "out-cen", "metro-exit", "CEN");
        var scheduler = world.Services.GetRequiredService<JobScheduler>();
        await world.UploadOkAsync(west, world.Tap(west, "gina", ClearingWorld.At(8, 0)));

        await RunScheduledJobsAsync();
        Assert.Equal([(1, 400L)], await world.ListAsync("SELECT revision, amount FROM charges", r => (r.GetInt32(0), r.GetInt64(1))));

        await world.UploadOkAsync(central, world.Tap(central, "gina", ClearingWorld.At(8, 9)));
        await RunScheduledJobsAsync();
        Assert.Equal([(1, 400L), (2, -200L)], await world.ListAsync("SELECT revision, amount FROM charges ORDER BY revision", r => (r.GetInt32(0), r.GetInt64(1))));
        Assert.Equal(2, await world.ScalarAsync<int>("SELECT clearing_runs FROM service_days WHERE service_day = $1", ClearingWorld.Day));
        Assert.True(await world.ScalarAsync<bool>("SELECT balance_ok FROM service_days WHERE service_day = $1", ClearingWorld.Day));

        // The sweep queues the day past its cut-off; the runner joins that pipeline rather than queueing another.
        async Task RunScheduledJobsAsync()
        {
            await scheduler.SweepAsync(CancellationToken.None);
            Assert.True(scheduler.IsPending("day:" + Day));
            Assert.True((await world.Services.GetRequiredService<DayRunner>().RunAsync(ClearingWorld.Day, CancellationToken.None)).Succeeded);
        }
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    /// <summary>A world where rider bob tapped once on a bus: a day with one charge to clear.</summary>
    private async Task<ClearingWorld> WorldWithABusTapAsync()
    {
        var world = await ClearingWorld.StartAsync(postgres);
        var bus = await world.AddDeviceAsync("bus-1", "bus", "bus", stop: "BS1624", route: "B1");
        await world.UploadOkAsync(bus, world.Tap(bus, "bob", ClearingWorld.At(9, 0)));
        return world;
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task Reconciliation_DeviceDay_ListsTheGaps()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var gate = await Gate(world, "in-w1", "metro-entry", "W1");
        await world.UploadOkAsync(gate, world.Tap(gate, "a", ClearingWorld.At(8, 0), seq: 1), world.Tap(gate, "b", ClearingWorld.At(8, 1), seq: 2));
        await world.UploadOkAsync(gate, world.Tap(gate, "c", ClearingWorld.At(8, 5), seq: 6));

        var admin = await world.ApiAsync("admin");
        var device = JsonDocument.Parse(await admin.GetStringAsync($"/api/days/{Day}/reconciliation")).RootElement[0];
        Assert.Equal(3, device.GetProperty("received").GetInt64());
        Assert.Equal(3, device.GetProperty("missing").GetInt64());
        Assert.Equal(3, device.GetProperty("gaps")[0].GetProperty("from").GetInt64());
        Assert.Equal(5, device.GetProperty("gaps")[0].GetProperty("to").GetInt64());
    }

    private static readonly DateOnly Monday = new(2026, 11, 16);

    /// <summary>Registers W1 entry and E1 exit gates; the function taps <paramref name="account"/> through both (20 minutes, two zones) at an hour of a day.</summary>
    private static async Task<Func<DateOnly, int, Task>> TwoZoneRides(ClearingWorld world, string account)
    {
        var west = await Gate(world, "in-w1", "metro-entry", "W1");
        var east = await Gate(world, "out-e1", "metro-exit", "E1");
        return async (day, hour) =>
        {
            await world.UploadOkAsync(west, world.Tap(west, account, ClearingWorld.At(hour, 0, day: day)));
            await world.UploadOkAsync(east, world.Tap(east, account, ClearingWorld.At(hour, 20, day: day)));
        };
    }

    private static Task<TestDevice> Gate(ClearingWorld world, string id, string mode, string station) =>
        world.AddDeviceAsync(id, "metro", mode, station: station);
}
