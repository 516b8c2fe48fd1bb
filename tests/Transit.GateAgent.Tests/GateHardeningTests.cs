using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Transit.GateAgent.Journal;
using Transit.GateAgent.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Transit.GateAgent.Tests;

/// <summary>
/// Hostile scans, a clearing server the gate cannot use, and a full disk, against the real gate process: each must
/// be refused or reported, never silently stop uploads or open the barrier for a tap that was not journaled.
/// </summary>
[Trait("Category", "Process")]
public sealed class GateHardeningTests(ITestOutputHelper output) : IDisposable
{
    private readonly GateEnvironment _env = new();

    [Fact]
    public async Task Scan_ControlBytesAndForeignCharacters_RefusedMalformedJournaledEscapedAndUploadedClean()
    {
        var now = GateEnvironment.Now();
        var good = _env.Rider("alice").Show(now, 0).ToText();
        await using var server = new TestClearingServer(_env.Keys);
        await server.StartAsync();
        await using var gate = await GateProcess.StartAsync(_env.WriteConfig(server));
        using var client = gate.Connect();

        // A real code with a NUL inside; terminal escapes; bytes above ASCII before a prefix; a version-3 prefix
        // (unsupported-version when only the prefix is read) followed by a BEL.
        byte[][] lines =
        [
            [.. Encoding.ASCII.GetBytes(good[..10]), 0, .. Encoding.ASCII.GetBytes(good[10..]), (byte)'\n'],
            [0x01, 0x1B, (byte)'[', (byte)'2', (byte)'J', (byte)'\n'],
            [0xFF, 0xFE, .. Encoding.ASCII.GetBytes("TR1:AB\\C"), (byte)'\n'],
            [.. Encoding.ASCII.GetBytes("TR3:AB"), 0x07, (byte)'\n'],
        ];
        string[] escaped = [good[..10] + "\\x00" + good[10..], "\\x01\\x1B[2J", "\\xFF\\xFETR1:AB\\x5CC", "TR3:AB\\x07"];
        foreach (var line in lines)
        {
            await client.SendRawAsync(line);
            var answer = await client.ReceiveAsync();
            Assert.Equal((false, "malformed"), (answer.Accepted, answer.Reason));
        }

        Assert.Equal("ok", (await client.TapAsync(_env.Rider("bob").Show(now, 0).ToText())).Reason);

        var rows = TapJournal.ReadAll(_env.JournalPath).ToList();
        Assert.Equal(escaped, rows.Take(4).Select(r => r.Code));
        Assert.All(rows, r => Assert.DoesNotContain(r.Code!, c => c is < ' ' or > '~'));

        // Everything reaches clearing, and what it stores is printable text.
        await GateProcess.WaitUntilAsync(() => Task.FromResult(server.Taps.Count == 5), TimeSpan.FromSeconds(30), "five taps uploaded");
        var uploaded = server.Taps.OrderBy(t => t.Key).Select(t => JsonNode.Parse(t.Value)!["code"]!.GetValue<string>()).ToList();
        Assert.Equal(escaped, uploaded.Take(4));
        Assert.All(uploaded, code => Assert.DoesNotContain(code, c => c is < ' ' or > '~'));
        Assert.Equal("ok", (await gate.HealthAsync()).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Scan_BlankTcpLines_NoTapJournaled()
    {
        var now = GateEnvironment.Now();
        await using var gate = await GateProcess.StartAsync(_env.WriteConfig());
        using var client = gate.Connect();
        await client.SendRawAsync("\n\r\n\n"u8.ToArray());
        var answer = await client.TapAsync(_env.Rider("alice").Show(now, 0).ToText());
        Assert.Equal(("ok", 1L), (answer.Reason, answer.Seq));
        Assert.Single(TapJournal.ReadAll(_env.JournalPath));
        Assert.Equal(1, await gate.MetricAsync("transit_gate_scanner_lines_total"));
    }

    [Fact]
    public async Task Scan_GarbageFlood_RepeatsCollapsedAndRateCapped()
    {
        var now = GateEnvironment.Now();
        await using var gate = await GateProcess.StartAsync(_env.WriteConfig());
        using var client = gate.Connect();
        const int Repeats = 300, Distinct = 300;
        var flood = new StringBuilder();
        for (var i = 0; i < Repeats; i++)
        {
            flood.Append("\u0000\u0000GARBAGE\n");
        }

        for (var i = 0; i < Distinct; i++)
        {
            flood.Append(System.Globalization.CultureInfo.InvariantCulture, $"garbage-{i}\u0001\n");
        }

        await client.SendRawAsync(Encoding.Latin1.GetBytes(flood.ToString()));
        var answers = new List<TapAnswer>();
        for (var i = 0; i < Repeats + Distinct; i++)
        {
            answers.Add(await client.ReceiveAsync());
        }

        Assert.All(answers, a => Assert.Equal((false, "malformed"), (a.Accepted, a.Reason)));
        Assert.Equal("ok", (await client.TapAsync(_env.Rider("alice").Show(now, 0).ToText())).Reason);

        var rows = TapJournal.ReadAll(_env.JournalPath).ToList();
        var journaledGarbage = rows.Count - 1;
        output.WriteLine($"{journaledGarbage} of {Repeats + Distinct} garbage scans journaled");

        // The repeated scan is journaled once; distinct garbage only up to the burst allowance (plus refill).
        Assert.Single(rows, r => r.Code == "\\x00\\x00GARBAGE");
        Assert.InRange(journaledGarbage, 2, 40);
        Assert.Equal(journaledGarbage, answers.Count(a => a.Seq > 0));
        Assert.Equal(Repeats + Distinct - journaledGarbage, await gate.MetricAsync("transit_gate_scans_not_journaled_total"));
        Assert.Equal(Enumerable.Range(1, rows.Count).Select(i => (long)i), rows.Select(r => r.Seq));
    }

    [Fact]
    public async Task Clearing_CertificateNotNamingTheHost_WarnsDegradesAmberAndNamesTheCause()
    {
        var now = GateEnvironment.Now();
        await using var server = new TestClearingServer(_env.Keys, ["clearing.example"]);
        await server.StartAsync();
        await using var gate = await GateProcess.StartAsync(_env.WriteConfig(server));
        using var client = gate.Connect();
        Assert.Equal("ok", (await client.TapAsync(_env.Rider("alice").Show(now, 0).ToText())).Reason);

        await GateProcess.WaitUntilAsync(
            async () =>
            {
                var h = await gate.HealthAsync();
                return Reason(h, "uploadError") == "tls-name-mismatch" && Reason(h, "syncError") == "tls-name-mismatch";
            },
            TimeSpan.FromSeconds(30),
            "upload and sync errors naming the certificate mismatch");
        var health = await gate.HealthAsync();
        Assert.Equal("degraded", health.GetProperty("status").GetString());
        var error = health.GetProperty("uploadError");
        Assert.Contains("clearing.example", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("127.0.0.1", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.InRange(error.GetProperty("failures").GetInt32(), 3, int.MaxValue);
        Assert.InRange(error.GetProperty("since").GetDateTime(), DateTime.UtcNow.AddMinutes(-2), DateTime.UtcNow);
        Assert.True(health.GetProperty("diskFreeBytes").GetInt64() > 0);

        await GateProcess.WaitUntilAsync(() => Task.FromResult(Warnings(gate).Any(m => m.Contains("tls-name-mismatch", StringComparison.Ordinal))), TimeSpan.FromSeconds(10), "a warning naming the cause");
        await GateProcess.WaitUntilAsync(async () => (await gate.GetAsync("/hardware")).Split('\n').Contains("light:amber"), TimeSpan.FromSeconds(10), "the amber light");
        Assert.Equal(1, await gate.MetricAsync("transit_gate_alarm"));

        // The heartbeat cannot pass the same TLS check, so clearing hears nothing; it is built from the same state
        // as /health (and is checked against a reachable server below).
        Assert.Empty(server.StatusBodies);
        Assert.Empty(server.Taps);
    }

    [Fact]
    public async Task Clearing_ServerErrors_AlarmInHeartbeatAndClearedOnRecovery()
    {
        var now = GateEnvironment.Now();
        await using var server = new TestClearingServer(_env.Keys) { FailUploadsWith = 500 };
        await server.StartAsync();
        await using var gate = await GateProcess.StartAsync(_env.WriteConfig(server, c => c["Clearing"]!["StatusIntervalSeconds"] = 1));
        using var client = gate.Connect();
        Assert.Equal("ok", (await client.TapAsync(_env.Rider("alice").Show(now, 0).ToText())).Reason);

        await GateProcess.WaitUntilAsync(
            () => Task.FromResult(server.StatusBodies.Any(b => b["alarm"]?.GetValue<string>() == "amber" && b["uploadError"]?["reason"]?.GetValue<string>() == "http-500")),
            TimeSpan.FromSeconds(30),
            "a heartbeat reporting the upload error");
        var beat = server.StatusBodies.Last(b => b["uploadError"] is not null);
        Assert.InRange(beat["uploadError"]!["failures"]!.GetValue<int>(), 3, int.MaxValue);
        Assert.False(string.IsNullOrEmpty(beat["uploadError"]!["message"]!.GetValue<string>()));
        Assert.True(beat["uploadError"]!["since"]!.GetValue<DateTime>() <= DateTime.UtcNow);
        Assert.Null(beat["syncError"]);
        Assert.True(beat["diskFreeBytes"]!.GetValue<long>() > 0);
        var health = await gate.HealthAsync();
        Assert.Equal(("degraded", "http-500"), (health.GetProperty("status").GetString(), Reason(health, "uploadError")));
        Assert.Contains(Warnings(gate), m => m.Contains("http-500", StringComparison.Ordinal));
        await GateProcess.WaitUntilAsync(async () => (await gate.GetAsync("/hardware")).Split('\n').Contains("light:amber"), TimeSpan.FromSeconds(10), "the amber light");

        // Recovery: the next upload succeeds, and the error, the alarm and the light clear by themselves.
        server.FailUploadsWith = null;
        await GateProcess.WaitUntilAsync(async () => (await gate.HealthAsync()).GetProperty("status").GetString() == "ok", TimeSpan.FromSeconds(30), "health back to ok");
        health = await gate.HealthAsync();
        Assert.Equal((JsonValueKind.Null, 0L), (health.GetProperty("uploadError").ValueKind, health.GetProperty("journalBacklog").GetInt64()));
        var beats = server.StatusBodies.Count;
        await GateProcess.WaitUntilAsync(() => Task.FromResult(server.StatusBodies.Skip(beats).Any()), TimeSpan.FromSeconds(10), "a heartbeat after recovery");
        beat = server.StatusBodies.Last();
        Assert.Null(beat["alarm"]);
        Assert.Null(beat["uploadError"]);
        await GateProcess.WaitUntilAsync(async () => (await gate.GetAsync("/hardware")).Split('\n').Last(a => a.StartsWith("light:", StringComparison.Ordinal)) == "light:off", TimeSpan.FromSeconds(10), "the idle light off again");
        Assert.Equal(0, await gate.MetricAsync("transit_gate_alarm"));
    }

    [Fact]
    public async Task Disk_BelowMinFreeBytes_DegradedAndAmberWhileTapsStillCommit()
    {
        var now = GateEnvironment.Now();
        await using var gate = await GateProcess.StartAsync(_env.WriteConfig(change: c => c["Journal"]!["MinFreeBytes"] = 1L << 50));
        await GateProcess.WaitUntilAsync(async () => (await gate.HealthAsync()).GetProperty("status").GetString() == "degraded", TimeSpan.FromSeconds(10), "degraded health");
        var health = await gate.HealthAsync();
        Assert.Contains(health.GetProperty("problems").EnumerateArray(), p => p.GetString()!.Contains("Journal:MinFreeBytes", StringComparison.Ordinal));
        Assert.True(health.GetProperty("diskFreeBytes").GetInt64() > 0);
        await GateProcess.WaitUntilAsync(async () => (await gate.GetAsync("/hardware")).Split('\n').Contains("light:amber"), TimeSpan.FromSeconds(10), "the amber light");
        Assert.Contains(Warnings(gate), m => m.Contains("Journal:MinFreeBytes", StringComparison.Ordinal));
        using var client = gate.Connect();
        Assert.Equal("ok", (await client.TapAsync(_env.Rider("alice").Show(now, 0).ToText())).Reason);
    }

    [Fact]
    public async Task Disk_Full_FailsClosedWithReasonAndRecoversWhenSpaceReturns()
    {
        var mount = Path.Combine(_env.Directory, "small");
        Directory.CreateDirectory(mount);
        var (mounted, why) = await RunAsync("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mount);
        if (!mounted)
        {
            output.WriteLine($"SKIPPED: cannot mount a 2 MB tmpfs at {mount} (root needed): {why}");
            return;
        }

        try
        {
            var now = GateEnvironment.Now();
            var riders = Enumerable.Range(0, 60).Select(i => _env.Rider($"r{i}").Show(now, 0).ToText()).ToList();
            var config = _env.WriteConfig(change: c =>
            {
                c["Journal"]!["Path"] = Path.Combine(mount, "journal.db");
                c["Journal"]!["MinFreeBytes"] = 256 * 1024;
            });
            await using (var gate = await GateProcess.StartAsync(config))
            {
                using var client = gate.Connect();
                var first = await client.TapAsync(riders[0]);
                Assert.Equal(("ok", 1L), (first.Reason, first.Seq));
                var filler = Path.Combine(mount, "filler");
                Fill(filler);

                // The WAL may still have room for a few commits; the first tap that cannot be journaled is refused.
                var next = 1;
                TapAnswer? refused = null;
                while (refused is null && next < 40)
                {
                    var answer = await client.TapAsync(riders[next++]);
                    if (answer.Reason != "ok")
                    {
                        refused = answer;
                    }
                }

                Assert.NotNull(refused);
                Assert.Equal((false, "journal-full", 0L), (refused.Accepted, refused.Reason, refused.Seq));
                var committed = TapJournal.ReadAll(Path.Combine(mount, "journal.db")).Count();
                Assert.Equal(next - 2, committed - 1);
                var hardware = (await gate.GetAsync("/hardware")).Split('\n');
                Assert.Equal(committed, hardware.Count(a => a == "barrier:open"));
                Assert.Contains("display:Gate closed - use another gate", hardware);
                var health = await gate.HealthAsync();
                Assert.Equal("degraded", health.GetProperty("status").GetString());
                Assert.Contains(health.GetProperty("problems").EnumerateArray(), p => p.GetString()!.Contains("journal", StringComparison.Ordinal));
                Assert.Contains(Errors(gate), m => m.Contains("no space", StringComparison.OrdinalIgnoreCase) || m.Contains("full", StringComparison.OrdinalIgnoreCase));
                Assert.Equal("journal-full", (await client.TapAsync(riders[next++])).Reason);
                Assert.False(gate.HasExited);

                // Space returns: the gate commits again by itself, with the next sequence number, and turns healthy.
                File.Delete(filler);
                var back = await client.TapAsync(riders[next++]);
                Assert.Equal(("ok", committed + 1L), (back.Reason, back.Seq));
                await GateProcess.WaitUntilAsync(async () => (await gate.HealthAsync()).GetProperty("status").GetString() == "ok", TimeSpan.FromSeconds(15), "health back to ok");
                Assert.Equal(Enumerable.Range(1, committed + 1).Select(i => (long)i), TapJournal.ReadAll(Path.Combine(mount, "journal.db")).Select(r => r.Seq));
                Assert.Equal(0, await gate.TerminateAsync());
            }
        }
        finally
        {
            var (unmounted, error) = await RunAsync("umount", mount);
            if (!unmounted)
            {
                await RunAsync("umount", "-l", mount);
                output.WriteLine($"umount {mount}: {error}; lazily unmounted");
            }
        }
    }

    public void Dispose() => _env.Dispose();

    private static string? Reason(JsonElement health, string field) =>
        health.TryGetProperty(field, out var error) && error.ValueKind == JsonValueKind.Object ? error.GetProperty("reason").GetString() : null;

    private static IEnumerable<string> Warnings(GateProcess gate) => LogMessages(gate, "Warning");

    private static IEnumerable<string> Errors(GateProcess gate) => LogMessages(gate, "Error").Concat(LogMessages(gate, "Critical"));

    private static List<string> LogMessages(GateProcess gate, string level)
    {
        var messages = new List<string>();
        foreach (var line in gate.Errors.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            try
            {
                var entry = JsonDocument.Parse(line).RootElement;
                if (entry.GetProperty("LogLevel").GetString() == level)
                {
                    messages.Add(entry.GetProperty("Message").GetString() ?? "");
                }
            }
            catch (JsonException)
            {
            }
        }

        return messages;
    }

    /// <summary>Writes to <paramref name="path"/> until the file system refuses another byte.</summary>
    private static void Fill(string path)
    {
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0);
        foreach (var size in new[] { 64 * 1024, 4096, 1 })
        {
            var chunk = new byte[size];
            try
            {
                while (true)
                {
                    file.Write(chunk);
                }
            }
            catch (IOException)
            {
                // Full at this granularity; try smaller pieces.
            }
        }
    }

    private static async Task<(bool Ok, string Error)> RunAsync(string program, params string[] args)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(program, args) { RedirectStandardError = true, RedirectStandardOutput = true })!;
            var error = await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            return (process.ExitCode == 0, error.Trim());
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return (false, ex.Message);
        }
    }
}
