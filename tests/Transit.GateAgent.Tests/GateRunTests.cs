using System.Text.Json;
using Transit.GateAgent.Journal;
using Transit.GateAgent.Scanners;
using Transit.GateAgent.Simulation;
using Transit.GateAgent.Tests.Infrastructure;
using Transit.RideCodes;
using Transit.Tests.Monitoring;

namespace Transit.GateAgent.Tests;

/// <summary>The real gate process, fed over its TCP simulation input, a pseudo-terminal and an event device.</summary>
[Trait("Category", "Process")]
public sealed class GateRunTests : IDisposable
{
    private readonly GateEnvironment _env = new();

    [Fact]
    public async Task Run_TcpInput_EveryReasonReachableAndJournaledBeforeAnswer()
    {
        var keys = _env.Keys;
        var now = GateEnvironment.Now();
        using var firstIssuer = keys.OpenIssuerPrivateKey(1);
        using var revokedRider = PhoneCredential.Issue(firstIssuer, 1, "rita", "1", now.AddHours(-1), TimeSpan.FromHours(24));
        keys.Rotate(SignatureAlgorithm.P256);
        keys.Revoke(1);
        keys.UpdateDenyList(addAccounts: ["mallory"]);
        using var stranger = SigningKey.Generate(SignatureAlgorithm.P256);

        var alice = _env.Rider("alice");
        var good = alice.Show(now, 0).ToText();
        var tampered = _env.Rider("bob").Show(now, 0).ToBytes();
        tampered[^1] ^= 0x01;
        var codes = new (string Code, string Reason)[]
        {
            (good, "ok"),
            (good, "replayed"),
            (alice.Show(now, 1).ToText(), "passback"),
            ("hello gate", "malformed"),
            ("TR3:ABCD", "unsupported-version"),
            (PhoneCredential.Issue(stranger, 1, "zed", "1", now.AddHours(-1), TimeSpan.FromHours(24), "zz").Show(now, 0).ToText(), "unknown-issuer"),
            (_env.RiderSignedBy(stranger, 77, "uma").Show(now, 0).ToText(), "unknown-key"),
            (revokedRider.Show(now, 0).ToText(), "revoked-key"),
            (_env.RiderSignedBy(stranger, 2, "isaac").Show(now, 0).ToText(), "bad-issuer-signature"),
            (_env.Rider("lena", now.AddHours(-1), TimeSpan.FromDays(8)).Show(now, 0).ToText(), "credential-validity-too-long"),
            (_env.Rider("olga", now.AddHours(-3), TimeSpan.FromHours(1)).Show(now.AddHours(-2.5), 0).ToText(), "credential-expired"),
            (_env.Rider("nora", now.AddHours(1)).Show(now.AddHours(1), 0).ToText(), "credential-not-yet-valid"),
            (RideCodeFormat.Prefix + Base45.Encode(tampered), "bad-signature"),
            (_env.Rider("carol").Show(now.AddSeconds(-120), 0).ToText(), "stale"),
            (_env.Rider("dave").Show(now.AddSeconds(90), 0).ToText(), "future"),
            (_env.Rider("mallory").Show(now, 0).ToText(), "denied"),
            (_env.Rider("erin").Show(now, 0).ToText(), "ok"),
        };
        var config = _env.WriteConfig();
        await using var gate = await GateProcess.StartAsync(config, new Dictionary<string, string> { ["TRANSIT_GATE_Device__StationId"] = "S99" });
        using var client = gate.Connect();

        var answers = new List<TapAnswer>();
        foreach (var (code, _) in codes)
        {
            answers.Add(await client.TapAsync(code));
        }

        Assert.Equal(codes.Select(c => c.Reason), answers.Select(a => a.Reason));
        Assert.Equal(codes.Select(c => c.Reason == "ok"), answers.Select(a => a.Accepted));
        Assert.Equal(Enumerable.Range(1, codes.Length).Select(i => (long)i), answers.Select(a => a.Seq));
        Assert.Equal("alice", answers[2].Account);
        Assert.All(answers, a => Assert.InRange(a.LatencyMs, 0, 5000));
        var reasons = VerificationReasons.All.Append("passback").ToHashSet();
        Assert.Subset(answers.Select(a => a.Reason).ToHashSet(), reasons);
        Assert.Equal(reasons, answers.Select(a => a.Reason).ToHashSet());

        // The journal already holds every answered tap; read it while the gate runs, through the CLI.
        var journal = await GateProcess.RunToEndAsync("gate", "journal", "--db", _env.JournalPath);
        Assert.Equal(0, journal.ExitCode);
        var rows = journal.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(codes.Select(c => c.Code), rows.Select(r => r.GetProperty("code").GetString()));
        Assert.Equal(codes.Select(c => c.Reason), rows.Select(r => r.GetProperty("reason").GetString()));
        Assert.All(rows, r =>
        {
            Assert.Equal("metro-entry", r.GetProperty("mode").GetString());
            Assert.Equal("S99", r.GetProperty("stationId").GetString());
            Assert.Equal(3, r.GetProperty("keySetVersion").GetInt64());
            Assert.False(r.GetProperty("uploaded").GetBoolean());
        });
        Assert.Equal(alice.Credential.CredentialIdText, rows[0].GetProperty("credentialId").GetString());

        Assert.Equal(2, await gate.MetricAsync("""transit_gate_taps_total{decision="accepted",reason="ok"}"""));
        Assert.Equal(1, await gate.MetricAsync("""transit_gate_taps_total{decision="refused",reason="passback"}"""));
        Assert.Equal(codes.Length, await gate.MetricAsync("transit_gate_decision_latency_seconds_count"));
        Assert.Equal(2, await gate.MetricAsync("transit_gate_barrier_opens_total"));
        var hardware = (await gate.GetAsync("/hardware")).Split('\n');
        Assert.Equal(2, hardware.Count(a => a == "barrier:open"));
        Assert.Contains("display:Already entered", hardware);
        Assert.Equal(0, await gate.TerminateAsync());
    }

