using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Transit.Simulation;

namespace Transit.Clearing.Tests;

/// <summary>
/// A clearing server with one simulated day uploaded, cleared and rolled up, and Debian's Chromium driven by
/// Playwright (never a downloaded browser). Screenshots go to artifacts/test-results/screenshots.
/// </summary>
public sealed class DashboardWorld : IAsyncLifetime
{
    private readonly PostgresFixture _postgres = new();
    private IPlaywright? _playwright;

    public ClearingWorld World { get; private set; } = null!;

    public DayPlan Plan { get; } = Population.Plan(ClearingWorld.Day, riders: 600, seed: 41);

    public IBrowser Browser { get; private set; } = null!;

    public Dictionary<string, string> Tokens { get; } = [];

    public async Task InitializeAsync()
    {
        await _postgres.InitializeAsync();
        World = await AnalyticsTests.ClearedDayAsync(_postgres, Plan);
        var tokens = World.Services.GetRequiredService<Access.TokenStore>();
        Tokens["planner"] = await tokens.CreateAsync("planner", null, "dashboard test", CancellationToken.None);
        Tokens["operator"] = await tokens.CreateAsync("operator", SyntheticCity.BusOperator, "dashboard test", CancellationToken.None);
        Tokens["admin"] = await tokens.CreateAsync("admin", null, "dashboard test", CancellationToken.None);
        _playwright = await Playwright.CreateAsync();
        Browser = await LaunchChromiumAsync(_playwright);
    }

    /// <summary>Debian's Chromium, headless: the one browser the tests use (never one Playwright would download).</summary>
    public static Task<IBrowser> LaunchChromiumAsync(IPlaywright playwright) =>
        playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        _playwright?.Dispose();
        if (World is not null)
        {
            await World.DisposeAsync();
        }

        await _postgres.DisposeAsync();
    }

    public static string ScreenshotFolder
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Transit.sln")))
                {
                    return Directory.CreateDirectory(Path.Combine(dir.FullName, "artifacts", "test-results", "screenshots")).FullName;
                }
            }

            return Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "screenshots")).FullName;
        }
    }
}

[Trait("Category", "Browser")]
public sealed class AnalyticsDashboardTests(DashboardWorld host) : IClassFixture<DashboardWorld>
{
    private static readonly string Day = ClearingWorld.Day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>The columns an analytics row is keyed by (the rest are measures, riders and the suppressed flag).</summary>
    private static readonly HashSet<string> Dimensions = ["operator", "mode", "route", "stop", "toOperator", "toMode", "toRoute", "toStop", "hour", "day", "category", "reason", "value"];

    public static TheoryData<string, string> PagesAndRoles()
    {
        var data = new TheoryData<string, string>();
        foreach (var page in new[] { "index", "hourly", "busiest", "od", "transfers", "statements" })
        {
            foreach (var role in new[] { "planner", "operator", "admin" })
            {
                data.Add(page, role);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(PagesAndRoles))]
    public async Task Page_SignedIn_LoadsWithoutConsoleErrorsAndDrawsItsCharts(string page, string role)
    {
        var query = page == "statements" && role == "admin" ? $"from={Day}&operator=metro" : $"from={Day}";
        var (browserPage, errors) = await OpenAsync(page, role, query);
        await browserPage.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(DashboardWorld.ScreenshotFolder, $"{page}-{role}.png"), FullPage = true });
        Assert.True(errors.Count == 0, string.Join("\n", errors));
        var error = await browserPage.QuerySelectorAsync("#error");
        if (page == "statements" && role == "planner")
        {
            Assert.Contains("Not allowed", await error!.InnerTextAsync(), StringComparison.Ordinal);
        }
        else
        {
            Assert.Null(error);
            Assert.True(page == "od" || await browserPage.EvaluateAsync<int>("() => document.querySelectorAll('canvas').length") > 0);
        }

