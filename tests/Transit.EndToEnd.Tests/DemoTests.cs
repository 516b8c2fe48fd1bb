namespace Transit.EndToEnd.Tests;

/// <summary>The demo's processes: whatever the moment it is interrupted, nothing it started keeps running.</summary>
[Collection(CityCollection.Name)]
[Trait("Category", "Process")]
public sealed class DemoTests : IDisposable
{
    private const int Sigterm = 15;
    private const int Sigint = 2;

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "transit-demo-" + Guid.NewGuid().ToString("N")[..10]);

    [Theory]
    [InlineData(Sigterm, "taps answered")]
    [InlineData(Sigint, "Running; Ctrl+C")]
    public async Task Demo_Interrupted_StopsEveryProcessItStarted(int signal, string moment)
    {
        using var demo = TransitProcess.Start("demo", "--dir", _folder, "--riders", "300", "--duration", "20", "--port", "0");
        await demo.WaitForOutputAsync(moment, TimeSpan.FromMinutes(4));
        var started = TransitProcess.ProcessesMentioning(_folder);
        Assert.True(started.Count >= 21, string.Join("\n", started));

        if (moment.StartsWith("Running", StringComparison.Ordinal))
        {
            // The dashboard the summary points to is up, on the printed URL.
            var url = System.Text.RegularExpressions.Regex.Match(demo.Output, @"dashboard\s+(http\S+)").Groups[1].Value;
            using var http = new HttpClient();
            var page = await http.GetStringAsync(new Uri(url));
            Assert.Contains("<html", page, StringComparison.OrdinalIgnoreCase);

            // So is the riders' wallet (docs/rider.md).
            var wallet = System.Text.RegularExpressions.Regex.Match(demo.Output, @"wallet\s+(http\S+/wallet/)").Groups[1].Value;
            Assert.Contains("manifest.webmanifest", await http.GetStringAsync(new Uri(wallet)), StringComparison.Ordinal);

            // And the gate scanner, which lists every gate the demo started (docs/rider.md).
            var scanner = System.Text.RegularExpressions.Regex.Match(demo.Output, @"gate\s+(http\S+/demo/scan/)").Groups[1].Value;
            Assert.Contains("lib/jsQR.js", await http.GetStringAsync(new Uri(scanner)), StringComparison.Ordinal);
            var gates = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync(new Uri(new Uri(scanner), "../gates"))).RootElement;
            Assert.Equal(started.Count(p => p.Contains(" gate run ", StringComparison.Ordinal)), gates.GetArrayLength());
            Assert.Contains(gates.EnumerateArray(), g => g.GetProperty("mode").GetString() == "metro-exit");
        }

        demo.Signal(signal);
        await demo.ExitAsync(TimeSpan.FromMinutes(2));

        Assert.Empty(TransitProcess.ProcessesMentioning(_folder));
        Assert.False(File.Exists(Path.Combine(_folder, "pg", "data", "postmaster.pid")), "PostgreSQL still running");
        if (moment.StartsWith("Running", StringComparison.Ordinal))
        {
            Assert.Contains("every refusal for the planted reason", demo.Output, StringComparison.Ordinal);
            Assert.Matches(@"OD\s+inferred for \d+\.\d %", demo.Output);

            // Heavy riders (and anyone with three metro journeys) reach the feed's daily cap on the demo's day.
            Assert.Matches(@"caps\s+daily cap reached by [1-9][\d,]* riders", demo.Output);
            Assert.Contains("balanced", demo.Output, StringComparison.Ordinal);
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Left in the temporary folder.
        }
    }
}