    [Fact]
    public async Task Metrics_RealGate_ParsedSamplesChangeAfterTaps_AndCoverTheOperationsGuidesAlertRules()
    {
        var alice = _env.Rider("alice");
        var now = GateEnvironment.Now();
        await using var gate = await GateProcess.StartAsync(_env.WriteConfig());
        var before = PrometheusText.Parse(await gate.GetAsync("/metrics"));
        using var client = gate.Connect();

        Assert.True((await client.TapAsync(alice.Show(now, 0).ToText())).Accepted);
        Assert.False((await client.TapAsync("hello gate")).Accepted);
        var text = await gate.GetAsync("/metrics");
        var after = PrometheusText.Parse(text);

        Assert.Equal(0, before["transit_gate_barrier_opens_total"]);
        Assert.Equal(0, before["transit_gate_journal_backlog"]);
        Assert.DoesNotContain("""transit_gate_taps_total{decision="accepted",reason="ok"}""", before.Keys);
        Assert.Equal(1, after["""transit_gate_taps_total{decision="accepted",reason="ok"}"""]);
        Assert.Equal(1, after["""transit_gate_taps_total{decision="refused",reason="malformed"}"""]);
        Assert.Equal(1, after["transit_gate_barrier_opens_total"]);
        Assert.Equal(2, after["transit_gate_scanner_lines_total"]);
        Assert.Equal(2, after["transit_gate_journal_backlog"]);
        Assert.Equal(2, after["transit_gate_journal_highest_sequence"]);
        Assert.Equal(2, after["transit_gate_decision_latency_seconds_count"]);
        Assert.Equal(2, after["""transit_gate_decision_latency_seconds_bucket{le="+Inf"}"""]);
        Assert.True(after["transit_gate_decision_latency_seconds_sum"] > 0);
        Assert.True(after["process_working_set_bytes"] > 0);

        var named = AlertRules.MetricNames(AlertRules.Read()).Where(n => n.StartsWith("transit_gate_", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(named);
        Assert.All(named, name => Assert.True(PrometheusText.Exports(text, name), $"the alert rules name {name}, which the gate does not export"));
        Assert.Equal(0, await gate.TerminateAsync());

        // Logs on standard error are JSON, one object a line.
        var logs = gate.Errors.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(logs);
        Assert.All(logs, line => Assert.True(JsonDocument.Parse(line).RootElement.TryGetProperty("Timestamp", out _), line));
    }

    [Fact]
    public async Task Logs_FormatterNameSimple_PlainTextLinesInsteadOfJson()
    {
        await using var gate = await GateProcess.StartAsync(_env.WriteConfig(), new Dictionary<string, string> { ["TRANSIT_GATE_Logging__Console__FormatterName"] = "simple" });
        Assert.Equal(0, await gate.TerminateAsync());

        var logs = gate.Errors.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(logs, line => line.Contains("info: Transit.GateAgent", StringComparison.Ordinal) && line.Contains("ready in", StringComparison.Ordinal));
        Assert.DoesNotContain(logs, line => line.StartsWith('{'));
    }

    [Fact]
    public async Task Run_RestartAfterSigkill_ReplayAndPassbackRememberedFromJournal()
    {
        var now = GateEnvironment.Now();
        var alice = _env.Rider("alice");
        var code = alice.Show(now, 0).ToText();
        var config = _env.WriteConfig();

        await using (var gate = await GateProcess.StartAsync(config))
        {
            using var client = gate.Connect();
            Assert.Equal("ok", (await client.TapAsync(code)).Reason);
            await gate.KillAsync();
        }

        await using (var gate = await GateProcess.StartAsync(config))
        {
            using var client = gate.Connect();
            var replay = await client.TapAsync(code);
            Assert.Equal(("replayed", 2L), (replay.Reason, replay.Seq));
            Assert.Equal("passback", (await client.TapAsync(alice.Show(now, 1).ToText())).Reason);
            Assert.Equal("ok", (await client.TapAsync(_env.Rider("bob").Show(now, 0).ToText())).Reason);
        }
    }

    [Fact]
    public async Task Run_SimulationClock_ClockLinesSetTheTimeCodesAreCheckedAndStampedWith()
    {
        var now = GateEnvironment.Now();
        var simulated = now.AddDays(1).AddHours(3);
        var alice = _env.Rider("alice", now.AddHours(-1), TimeSpan.FromDays(3));
        var bob = _env.Rider("bob", now.AddHours(-1), TimeSpan.FromDays(3));
        var config = _env.WriteConfig(change: c => c["Simulation"] = new System.Text.Json.Nodes.JsonObject { ["Clock"] = "manual" });
        await using var gate = await GateProcess.StartAsync(config);
        using var client = gate.Connect();

        // Pipelined: each code is stamped with the clock line sent just before it, not with a later one.
        await client.SendAsync(SimulationClock.LinePrefix + simulated.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        await client.SendAsync(alice.Show(simulated.AddSeconds(-2), 0).ToText());
        await client.SendAsync(SimulationClock.LinePrefix + simulated.AddMinutes(10).ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        await client.SendAsync(alice.Show(simulated.AddSeconds(-2), 1).ToText());
        await client.SendAsync(bob.Show(now, 0).ToText());
        await client.SendAsync("#clock yesterday");
        var first = await client.ReceiveAsync();
        var stale = await client.ReceiveAsync();
        var realTime = await client.ReceiveAsync();

        Assert.Equal(("ok", 1L), (first.Reason, first.Seq));
        Assert.Equal(("stale", 2L), (stale.Reason, stale.Seq));
        Assert.Equal(("stale", 3L), (realTime.Reason, realTime.Seq));
        var journal = (await GateProcess.RunToEndAsync("gate", "journal", "--db", _env.JournalPath)).Output
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("at").GetDateTimeOffset()).ToList();
        Assert.Equal(3, journal.Count);
        Assert.InRange(journal[0] - simulated, TimeSpan.Zero, TimeSpan.FromSeconds(5));
        Assert.InRange(journal[1] - simulated.AddMinutes(10), TimeSpan.Zero, TimeSpan.FromSeconds(5));
        Assert.Contains("clock line ignored", gate.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_SystemClock_ClockLineIsJustAMalformedScan()
    {
        var config = _env.WriteConfig();
        await using var gate = await GateProcess.StartAsync(config);
        using var client = gate.Connect();

        var answer = await client.TapAsync(SimulationClock.LinePrefix + "2030-01-01T00:00:00Z");
        var ok = await client.TapAsync(_env.Rider("alice").Show(GateEnvironment.Now(), 0).ToText());

        Assert.Equal(("malformed", 1L), (answer.Reason, answer.Seq));
        Assert.Equal("ok", ok.Reason);
    }

    [Fact]
    public async Task Run_GarbageCollector_WorkstationAsDeployedAndAWarningUnderServerGc()
    {
        var config = _env.WriteConfig();
        await using (var deployed = await GateProcess.StartAsync(config))
        {
            await GateProcess.WaitUntilAsync(
                () => Task.FromResult(deployed.Errors.Contains("; workstation GC", StringComparison.Ordinal)), TimeSpan.FromSeconds(20), "the start log line");
            Assert.DoesNotContain("DOTNET_gcServer=0", deployed.Errors, StringComparison.Ordinal);
        }

        await using var server = await GateProcess.StartAsync(config, new Dictionary<string, string> { ["DOTNET_gcServer"] = "1" });
        await GateProcess.WaitUntilAsync(
            () => Task.FromResult(server.Errors.Contains("start it with DOTNET_gcServer=0", StringComparison.Ordinal)), TimeSpan.FromSeconds(20), "the server GC warning");
        Assert.Contains("; server GC", server.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_SerialPseudoTerminal_CodesReadInRawMode()
    {
        await using var pty = await PseudoTerminalPair.StartAsync(_env.Directory, "Scanner");
        var (scanner, feeder) = (pty.Device, pty.Feeder);
        var now = GateEnvironment.Now();
        var codes = new[] { _env.Rider("alice").Show(now, 0).ToText(), _env.Rider("bob").Show(now, 0).ToText(), "not a code", "TR1:\0AB\u001b[2J" };
        var config = _env.WriteConfig(change: c => c["Scanner"] = new System.Text.Json.Nodes.JsonObject
        {
            ["Serial"] = new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject { ["Device"] = scanner, ["Baud"] = 9600 }),
        });
        await using var gate = await GateProcess.StartAsync(config);
        await GateProcess.WaitUntilAsync(() => Task.FromResult(gate.Errors.Contains("opened", StringComparison.Ordinal)), TimeSpan.FromSeconds(10), "the serial scanner to open");

        // Scanners end codes with CR, CR LF or LF; the first code arrives in two writes, as slow UARTs deliver it.
        await using (var tty = new FileStream(feeder, FileMode.Open, FileAccess.Write))
        {
            var bytes = System.Text.Encoding.ASCII.GetBytes($"{codes[0]}\r{codes[1]}\r\n{codes[2]}\n{codes[3]}\n");
            await tty.WriteAsync(bytes.AsMemory(0, 40));
            await tty.FlushAsync();
            await Task.Delay(100);
            await tty.WriteAsync(bytes.AsMemory(40));
            await tty.FlushAsync();
        }

        await GateProcess.WaitUntilAsync(async () => (await gate.HealthAsync()).GetProperty("highestSequence").GetInt64() == 4, TimeSpan.FromSeconds(20), "four taps from the pseudo-terminal");
        var rows = TapJournal.ReadAll(_env.JournalPath).ToList();

        // The NUL and escape sequence are refused before verification and kept only escaped.
        Assert.Equal([codes[0], codes[1], codes[2], "TR1:\\x00AB\\x1B[2J"], rows.Select(r => r.Code));
        Assert.Equal(["ok", "ok", "malformed", "malformed"], rows.Select(r => r.Reason));
        Assert.Equal(2, await gate.MetricAsync("transit_gate_barrier_opens_total"));
    }

    [Fact]
    public async Task Run_InputEventDevice_KeyboardScannerCodesDecoded()
    {
        var device = Path.Combine(_env.Directory, "event-kbd");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [device])!)
        {
            await mkfifo.WaitForExitAsync();
        }

        var now = GateEnvironment.Now();
        var codes = new[] { _env.Rider("alice").Show(now, 0).ToText(), _env.Rider("bob").Show(now, 0).ToText() };
        var config = _env.WriteConfig(change: c => ((System.Text.Json.Nodes.JsonObject)c["Scanner"]!)["InputEvents"] =
            new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject { ["Device"] = device, ["Grab"] = false }));
        await using var gate = await GateProcess.StartAsync(config);

        var events = new MemoryStream();
        foreach (var code in codes)
        {
            foreach (var c in code)
            {
                Assert.True(KeyboardDecoder.TryGetKey(c, out var key, out var shift), $"no key for '{c}'");
                if (shift)
                {
                    WriteEvent(events, 1, 42, 1);
                }

                WriteEvent(events, 1, key, 1);
                WriteEvent(events, 0, 0, 0);
                WriteEvent(events, 1, key, 0);
                if (shift)
                {
                    WriteEvent(events, 1, 42, 0);
                }
            }

            WriteEvent(events, 1, 28, 1);
            WriteEvent(events, 1, 28, 0);
        }

        await using (var fifo = new FileStream(device, FileMode.Open, FileAccess.Write))
        {
            await fifo.WriteAsync(events.ToArray());
        }

        await GateProcess.WaitUntilAsync(async () => (await gate.HealthAsync()).GetProperty("highestSequence").GetInt64() == 2, TimeSpan.FromSeconds(20), "two taps from the event device");
        var rows = TapJournal.ReadAll(_env.JournalPath).ToList();
        Assert.Equal(codes, rows.Select(r => r.Code));
        Assert.All(rows, r => Assert.Equal("ok", r.Reason));
    }

    [Fact]
    public async Task Run_UnderSystemd_NotifiesReadyAndStopping()
    {
        var socketPath = Path.Combine(_env.Directory, "notify.sock");
        using var notify = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Unspecified);
        notify.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(socketPath));
        var config = _env.WriteConfig();
        await using var gate = await GateProcess.StartAsync(config, new Dictionary<string, string> { ["NOTIFY_SOCKET"] = socketPath });

        async Task<string> ReceiveAsync()
        {
            var buffer = new byte[256];
            var n = await notify.ReceiveAsync(buffer).WaitAsync(TimeSpan.FromSeconds(20));
            return System.Text.Encoding.UTF8.GetString(buffer, 0, n);
        }

        Assert.Equal("READY=1", await ReceiveAsync());
        Assert.Equal(0, await gate.TerminateAsync());
        Assert.Equal("STOPPING=1", await ReceiveAsync());
    }

    [Fact]
    public async Task Run_InvalidSettings_ExitsWithEverySettingNamed()
    {
        var config = _env.WriteConfig(change: c =>
        {
            c["Device"]!["Mode"] = "tram";
            c["Journal"]!["Path"] = null;
            c["Verification"]!["MaxAgeSeconds"] = 0;
        });
        var (exit, _, error) = await GateProcess.RunToEndAsync("gate", "run", "--config", config);
        Assert.Equal(2, exit);
        Assert.Contains("Device:Mode 'tram' is not a mode", error, StringComparison.Ordinal);
        Assert.Contains("Journal:Path is required", error, StringComparison.Ordinal);
        Assert.Contains("Verification:MaxAgeSeconds must be between 1 and 3600 (got 0)", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_TamperedInitialKeySet_RefusesToStartNamingTheFile()
    {
        var config = _env.WriteConfig();
        var keySet = Path.Combine(_env.Directory, "trust", "keyset.json");
        var envelope = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(keySet))!;
        envelope["signature"] = Convert.ToBase64String(new byte[64]);
        File.WriteAllText(keySet, envelope.ToJsonString());
        var (exit, _, error) = await GateProcess.RunToEndAsync("gate", "run", "--config", config);
        Assert.Equal(2, exit);
        Assert.Contains($"Trust:KeySet ({keySet}): the transit-keyset document's root signature does not verify", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_GpioChipAbsent_ExitsNamingTheChip()
    {
        var config = _env.WriteConfig(change: c => c["Hardware"] = new System.Text.Json.Nodes.JsonObject
        {
            ["Kind"] = "gpio",
            ["Gpio"] = new System.Text.Json.Nodes.JsonObject { ["Chip"] = "gpiochip97", ["Barrier"] = 17, ["Green"] = 27, ["Red"] = 22 },
        });
        var (exit, _, error) = await GateProcess.RunToEndAsync("gate", "run", "--config", config);
        Assert.Equal(2, exit);

        // Without libgpiod the message names the package; with it, the missing chip.
        Assert.True(
            error.Contains("Hardware:Gpio:Chip 'gpiochip97' cannot be opened", StringComparison.Ordinal) || error.Contains("libgpiod2", StringComparison.Ordinal),
            error);
    }

    public void Dispose() => _env.Dispose();

    private static void WriteEvent(MemoryStream stream, ushort type, ushort code, int value)
    {
        var record = new byte[KeyboardDecoder.EventSize];
        var offset = 2 * IntPtr.Size;
        BitConverter.TryWriteBytes(record.AsSpan(offset), type);
        BitConverter.TryWriteBytes(record.AsSpan(offset + 2), code);
        BitConverter.TryWriteBytes(record.AsSpan(offset + 4), value);
        stream.Write(record);
    }
}