        await browserPage.Context.CloseAsync();
    }

    [Theory]
    [InlineData("/dashboard")]
    [InlineData("/dashboard/")]
    public async Task BareUrl_OpensTheOverview_WithoutARedirectLoop(string path)
    {
        var context = await host.Browser.NewContextAsync();
        await context.AddInitScriptAsync($"sessionStorage.setItem('transit-token', '{host.Tokens["planner"]}');");
        var page = await context.NewPageAsync();
        var errors = new List<string>();
        page.PageError += (_, error) => errors.Add(error);
        page.RequestFailed += (_, request) => errors.Add($"request failed: {request.Url}");

        // A redirect to itself makes the browser give up (net::ERR_TOO_MANY_REDIRECTS) and GotoAsync throw.
        var response = await page.GotoAsync(new Uri(host.World.ApiUrl, $"{path}?from={Day}").ToString());
        await page.WaitForSelectorAsync("body[data-ready=true]");

        Assert.Equal(200, response!.Status);
        Assert.Equal("index", await page.EvaluateAsync<string>("() => document.body.dataset.page"));
        Assert.Equal(host.Plan.Taps.Count.ToString("N0", CultureInfo.InvariantCulture), await page.InnerTextAsync("#taps"));
        Assert.Empty(errors);
        await context.CloseAsync();
    }

    [Fact]
    public async Task Overview_RidersColumn_SaysWhatADashMeans()
    {
        // A day of 600 riders keeps every cell's riders, so every count is exact; a city's day has cells of many riders
        // whose rows cannot say how many distinct riders they hold. The API's answer is made so here.
        var (page, errors) = await OpenAsync("index", "planner", $"from={Day}", page => page.RouteAsync("**/api/analytics/overview?*", async route =>
        {
            var response = await route.FetchAsync();
            var answer = JsonNode.Parse(await response.TextAsync())!;
            foreach (var row in answer["reasons"]!["rows"]!.AsArray().Where(r => !(bool)r!["suppressed"]!).Take(2))
            {
                row!["riders"] = null;
            }

            await route.FulfillAsync(new RouteFulfillOptions { Response = response, Body = answer.ToJsonString() });
        }));
        var riders = await page.EvaluateAsync<string[]>("() => [...document.querySelectorAll('#reasons-table td.riders')].map(td => td.textContent + '|' + td.title)");

        Assert.Equal(2, riders.Count(r => r.StartsWith("—|not known exactly", StringComparison.Ordinal)));
        Assert.All(riders.Where(r => !r.StartsWith('—')), r => Assert.True(r == "suppressed|" || long.TryParse(r.TrimEnd('|').Replace(",", "", StringComparison.Ordinal), out _), r));
        var note = await page.InnerTextAsync("#riders-note");
        Assert.Contains("distinct riders", note, StringComparison.Ordinal);
        Assert.Contains("not known exactly", note, StringComparison.Ordinal);
        Assert.Empty(errors);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Overview_TapsByResult_DrawsRefusalsOnTheirOwnScale()
    {
        var (page, errors) = await OpenAsync("index", "admin", $"from={Day}");
        var ok = host.Plan.Taps.Count(t => t.ExpectedReason == "ok");
        var refused = host.Plan.Taps.Where(t => t.ExpectedReason != "ok").GroupBy(t => t.ExpectedReason).ToDictionary(g => g.Key, g => (long)g.Count());
        var labels = await page.EvaluateAsync<string[]>("() => Chart.getChart('reasons').data.labels");
        var refusals = await page.EvaluateAsync<long?[]>("() => Chart.getChart('reasons').data.datasets.find(d => d.yAxisID === 'refused').data");
        var refusedAxisMax = await page.EvaluateAsync<double>("() => Chart.getChart('reasons').scales.refused.max");
        var okAxisMax = await page.EvaluateAsync<double>("() => Chart.getChart('reasons').scales.y.max");

        Assert.Equal(refused, labels.Zip(refusals).Where(p => p.Second is not null).ToDictionary(p => p.First, p => p.Second!.Value));
        Assert.InRange(refusedAxisMax, refused.Values.Max(), ok / 5.0);
        Assert.True(okAxisMax >= ok, $"accepted axis up to {okAxisMax}, {ok} accepted");
        Assert.Empty(errors);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Overview_Money_WithThousandsSeparatorsAndTheCurrency()
    {
        var (page, errors) = await OpenAsync("index", "admin", $"from={Day}");
        var overview = JsonDocument.Parse((await FetchAsync(page, $"/api/analytics/overview?from={Day}")).Body).RootElement;
        var revenue = overview.GetProperty("revenue").GetProperty("rows").EnumerateArray().Sum(r => r.GetProperty("amount").GetInt64());
        Assert.True(revenue >= 100_000, $"the day's revenue {revenue} is under 1,000.00: nothing to separate");

        Assert.Equal("€" + (revenue / 100m).ToString("N2", CultureInfo.InvariantCulture), await page.InnerTextAsync("#revenue"));
        var amounts = await page.EvaluateAsync<string[]>("() => [...document.querySelectorAll('#revenue-table tbody td.money')].map(td => td.textContent)");
        Assert.NotEmpty(amounts);
        Assert.All(amounts, a => Assert.Matches(@"^€\d{1,3}(,\d{3})*\.\d{2}$", a));
        Assert.Empty(errors);
        await page.Context.CloseAsync();
    }

    [Theory]
    [InlineData("planner", false)]
    [InlineData("operator", true)]
    [InlineData("admin", true)]
    public async Task Menu_ShowsOnlyThePagesTheRoleMayOpen(string role, bool statements)
    {
        var (page, errors) = await OpenAsync("index", role, $"from={Day}");
        var links = await page.EvaluateAsync<string[]>("() => [...document.querySelectorAll('nav a')].map(a => a.getAttribute('href').split('.html')[0])");

        Assert.Equal(statements, links.Contains("statements"));
        Assert.Superset(new HashSet<string> { "index", "hourly", "busiest", "od", "transfers" }, links.ToHashSet());
        Assert.Empty(errors);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Hourly_ForAdmin_DrawsTheDaysBoardingsPerHour()
    {
        var (page, errors) = await OpenAsync("hourly", "admin", $"from={Day}");
        var drawn = await page.EvaluateAsync<long[]>("() => Chart.getChart('hourly-chart').data.datasets[0].data");
        var labels = await page.EvaluateAsync<string[]>("() => Chart.getChart('hourly-chart').data.labels");
        // Hours with alightings only (riders still travelling at the hour's turn) are drawn with no boardings.
        var boardings = host.Plan.Legs.GroupBy(l => l.Start.Hour).ToDictionary(g => $"{g.Key:D2}:00", g => (long)g.Count());
        Assert.Subset(labels.ToHashSet(), boardings.Keys.ToHashSet());
        Assert.Equal(labels.Select(l => boardings.GetValueOrDefault(l)), drawn);
        Assert.Empty(errors);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Overview_ForPlanner_ShowsTheDaysTapsAndJourneys()
    {
        var (page, errors) = await OpenAsync("index", "planner", $"from={Day}");
        Assert.Equal(host.Plan.Taps.Count.ToString("N0", CultureInfo.InvariantCulture), await page.InnerTextAsync("#taps"));
        var journeys = host.Plan.Legs.Select(l => (l.Account, l.JourneyIndex)).Distinct().Count();
        Assert.Equal(journeys.ToString("N0", CultureInfo.InvariantCulture), await page.InnerTextAsync("#journeys"));
        var reasons = await page.EvaluateAsync<long?[]>("() => Chart.getChart('reasons').data.datasets[0].data");
        Assert.Contains((long?)host.Plan.Taps.Count(t => t.ExpectedReason == "ok"), reasons);
        Assert.Empty(errors);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Statements_ForTheBusOperator_ShowItsSettlement()
    {
        var (page, errors) = await OpenAsync("statements", "operator", $"from={Day}");
        var gross = await host.World.ScalarAsync<long>("SELECT sum(gross)::bigint FROM settlement_lines WHERE operator_id = 'bus' AND service_day = $1", ClearingWorld.Day);
        Assert.Equal("€" + (gross / 100m).ToString("N2", CultureInfo.InvariantCulture), await page.InnerTextAsync("#gross"));
        Assert.Equal(new[] { gross / 100.0 }, (await page.EvaluateAsync<double[]>("() => Chart.getChart('statement-chart').data.datasets[0].data")).Take(1));
        Assert.Empty(errors);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Od_ForPlanner_HatchesExactlyTheSmallCells()
    {
        var (page, errors) = await OpenAsync("od", "planner", $"from={Day}&mode=bus");
        var hatched = await page.EvaluateAsync<int>("() => document.querySelectorAll('#od-heat td.suppressed').length");
        var shown = await page.EvaluateAsync<int>("() => document.querySelectorAll('#od-heat td[data-legs]').length");
        var pairs = host.Plan.Legs.Where(l => l.Mode == "bus").GroupBy(l => (l.FromStop, l.ToStop)).Select(g => g.Select(l => l.Account).Distinct().Count()).ToList();

        // Every small cell is hatched; some large ones are too, so that no small one is its row or column total less the rest.
        Assert.InRange(hatched, pairs.Count(r => r < 10), pairs.Count);
        Assert.Equal(pairs.Count, hatched + shown);
        Assert.InRange(shown, 0, pairs.Count(r => r >= 10));
        Assert.Empty(errors);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Login_Planner_GetsNoneOfTheRiderLevelDataAnAdminSees()
    {
        var admin = await SignedInAsync("admin");
        var planner = await SignedInAsync("planner");
        Assert.True(await planner.EvaluateAsync<int>("() => document.querySelectorAll('#od-heat td.suppressed').length") > 0);

        // An account's days and charges: the admin's answer holds them; the planner's signed-in page gets a refusal
        // that holds none of it.
        var rider = host.Plan.Riders.First(r => host.Plan.Legs.Any(l => l.Account == r.Account)).Account;
        var (adminStatus, adminBody) = await FetchAsync(admin, $"/api/accounts/{rider}");
        Assert.Equal(200, adminStatus);
        var charges = JsonDocument.Parse(adminBody).RootElement.GetProperty("charges");
        Assert.NotEqual(0, charges.GetArrayLength());
        var (plannerStatus, plannerBody) = await FetchAsync(planner, $"/api/accounts/{rider}");
        Assert.Equal(403, plannerStatus);
        Assert.DoesNotContain(rider, plannerBody, StringComparison.Ordinal);
        Assert.DoesNotContain("chargeId", plannerBody, StringComparison.Ordinal);

        // Cells of one or a few riders are rider-level: the admin's answers hold them, the planner's withhold every
        // one (no measure, no rider count), in every view the dashboard reads.
        var riderLevel = 0;
        foreach (var view in new[] { "od", "transfers", "boardings-by-stop", "boardings-by-route", "revenue-by-route", "boardings-by-hour", "journeys-by-hour", "boardings-by-category" })
        {
            var adminRows = Rows((await FetchAsync(admin, $"/api/analytics/{view}?from={Day}")).Body);
            var plannerRows = Rows((await FetchAsync(planner, $"/api/analytics/{view}?from={Day}")).Body).ToDictionary(Key, StringComparer.Ordinal);
            foreach (var small in adminRows.Where(r => r.GetProperty("riders").ValueKind == JsonValueKind.Number && r.GetProperty("riders").GetInt64() < 10))
            {
                riderLevel++;
                var seen = plannerRows[Key(small)];
                Assert.True(seen.GetProperty("suppressed").GetBoolean(), $"{view} {Key(small)} shown to the planner");
                Assert.All(seen.EnumerateObject().Where(p => !Dimensions.Contains(p.Name) && p.Value.ValueKind == JsonValueKind.Number), p => Assert.Fail($"{view} {Key(small)}: the planner gets {p.Name}"));
            }
        }

        Assert.True(riderLevel > 0, "the admin's answers hold rider-level cells");

        // Rider-level exports and another operator's statement stay refused.
        foreach (var (url, status) in new[] { ($"/api/statements/bus/{Day}", 403), ($"/api/analytics/exports/fare_transactions.csv?from={Day}", 404) })
        {
            Assert.Equal(status, (await FetchAsync(planner, url)).Status);
        }

        // And no answer names an account.
        var accounts = host.Plan.Riders.Select(r => r.Account).ToHashSet();
        Assert.DoesNotContain(Rows((await FetchAsync(planner, $"/api/analytics/od?from={Day}")).Body).SelectMany(r => r.EnumerateObject()),
            p => p.Value.ValueKind == JsonValueKind.String && accounts.Contains(p.Value.GetString()!));
        await planner.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(DashboardWorld.ScreenshotFolder, "planner-login-od.png"), FullPage = true });
        await admin.Context.CloseAsync();
        await planner.Context.CloseAsync();

        static string Key(JsonElement row) => string.Join('|', row.EnumerateObject().Where(p => Dimensions.Contains(p.Name)).Select(p => $"{p.Name}={p.Value.GetRawText()}"));
        static List<JsonElement> Rows(string body) => [.. JsonDocument.Parse(body).RootElement.GetProperty("rows").EnumerateArray()];
    }

    /// <summary>Signs in on the OD page as a person would: the token typed into the form.</summary>
    private async Task<IPage> SignedInAsync(string role)
    {
        var context = await host.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync(new Uri(host.World.ApiUrl, $"/dashboard/od.html?from={Day}&mode=bus").ToString());
        await page.FillAsync("#token", host.Tokens[role]);
        await page.ClickAsync("#login button");
        await page.WaitForSelectorAsync("body[data-ready=true]");
        return page;
    }

    /// <summary>A request from the signed-in page, with the token the page keeps.</summary>
    private static async Task<(int Status, string Body)> FetchAsync(IPage page, string url)
    {
        var answer = await page.EvaluateAsync<JsonElement>(
            $"async () => {{ const r = await fetch('{url}', {{ headers: {{ Authorization: 'Bearer ' + sessionStorage.getItem('transit-token') }} }}); return {{ status: r.status, body: await r.text() }}; }}");
        return (answer.GetProperty("status").GetInt32(), answer.GetProperty("body").GetString()!);
    }

    private async Task<(IPage Page, List<string> Errors)> OpenAsync(string name, string role, string query, Func<IPage, Task>? prepare = null)
    {
        var context = await host.Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        await context.AddInitScriptAsync($"sessionStorage.setItem('transit-token', '{host.Tokens[role]}');");
        var page = await context.NewPageAsync();
        if (prepare is not null)
        {
            await prepare(page);
        }

        var errors = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                errors.Add($"{message.Text} ({message.Location})");
            }
        };
        page.PageError += (_, error) => errors.Add(error);
        page.RequestFailed += (_, request) => errors.Add($"request failed: {request.Url}");
        await page.GotoAsync(new Uri(host.World.ApiUrl, $"/dashboard/{name}.html?{query}").ToString());
        await page.WaitForSelectorAsync("body[data-ready=true]");

        // Charts are drawn on the next animation frame: wait until every canvas has its chart.
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('canvas')].every(c => Chart.getChart(c))");
        return (page, errors);
    }
}
