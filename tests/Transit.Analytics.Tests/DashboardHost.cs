using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Playwright;
using Transit.Analytics.Rollups;
using Transit.Analytics.Web;

namespace Transit.Analytics.Tests;

/// <summary>
/// A loopback web host with the analytics API and dashboard over a simulated day held in memory, fixed tokens per
/// role, and Debian's Chromium driven by Playwright (never a downloaded browser).
/// </summary>
public sealed class DashboardHost : IAsyncLifetime
{
    public const string PlannerToken = "planner-token";
    public const string OperatorToken = "operator-bus-token";
    public const string AdminToken = "admin-token";

    public static readonly DateOnly Date = new(2026, 11, 24);

    private WebApplication? _app;
    private IPlaywright? _playwright;

    public SimulatedCity City { get; } = new();

    public SimulatedDay Day { get; private set; } = null!;

    public string BaseUrl { get; private set; } = "";

    public IBrowser Browser { get; private set; } = null!;

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

    public async Task InitializeAsync()
    {
        Day = City.Day(Date, riders: 4_000, seed: 61);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IRollupReader>(new InMemoryRollupReader(Day.Rollups.Cells));
        builder.Services.AddProblemDetails();
        builder.Services.AddAuthentication("Fixed").AddScheme<AuthenticationSchemeOptions, FixedTokens>("Fixed", null);
        builder.Services.AddAuthorization();
        _app = builder.Build();
        _app.UseAuthentication();
        _app.UseAuthorization();
        _app.MapAnalyticsEndpoints(new AnalyticsWebOptions { Analytics = City.Options, FeedVersion = "1" });
        _app.MapAnalyticsDashboard();
        _app.MapGet("/api/statements/{operatorId}/{day}", (string operatorId, string day, ClaimsPrincipal user) =>
            user.IsInRole("admin") || (user.IsInRole("operator") && user.FindFirst("transit:operator")?.Value == operatorId)
                ? Results.Ok(new { operatorId, day, gross = 123_456L, fee = 1_234L, net = 122_222L, charges = 42 })
                : Results.Problem("statements are for their operator and admins", statusCode: 403)).RequireAuthorization();
        await _app.StartAsync();
        BaseUrl = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        _playwright?.Dispose();
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        City.Dispose();
    }

    /// <summary>Bearer tokens fixed per role, standing in for clearing's token store.</summary>
    private sealed class FixedTokens(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            var header = Request.Headers.Authorization.ToString();
            List<Claim>? claims = header switch
            {
                "Bearer " + PlannerToken => [new(ClaimTypes.Role, "planner")],
                "Bearer " + OperatorToken => [new(ClaimTypes.Role, "operator"), new("transit:operator", "bus")],
                "Bearer " + AdminToken => [new(ClaimTypes.Role, "admin")],
                _ => null,
            };
            return Task.FromResult(claims is null
                ? (header.Length == 0 ? AuthenticateResult.NoResult() : AuthenticateResult.Fail("unknown token"))
                : AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity(claims, "Fixed")), "Fixed")));
        }
    }
}
