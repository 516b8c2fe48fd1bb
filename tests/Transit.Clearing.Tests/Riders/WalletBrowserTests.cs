using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using StbImageSharp;
using Transit.Clearing.Journeys;
using Transit.RideCodes;
using ZXing;
using ZXing.Common;
using ZXing.QrCode;

namespace Transit.Clearing.Tests.Riders;

/// <summary>
/// The wallet in Debian's Chromium (Playwright, never a downloaded browser) against a real clearing server and a real
/// gate agent process: the QR code is read back from a screenshot with ZXing.Net and typed into the gate's TCP input.
/// </summary>
[Collection(RiderCollection.Name)]
[Trait("Category", "Browser")]
public sealed class WalletBrowserTests(PostgresFixture postgres) : IAsyncLifetime
{
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    public async Task InitializeAsync()
    {
        _playwright = await Playwright.CreateAsync();
        _browser = await DashboardWorld.LaunchChromiumAsync(_playwright);
    }

    public async Task DisposeAsync()
    {
        await _browser.CloseAsync();
        _playwright.Dispose();
    }

    [Fact]
    public async Task Wallet_SignsUpRidesOfflineThroughARealGate_ScreenshotReplayedIsRefused_DeniedAccountIsToldWhy()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var device = await world.AddDeviceAsync("in-w1", "metro", "metro-entry", station: "W1");
        await using var context = await _browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = world.ApiUrl.ToString(), Locale = "en-GB" });
        var page = await context.NewPageAsync();
        var errors = ConsoleErrors(page);

        await page.GotoAsync("/wallet/");
        await page.WaitForSelectorAsync("body[data-ready='true'] #qr[data-code]");
        var account = await page.EvaluateAsync<string>("() => window.transitWallet.state.account");
        Assert.Equal(1, await world.ScalarAsync<long>("SELECT count(*) FROM rider_credentials WHERE account = $1", account));
        Assert.True(await page.EvaluateAsync<bool>("() => navigator.serviceWorker.ready.then(() => true)"));
        // The private key is a non-extractable WebCrypto key: the page itself cannot read it out.
        Assert.Equal("refused", await page.EvaluateAsync<string>("""
            () => crypto.subtle.exportKey('pkcs8', window.transitWallet.state.key.privateKey).then(() => 'exported', () => 'refused')
            """));

        // No network from here: the wallet opens from its service worker and signs codes from IndexedDB.
        await context.SetOfflineAsync(true);
        await page.ReloadAsync();
        await page.WaitForSelectorAsync("body[data-ready='true'] #qr[data-code]");
        Assert.Contains("Offline: code still valid until", await page.InnerTextAsync("#status"), StringComparison.Ordinal);
        var screenshot = await page.Locator("#qr").ScreenshotAsync(new LocatorScreenshotOptions { Path = Path.Combine(DashboardWorld.ScreenshotFolder, "wallet-offline.png") });
        var code = DecodeQr(screenshot);
        Assert.Equal(await page.GetAttributeAsync("#qr", "data-code"), code);
        Assert.True(errors.Count == 0, string.Join("\n", errors));

        await using (var gate = await RealGate.StartAsync(world, device))
        {
            var first = await gate.TapAsync(code);
            Assert.True(first.GetProperty("accepted").GetBoolean(), first.ToString());
            Assert.Equal(account, first.GetProperty("account").GetString());
            var again = await gate.TapAsync(DecodeQr(screenshot));
            Assert.False(again.GetProperty("accepted").GetBoolean());
            Assert.Equal("replayed", again.GetProperty("reason").GetString());
            // Both taps, the refused one too, reach clearing over mutual TLS.
            await WaitUntilAsync(async () => await world.ScalarAsync<long>("SELECT count(*) FROM taps WHERE device_id = $1", device.Id) == 2, () => "the gate's upload:\n" + gate.Errors);
            Assert.Equal(1, await world.ScalarAsync<long>("SELECT count(*) FROM taps WHERE account = $1 AND accepted", account));
        }

        // Back online: clearing prices the day, and the wallet shows the (incomplete: no exit) journey and its charge.
        var day = world.Services.GetRequiredService<ServiceCalendar>().DayOf(DateTimeOffset.UtcNow);
        await world.ClearAsync(day);
        await context.SetOfflineAsync(false);
        await page.ClickAsync("#refresh");
        await page.WaitForSelectorAsync("#journeys li.incomplete");
        Assert.Contains("W1", await page.InnerTextAsync("#journeys"), StringComparison.Ordinal);
        var charged = await world.ScalarAsync<long>("SELECT amount FROM charges WHERE account = $1", account);
        Assert.Contains(((decimal)charged / 100).ToString("0.00", System.Globalization.CultureInfo.InvariantCulture), await page.InnerTextAsync("#charges"), StringComparison.Ordinal);

        // The operator denies the account: the next refresh is refused and the wallet says why, in either language.
        var admin = await world.ApiAsync("admin");
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/accounts/{account}/deny", null)).StatusCode);
        await page.ClickAsync("#refresh");
        await page.WaitForSelectorAsync("#refusal:not([hidden])");
        Assert.Equal("manual", await page.GetAttributeAsync("#refusal-detail", "data-reasons"));
        Assert.Contains("operator has stopped this account", await page.InnerTextAsync("#refusal-detail"), StringComparison.Ordinal);
        Assert.True(await page.Locator("#qr").IsHiddenAsync());
        await page.ClickAsync("#language");
        // The page redraws in the other language after the click: wait for it (Playwright retries until its timeout).
        await Assertions.Expect(page.Locator("#refusal-detail")).ToContainTextAsync("运营方已停用此账户");
        Assert.Equal("无法生成乘车码", await page.InnerTextAsync("#refusal h2"));
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(DashboardWorld.ScreenshotFolder, "wallet-denied-zh.png"), FullPage = true });
        Assert.True(errors.Count == 0, string.Join("\n", errors));
    }

    [Fact]
    public async Task Wallet_InDebt_ShowsTheDebtAndPayingBringsTheCodeBack()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        await using var context = await _browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = world.ApiUrl.ToString(), Locale = "en-GB" });
        var page = await context.NewPageAsync();
        await page.GotoAsync("/wallet/");
        await page.WaitForSelectorAsync("body[data-ready='true'] #qr[data-code]");
        var account = await page.EvaluateAsync<string>("() => window.transitWallet.state.account");
        world.Rider(account, category: "");
        world.Options.Payments.DeclineAccounts.Add(account);
        var west = await world.AddDeviceAsync("in-w1", "metro", "metro-entry", station: "W1");
        await world.UploadOkAsync(west, world.Tap(west, account, ClearingWorld.At(8, 0)));
        await world.ClearAsync();

        await page.ClickAsync("#refresh");
        await page.WaitForSelectorAsync("#pay:not([hidden])");
        Assert.Equal("debt", await page.GetAttributeAsync("#refusal-detail", "data-reasons"));
        Assert.Contains("You owe 4.00", await page.InnerTextAsync("#debt"), StringComparison.Ordinal);
        world.Options.Payments.DeclineAccounts.Remove(account);
        await page.ClickAsync("#pay");
        await page.WaitForSelectorAsync("#refusal[hidden]", new PageWaitForSelectorOptions { State = WaitForSelectorState.Attached });
        await page.WaitForSelectorAsync("#qr[data-code]:not([hidden])");
        Assert.Equal(0, await world.ScalarAsync<long>("SELECT debt FROM accounts WHERE account = $1", account));
        Assert.Equal("ok", await page.EvaluateAsync<string>("() => window.transitWallet.verifyCode(document.getElementById('qr').dataset.code)"));
    }

    [Fact]
    public async Task WalletCheck_DotNetSignedCodesVerify_AndTamperedOnesAreRefusedWithTheVerifiersReasons()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var page = await _browser.NewPageAsync(new BrowserNewPageOptions { BaseURL = world.ApiUrl.ToString() });
        await page.GotoAsync("/wallet/");
        await page.WaitForSelectorAsync("body[data-ready='true']");
        var (issuerKey, issuer) = world.Keys.OpenIssuingKey();
        using var _ = issuer;
        using var phone = PhoneCredential.Issue(issuer, issuerKey.KeyId, "dotnet-rider", "1", DateTimeOffset.UtcNow.AddHours(-1), TimeSpan.FromHours(24));
        var code = phone.Show(DateTimeOffset.UtcNow, 7).ToText();
        var keys = new Dictionary<string, string> { [issuerKey.KeyId.ToString(System.Globalization.CultureInfo.InvariantCulture)] = Convert.ToBase64String(issuerKey.PublicKey.Compressed) };
        using var rogue = SigningKey.Generate(SignatureAlgorithm.P256);
        var rogueKeys = new Dictionary<string, string> { [keys.Keys.Single()] = Convert.ToBase64String(rogue.PublicKey.Compressed) };
        Assert.True(Base45.TryDecode(code.AsSpan(4), out var bytes));
        bytes[^1] ^= 1;
        var tampered = "TR1:" + Base45.Encode(bytes);

        async Task<string> Check(string text, object? issuerKeys) =>
            await page.EvaluateAsync<string>("([text, keys]) => window.transitWallet.verifyCode(text, keys ? { issuerKeys: keys } : {})", new object?[] { text, issuerKeys });

        Assert.Equal("ok", await Check(code, keys));
        Assert.Equal("bad-signature", await Check(tampered, keys));
        Assert.Equal("bad-issuer-signature", await Check(code, rogueKeys));
        Assert.Equal("malformed", await Check("TR1:ABC", null));
        Assert.Equal("stale", await Check(phone.Show(DateTimeOffset.UtcNow.AddMinutes(-2), 0).ToText(), keys));
    }

    /// <summary>Reads a QR code from a PNG screenshot: the pixels as Chromium drew them, decoded by ZXing.Net.</summary>
    public static string DecodeQr(byte[] png)
    {
        var image = ImageResult.FromMemory(png, ColorComponents.RedGreenBlueAlpha);
        var source = new RGBLuminanceSource(image.Data, image.Width, image.Height, RGBLuminanceSource.BitmapFormat.RGBA32);
        var result = new QRCodeReader().decode(new BinaryBitmap(new HybridBinarizer(source)), new Dictionary<DecodeHintType, object> { [DecodeHintType.PURE_BARCODE] = false, [DecodeHintType.TRY_HARDER] = true });
        return result?.Text ?? throw new InvalidOperationException("no QR code found in the screenshot");
    }

    private static List<string> ConsoleErrors(IPage page)
    {
        var errors = new List<string>();
        page.Console += (_, message) =>
        {
            // A refused request is the wallet's business (it says why on the page); the browser logs it as an error.
            if (message.Type == "error" && !message.Text.Contains("Failed to load resource", StringComparison.Ordinal))
            {
                errors.Add(message.Text);
            }
        };
        page.PageError += (_, error) => errors.Add(error);
        return errors;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, Func<string> what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"timed out waiting for {what()}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>The real gate agent (<c>dotnet transit.dll gate run</c>) registered in the world, uploading to it over mutual TLS.</summary>
    private sealed class RealGate : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly TcpClient _tcp;
        private readonly StreamReader _reader;
        private readonly StreamWriter _writer;
        private readonly StringBuilder _log;

        private RealGate(Process process, int port, StringBuilder log)
        {
            _process = process;
            _log = log;
            _tcp = new TcpClient("127.0.0.1", port) { NoDelay = true };
            _reader = new StreamReader(_tcp.GetStream(), Encoding.ASCII);
            _writer = new StreamWriter(_tcp.GetStream(), Encoding.ASCII) { NewLine = "\n", AutoFlush = true };
        }

        public static async Task<RealGate> StartAsync(ClearingWorld world, TestDevice device)
        {
            var folder = Path.Combine(world.Folder, "gate-" + device.Id);
            Directory.CreateDirectory(folder);
            var config = new JsonObject
            {
                ["Device"] = new JsonObject { ["Id"] = device.Id, ["OperatorId"] = device.OperatorId, ["Mode"] = device.Mode, ["StationId"] = device.Station },
                ["Trust"] = new JsonObject
                {
                    ["RootPublicKey"] = world.Keys.RootPublicKeyPath,
                    ["KeySet"] = Copy(world.Keys.KeySetPath, folder),
                    ["DenyList"] = Copy(world.Keys.DenyListPath, folder),
                },
                ["Journal"] = new JsonObject { ["Path"] = Path.Combine(folder, "journal.db") },
                ["Scanner"] = new JsonObject { ["Tcp"] = new JsonObject { ["Port"] = 0 } },
                ["Status"] = new JsonObject { ["Port"] = 0 },
                ["Hardware"] = new JsonObject { ["Kind"] = "simulated", ["BarrierOpenMillis"] = 100, ["RefusalShowMillis"] = 100 },
                ["Clearing"] = new JsonObject
                {
                    ["Url"] = new Uri(world.DeviceUrl, "device/v1/").ToString(),
                    ["ClientCertificate"] = device.CertificatePath,
                    ["ClientKey"] = device.KeyPath,
                    ["ServerCaCertificate"] = world.Keys.CaCertificatePath,
                    ["UploadDelayMillis"] = 50,
                    ["SyncIntervalSeconds"] = 3600,
                    ["StatusIntervalSeconds"] = 3600,
                },
            };
            var configPath = Path.Combine(folder, "gate.json");
            await File.WriteAllTextAsync(configPath, config.ToJsonString());
            var start = TransitCommand.StartInfo(["gate", "run", "--config", configPath], folder);
            start.RedirectStandardInput = false;

            var process = Process.Start(start)!;
            var log = new StringBuilder();
            process.ErrorDataReceived += (_, e) =>
            {
                lock (log)
                {
                    log.AppendLine(e.Data);
                }
            };
            process.BeginErrorReadLine();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                if (line.StartsWith("ready ", StringComparison.Ordinal))
                {
                    _ = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
                    var port = JsonDocument.Parse(line["ready ".Length..]).RootElement.GetProperty("scannerPort").GetInt32();
                    return new RealGate(process, port, log);
                }
            }

            await process.WaitForExitAsync(CancellationToken.None);
            throw new InvalidOperationException("the gate exited before it was ready: " + log);
        }

        /// <summary>What the gate wrote to standard error (its log).</summary>
        public string Errors
        {
            get
            {
                lock (_log)
                {
                    return _log.ToString();
                }
            }
        }

        public async Task<JsonElement> TapAsync(string code)
        {
            await _writer.WriteLineAsync(code);
            var line = await _reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30)) ?? throw new IOException("the gate closed the connection");
            return JsonDocument.Parse(line).RootElement.Clone();
        }

        public async ValueTask DisposeAsync()
        {
            _tcp.Dispose();
            if (!_process.HasExited)
            {
                _process.Kill();
                await _process.WaitForExitAsync();
            }

            _process.Dispose();
        }

        private static string Copy(string file, string folder)
        {
            var target = Path.Combine(folder, Path.GetFileName(file));
            File.Copy(file, target, overwrite: true);
            return target;
        }
    }
}
