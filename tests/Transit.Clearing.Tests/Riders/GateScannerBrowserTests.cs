using System.Net;
using System.Text;
using Microsoft.Playwright;
using StbImageSharp;
using Transit.Simulation;
using Transit.Simulation.Harness;

namespace Transit.Clearing.Tests.Riders;

/// <summary>
/// The demo's gate scanner (<c>/demo/scan/</c>) in Debian's Chromium with a fake camera that films the wallet's own QR
/// code: the page reads it with jsQR and shows it to a real gate agent process started as <c>transit demo</c> starts
/// its gates (manual clock, TCP input), which uploads the tap to a real clearing server.
/// </summary>
[Collection(RiderCollection.Name)]
public sealed class GateScannerBrowserTests(PostgresFixture postgres)
{
    private const int Width = 640;
    private const int Height = 480;
    private const int FramesPerSecond = 10;

    [Fact]
    [Trait("Category", "Browser")]
    public async Task Scanner_ReadsTheWalletsCodeFromTheCamera_GateAccepts_TapReachesClearing_ShownAgainIsReplayed()
    {
        GateAgentProcess[] gates = [];
        await using var world = await ClearingWorld.StartAsync(postgres, map: app => app.MapGateScanner(() => gates));
        var device = await world.AddDeviceAsync("W1-in-1", "metro", "metro-entry", station: "W1");
        var slot = new DeviceSlot("metro-entry:W1", "metro", "metro-entry", "W1", null, null);
        var folder = Directory.CreateDirectory(Path.Combine(world.Folder, "gates", device.Id)).FullName;
        var config = CityRun.WriteGateConfig(folder, world.Keys, world.DeviceUrl, slot, device.Id, device.CertificatePath, device.KeyPath);
        await using var gate = await GateAgentProcess.StartAsync(GateCommand.Transit(TransitCommand.Dll), slot, device.Id, config, Path.Combine(folder, "agent.log"), CancellationToken.None);
        gates = [gate];
        // The demo's played day leaves its gates' clocks on simulated instants, hours away from now; a code a person
        // shows was signed by a real clock, and must be judged by one.
        var played = new TaskCompletionSource<GateAnswer>();
        gate.Enqueue(new GateWork(0, null, DateTimeOffset.UtcNow.AddHours(-5), () => "TR1:00") { Reply = played });
        var firstSeq = Math.Max(0, (await played.Task.WaitAsync(TimeSpan.FromSeconds(30))).Seq) + 1;

        using var playwright = await Playwright.CreateAsync();
        // The rider's phone: the wallet signs up and shows its code; the camera films a screenshot of it.
        var (account, code, video) = await FilmTheWalletsCodeAsync(playwright, world);

        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream", "--use-file-for-fake-video-capture=" + video,
            ],
        });
        try
        {
            var page = await browser.NewPageAsync(new BrowserNewPageOptions { BaseURL = world.ApiUrl.ToString() });
            var errors = new List<string>();
            page.PageError += (_, error) => errors.Add(error);
            await page.GotoAsync($"/demo/scan/?gate={device.Id}");
            await page.WaitForSelectorAsync("body[data-ready='true']");
            Assert.Equal(device.Id, await page.InputValueAsync("#gate"));

            // The film shows the code for a second, then nothing for two: the second showing is the same code again.
            await page.WaitForSelectorAsync("#taps li:nth-child(2)", new PageWaitForSelectorOptions { Timeout = 60_000 });
            var first = page.Locator("#taps li").Last;
            Assert.Equal("true", await first.GetAttributeAsync("data-accepted"));
            Assert.Equal(firstSeq.ToString(System.Globalization.CultureInfo.InvariantCulture), await first.GetAttributeAsync("data-seq"));
            var second = page.Locator($"#taps li[data-seq='{firstSeq + 1}']");
            Assert.Equal("false", await second.GetAttributeAsync("data-accepted"));
            Assert.Equal("replayed", await second.GetAttributeAsync("data-reason"));

            // The accepted tap, as the gate uploaded it and clearing filed it: the wallet's code, the wallet's account.
            await Assertions.Expect(first).ToHaveAttributeAsync("data-clearing", new System.Text.RegularExpressions.Regex(".+"), new LocatorAssertionsToHaveAttributeOptions { Timeout = 30_000 });
            Assert.Contains(account, await first.InnerTextAsync(), StringComparison.Ordinal);
            Assert.Equal(code, await world.ScalarAsync<string>("SELECT code FROM taps WHERE device_id = $1 AND seq = $2", device.Id, firstSeq));
            Assert.Equal(account, await world.ScalarAsync<string>("SELECT account FROM taps WHERE device_id = $1 AND seq = $2 AND accepted", device.Id, firstSeq));
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(DashboardWorld.ScreenshotFolder, "demo-gate-scanner.png"), FullPage = true });
            Assert.True(errors.Count == 0, string.Join("\n", errors));
        }
        finally
        {
            await browser.CloseAsync();
        }
    }

    [Fact]
    public async Task ScanEndpoint_TakesOnlyRideCodeShapedJsonFromTheScannerPageAtAnAddressTheDemoBinds()
    {
        await using var world = await ClearingWorld.StartAsync(postgres, map: app => app.MapGateScanner(() => []));
        using var http = new HttpClient { BaseAddress = world.ApiUrl };
        var codeShaped = "TR1:" + new string('A', 100);

        async Task<(HttpStatusCode Status, string Body)> Post(string body, string mediaType = "application/json", Action<HttpRequestMessage>? adjust = null)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/demo/gates/W1-in-1/scan") { Content = new StringContent(body, Encoding.UTF8, mediaType) };
            adjust?.Invoke(request);
            using var response = await http.SendAsync(request);
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }

        string Json(string code) => System.Text.Json.JsonSerializer.Serialize(new { code });

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await Post(codeShaped, "text/plain")).Status);
        var notACode = await Post(Json("https://example.com/"));
        Assert.Equal(HttpStatusCode.BadRequest, notACode.Status);
        Assert.Contains("code: expected a ride code", notACode.Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, (await Post(Json("TR1:abc"))).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Post(Json("TRX:ABC"))).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Post(Json("TR1:\nABC"))).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Post(Json("TR1:" + new string('A', 509)))).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Post("{\"code\": ")).Status);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await Post(Json("TR1:" + new string('A', 3000)))).Status);

        // Another page in the operator's browser, or a name some page made resolve here, may not show codes.
        var foreign = await Post(Json(codeShaped), adjust: r => r.Headers.Add("Origin", "http://evil.example"));
        Assert.Equal(HttpStatusCode.Forbidden, foreign.Status);
        Assert.Contains("evil.example", foreign.Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, (await Post(Json(codeShaped), adjust: r => r.Headers.Host = "rebound.example")).Status);
        using (var rebound = new HttpRequestMessage(HttpMethod.Get, "/demo/gates"))
        {
            rebound.Headers.Host = "rebound.example";
            Assert.Equal(HttpStatusCode.Forbidden, (await http.SendAsync(rebound)).StatusCode);
        }

        // Well-formed, from the scanner page itself: only the gate is missing.
        var own = await Post(Json("TR1:" + new string('A', 508)), adjust: r => r.Headers.Add("Origin", world.ApiUrl.GetLeftPart(UriPartial.Authority)));
        Assert.Equal(HttpStatusCode.NotFound, own.Status);
        Assert.Contains("no gate 'W1-in-1'", own.Body, StringComparison.Ordinal);
        Assert.Equal("[]", await http.GetStringAsync("/demo/gates"));
        Assert.Contains("jsQR", await http.GetStringAsync("/demo/scan/lib/jsQR.js"), StringComparison.Ordinal);
        using var page = await http.GetAsync("/demo/scan/");
        Assert.Contains("lib/jsQR.js", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("camera=(self)", page.Headers.GetValues("Permissions-Policy").Single());
        Assert.Contains("script-src 'self';", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);

        // Both embedded folders send their bare name to the folder, where the pages' relative links resolve.
        using var noRedirect = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = world.ApiUrl };
        foreach (var folder in new[] { "/demo/scan", "/wallet" })
        {
            using var response = await noRedirect.GetAsync(folder);
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.Equal(folder + "/", response.Headers.Location?.OriginalString);
        }
    }

    /// <summary>
    /// Signs up in the wallet, takes a screenshot of its QR code, and writes a Y4M film for Chromium's fake camera: the
    /// screenshot for a second on white, then two seconds of white (Chromium plays the film in a loop).
    /// </summary>
    private static async Task<(string Account, string Code, string Video)> FilmTheWalletsCodeAsync(IPlaywright playwright, ClearingWorld world)
    {
        var browser = await DashboardWorld.LaunchChromiumAsync(playwright);
        try
        {
            var page = await browser.NewPageAsync(new BrowserNewPageOptions { BaseURL = world.ApiUrl.ToString() });
            await page.GotoAsync("/wallet/");
            await page.WaitForSelectorAsync("body[data-ready='true'] #qr[data-code]");
            var account = await page.EvaluateAsync<string>("() => window.transitWallet.state.account");
            var png = await page.Locator("#qr").ScreenshotAsync();
            var code = WalletBrowserTests.DecodeQr(png);
            var video = Path.Combine(world.Folder, "camera.y4m");
            WriteFilm(video, png);
            return (account, code, video);
        }
        finally
        {
            await browser.CloseAsync();
        }
    }

    /// <summary>YUV4MPEG2, 4:2:0: the picture's luma scaled into the middle of a white frame; chroma neutral (grey scale).</summary>
    private static void WriteFilm(string path, byte[] png)
    {
        var image = ImageResult.FromMemory(png, ColorComponents.RedGreenBlueAlpha);
        var side = Math.Min(Width, Height) - 40;
        var scale = Math.Min((double)side / image.Width, (double)side / image.Height);
        var (w, h) = ((int)(image.Width * scale), (int)(image.Height * scale));
        var (left, top) = ((Width - w) / 2, (Height - h) / 2);
        var shown = new byte[Width * Height];
        var blank = new byte[Width * Height];
        Array.Fill(shown, (byte)255);
        Array.Fill(blank, (byte)255);
        for (var y = 0; y < h; y++)
        {
            for (var x = 0; x < w; x++)
            {
                var source = (((int)(y / scale) * image.Width) + (int)(x / scale)) * 4;
                var luma = (0.299 * image.Data[source]) + (0.587 * image.Data[source + 1]) + (0.114 * image.Data[source + 2]);
                shown[((top + y) * Width) + left + x] = (byte)Math.Clamp(luma, 0, 255);
            }
        }

        var chroma = new byte[Width / 2 * (Height / 2) * 2];
        Array.Fill(chroma, (byte)128);
        using var file = File.Create(path);
        file.Write(Encoding.ASCII.GetBytes($"YUV4MPEG2 W{Width} H{Height} F{FramesPerSecond}:1 Ip A1:1 C420jpeg\n"));
        for (var frame = 0; frame < 3 * FramesPerSecond; frame++)
        {
            file.Write("FRAME\n"u8);
            file.Write(frame < FramesPerSecond ? shown : blank);
            file.Write(chroma);
        }
    }
}
