using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Playwright;
using Transit.Analytics.Rollups;

namespace Transit.Analytics.Tests;

public sealed class DashboardTests(DashboardHost host) : IClassFixture<DashboardHost>
{
    private const string Day = "2026-11-24";

    public static TheoryData<string, string> PagesAndRoles()
    {
        var data = new TheoryData<string, string>();
        foreach (var page in new[] { "index", "hourly", "busiest", "od", "transfers", "statements" })
        {
            data.Add(page, DashboardHost.PlannerToken);
            data.Add(page, DashboardHost.AdminToken);
        }

        data.Add("statements", DashboardHost.OperatorToken);
        return data;
    }

    [Theory]
    [MemberData(nameof(PagesAndRoles))]
    public async Task Page_SignedIn_LoadsWithoutConsoleErrors(string page, string token)
    {
        var query = page == "statements" ? $"from={Day}&operator=bus" : $"from={Day}";
        var (browserPage, errors) = await OpenAsync(page, token, query);
        await browserPage.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(DashboardHost.ScreenshotFolder, $"{page}-{token}.png"), FullPage = true });
        Assert.Empty(errors);
        var error = await browserPage.QuerySelectorAsync("#error");
        if (page == "statements" && token == DashboardHost.PlannerToken)
        {
            Assert.NotNull(error);
            Assert.Contains("Not allowed", await error.InnerTextAsync(), StringComparison.Ordinal);
        }
        else
        {
            Assert.Null(error);
            Assert.True(await browserPage.EvaluateAsync<int>("() => document.querySelectorAll('canvas').length") > 0 || page == "od");
        }

        await browserPage.Context.CloseAsync();
    }

    [Fact]
    public async Task Hourly_ChartForAdmin_DrawsTheDaysBoardingsPerHour()
    {
        var (page, errors) = await OpenAsync("hourly", DashboardHost.AdminToken, $"from={Day}");
        var drawn = await page.EvaluateAsync<long[]>("() => Chart.getChart('hourly-chart').data.datasets[0].data");
        var labels = await page.EvaluateAsync<string[]>("() => Chart.getChart('hourly-chart').data.labels");
        var expected = host.Day.Legs.GroupBy(l => host.City.Options.HourOf(l.BoardedAt)).OrderBy(g => g.Key).ToList();
        Assert.Equal(expected.Select(g => $"{g.Key:D2}:00"), labels);
        Assert.Equal(expected.Select(g => (long)g.Count()), drawn);
        Assert.Empty(errors);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Overview_ForPlanner_ShowsTheDaysTotals()
    {
        var (page, errors) = await OpenAsync("index", DashboardHost.PlannerToken, $"from={Day}");
        Assert.Equal(host.Day.Taps.Count.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), await page.InnerTextAsync("#taps"));
        var journeys = host.Day.Legs.Select(l => (l.Rider, l.JourneyNo)).Distinct().Count();
        Assert.Equal(journeys.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), await page.InnerTextAsync("#journeys"));
        var reasons = await page.EvaluateAsync<long[]>("() => Chart.getChart('reasons').data.datasets[0].data");
        Assert.Contains((long)host.Day.Taps.Count(t => t.Accepted), reasons);
        Assert.Empty(errors);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Od_ForPlanner_HatchesExactlyTheSmallCells()
    {
        var (page, errors) = await OpenAsync("od", DashboardHost.PlannerToken, $"from={Day}&mode=bus");
        var suppressedCells = await page.EvaluateAsync<int>("() => document.querySelectorAll('#od-heat td.suppressed').length");
        var shownCells = await page.EvaluateAsync<int>("() => document.querySelectorAll('#od-heat td[data-legs]').length");
        var pairs = host.Day.Legs.Where(l => l.Mode == Chaining.LegMode.Bus && l.Destination is not null)
            .GroupBy(l => (l.Origin, l.Destination)).Select(g => g.Select(l => l.Rider).Distinct().Count()).ToList();
        Assert.Equal(pairs.Count(r => r < 10), suppressedCells);
        Assert.Equal(pairs.Count(r => r >= 10), shownCells);
        Assert.Empty(errors);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Login_PlannerToken_CannotReachRiderLevelData()
    {
        var context = await host.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync($"{host.BaseUrl}/dashboard/od.html?from={Day}&mode=bus");
        await page.FillAsync("#token", DashboardHost.PlannerToken);
        await page.ClickAsync("#login button");
        await page.WaitForSelectorAsync("body[data-ready=true]");
        Assert.True(await page.EvaluateAsync<int>("() => document.querySelectorAll('#od-heat td.suppressed').length") > 0);

        // The planner's session, from the browser: rider-level exports and other operators' statements are refused.
        var fareTransactions = await page.EvaluateAsync<int>($"async () => (await fetch('/api/analytics/exports/fare_transactions.csv?from={Day}', {{ headers: {{ Authorization: 'Bearer ' + sessionStorage.getItem('transit-token') }} }})).status");
        var statement = await page.EvaluateAsync<int>($"async () => (await fetch('/api/statements/bus/{Day}', {{ headers: {{ Authorization: 'Bearer ' + sessionStorage.getItem('transit-token') }} }})).status");
        Assert.Equal(404, fareTransactions);
        Assert.Equal(403, statement);

        // No answer a planner gets carries a pseudonym, and no small row carries its numbers.
        using var http = new HttpClient { BaseAddress = new Uri(host.BaseUrl) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", DashboardHost.PlannerToken);
        var pseudonyms = host.Day.RiderDays.Select(d => Privacy.Pseudonymizer.Text(d.Rider)).ToHashSet();
        foreach (var view in new[] { "od", "transfers", "boardings-by-stop", "boardings-by-hour", "taps-by-reason", "journeys-by-hour" })
        {
            var body = await http.GetStringAsync($"/api/analytics/{view}?from={Day}");
            Assert.DoesNotContain(pseudonyms, body.Contains);
            foreach (var row in JsonDocument.Parse(body).RootElement.GetProperty("rows").EnumerateArray().Where(r => r.GetProperty("suppressed").GetBoolean()))
            {
                Assert.All(row.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.Number), p => Assert.Fail($"{view}: suppressed row shows {p.Name}"));
            }
        }

        await context.CloseAsync();
    }

    [Fact]
    public async Task Api_OperatorToken_SeesOnlyItsOwnOperator()
    {
        using var http = new HttpClient { BaseAddress = new Uri(host.BaseUrl) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", DashboardHost.OperatorToken);
        Assert.Equal(HttpStatusCode.Forbidden, (await http.GetAsync($"/api/analytics/boardings-by-route?from={Day}&operator=metro")).StatusCode);
        var body = JsonDocument.Parse(await http.GetStringAsync($"/api/analytics/boardings-by-route?from={Day}"));
        Assert.All(body.RootElement.GetProperty("rows").EnumerateArray(), r => Assert.Equal("bus", r.GetProperty("operator").GetString()));
        Assert.Equal(HttpStatusCode.Unauthorized, (await new HttpClient { BaseAddress = new Uri(host.BaseUrl) }.GetAsync($"/api/analytics/od?from={Day}")).StatusCode);
    }

    [Fact]
    public async Task Api_CsvFormat_GivesTheSameRowsAsJson()
    {
        using var http = new HttpClient { BaseAddress = new Uri(host.BaseUrl) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", DashboardHost.PlannerToken);
        var json = JsonDocument.Parse(await http.GetStringAsync($"/api/analytics/boardings-by-hour?from={Day}"));
        var csv = (await http.GetStringAsync($"/api/analytics/boardings-by-hour?from={Day}&format=csv")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("hour,boardings,alightings,alightingsInferred,riders,suppressed", csv[0]);
        Assert.Equal(json.RootElement.GetProperty("rows").GetArrayLength(), csv.Length - 1);
        var total = host.Day.Rollups.Cells.Where(c => c.Key.Table == RollupTable.StopHour).Sum(c => c.Value.Measures.M0);
        Assert.Equal(total, csv.Skip(1).Sum(l => long.Parse(l.Split(',')[1], System.Globalization.CultureInfo.InvariantCulture)));
    }

    private async Task<(IPage Page, List<string> Errors)> OpenAsync(string name, string token, string query)
    {
        var context = await host.Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        await context.AddInitScriptAsync($"sessionStorage.setItem('transit-token', '{token}');");
        var page = await context.NewPageAsync();
        var errors = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                errors.Add(message.Text);
            }
        };
        page.PageError += (_, error) => errors.Add(error);
        page.RequestFailed += (_, request) => errors.Add($"request failed: {request.Url}");
        await page.GotoAsync($"{host.BaseUrl}/dashboard/{name}.html?{query}");
        await page.WaitForSelectorAsync("body[data-ready=true]");
        await page.WaitForTimeoutAsync(0);

        // Charts are created on the next animation frame; wait until every canvas has its chart.
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('canvas')].every(c => Chart.getChart(c))");
        return (page, errors);
    }
}
