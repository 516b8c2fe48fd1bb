using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Transit.GateAgent.Clearing;
using Transit.GateAgent.Configuration;
using Transit.GateAgent.Hardware;
using Transit.GateAgent.Journal;
using Transit.GateAgent.Pipeline;
using Transit.GateAgent.Scanners;
using Transit.GateAgent.Status;
using Transit.GateAgent.Tests.Infrastructure;
using Transit.GateAgent.Trust;
using Transit.RideCodes;
using Transit.DeviceApi;
using Transit.GateAgent.Taps;

namespace Transit.GateAgent.Tests;

/// <summary>The agent's parts in-process: decoding, rules, journal, settings, backoff, metrics, lights.</summary>
public sealed class ComponentTests : IDisposable
{
    private static readonly GateLimits Limits = new(TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(120));
    private readonly GateEnvironment _env = new();

    [Fact]
    public void KeyboardDecoder_EveryBase45CharacterWithShiftAndSplitReads_DecodesCode()
    {
        const string text = "TR1:0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
        var bytes = new List<byte>();
        void Event(ushort type, ushort code, int value)
        {
            var record = new byte[KeyboardDecoder.EventSize];
            BitConverter.TryWriteBytes(record.AsSpan(2 * IntPtr.Size), type);
            BitConverter.TryWriteBytes(record.AsSpan((2 * IntPtr.Size) + 2), code);
            BitConverter.TryWriteBytes(record.AsSpan((2 * IntPtr.Size) + 4), value);
            bytes.AddRange(record);
        }

        foreach (var c in text)
        {
            Assert.True(KeyboardDecoder.TryGetKey(c, out var key, out var shift));
            if (shift)
            {
                Event(1, 54, 1);
            }

            Event(1, key, 1);
            Event(1, key, 0);
            Event(0, 0, 0);
            if (shift)
            {
                Event(1, 54, 0);
            }
        }

        Event(1, 96, 1);
        var decoder = new KeyboardDecoder();
        var all = bytes.ToArray();
        var codes = new List<string>();
        for (var i = 0; i < all.Length; i += 7)
        {
            codes.AddRange(decoder.Feed(all.AsSpan(i, Math.Min(7, all.Length - i))));
        }

        Assert.Equal([text], codes);
    }

    [Fact]
    public void KeyboardDecoder_CapsLockAndEmptyEnter_LettersUpperAndNoEmptyCode()
    {
        var decoder = new KeyboardDecoder();
        Assert.Null(decoder.Key(1, 28, 1));
        decoder.Key(1, 58, 1);
        decoder.Key(1, 30, 1);
        decoder.Key(1, 2, 1);
        Assert.Equal("A1", decoder.Key(1, 28, 1));
    }

    [Fact]
    public void LineAssembler_CrLfAndSplitChunks_OneLinePerCode()
    {
        var lines = new LineAssembler();
        Assert.Empty(lines.Feed("TR1:AB"u8));
        Assert.Equal(["TR1:ABC", "X Y"], lines.Feed("C\r\nX Y\r"u8));
        Assert.Equal(["Z"], lines.Feed("\nZ\n"u8));
    }

    [Fact]
    public void GateRules_SameAccountWithinInterval_PassbackUntilIntervalPassesThenOk()
    {
        var rules = new GateRules();
        var now = GateEnvironment.Now();
        var (verifier, alice) = Verifier("alice");
        Assert.Equal((true, "ok"), rules.Decide(verifier.Verify(alice.Show(now, 0).ToText(), now), now, Limits));
        var replayed = verifier.Verify(alice.Show(now, 0).ToText(), now.AddSeconds(1));
        Assert.Equal((false, "replayed"), rules.Decide(replayed, now.AddSeconds(1), Limits));
        Assert.Equal((false, "passback"), rules.Decide(verifier.Verify(alice.Show(now.AddSeconds(50), 0).ToText(), now.AddSeconds(50)), now.AddSeconds(50), Limits));
        var later = now.AddSeconds(121);
        Assert.Equal((true, "ok"), rules.Decide(verifier.Verify(alice.Show(later, 0).ToText(), later), later, Limits));
        Assert.Equal((false, "stale"), rules.Decide(verifier.Verify(alice.Show(now, 5).ToText(), later), later, Limits));
    }

    [Fact]
    public void GateRules_Restore_RemembersAcceptedCodesAndAccountsOnly()
    {
        var now = GateEnvironment.Now();
        var (verifier, alice) = Verifier("alice");
        var code = alice.Show(now, 0).ToText();
        var rules = new GateRules();
        Assert.Equal(1, rules.Restore([(code, now, "alice"), ("garbage", now, null)], now.AddSeconds(5), Limits));
        Assert.Equal((false, "replayed"), rules.Decide(verifier.Verify(code, now.AddSeconds(5)), now.AddSeconds(5), Limits));
        Assert.Equal((false, "passback"), rules.Decide(verifier.Verify(alice.Show(now, 1).ToText(), now.AddSeconds(5)), now.AddSeconds(5), Limits));
        var off = Limits with { Passback = TimeSpan.Zero };
        Assert.Equal((true, "ok"), new GateRules().Decide(verifier.Verify(alice.Show(now, 2).ToText(), now), now, off));
    }

    [Fact]
    public void TapJournal_AppendReopenPrune_SequenceContiguousAndNeverReused()
    {
        var now = GateEnvironment.Now();
        using (var journal = TapJournal.Open(_env.JournalPath, "gate-0001"))
        {
            journal.Append([TestVerdicts.Of("a", now.AddDays(-30)), TestVerdicts.Of("b", now.AddDays(-30))]);
            journal.Append([TestVerdicts.Of("c", now)]);
            Assert.Equal((3L, 3L, 0L), (journal.LastSeq, journal.Backlog, journal.AckedThrough));
            journal.MarkUploaded(3);
            Assert.Equal(0, journal.Backlog);
            Assert.Equal(0, journal.Prune(now.AddDays(-40)));
            Assert.Equal(2, journal.Prune(now.AddDays(-14)));
            Assert.Equal(3, journal.FirstSeq);
        }

        using (var journal = TapJournal.Open(_env.JournalPath, "gate-0001"))
        {
            Assert.Equal((3L, 3L), (journal.LastSeq, journal.AckedThrough));
            journal.Append([TestVerdicts.Of("d", now)]);
            Assert.Equal([(3L, "c"), (4L, "d")], journal.ReadFrom(0, 10).Select(r => (r.Seq, r.Code)));

            // Everything uploaded and old: the newest tap stays so that its number is never handed out again.
            journal.MarkUploaded(4);
            journal.Prune(now.AddDays(1));
            Assert.Equal([4L], journal.ReadFrom(0, 10).Select(r => r.Seq));
            journal.RewindUploaded(2);
            Assert.Equal(2, journal.Backlog);
        }

        var error = Assert.Throws<InvalidOperationException>(() => TapJournal.Open(_env.JournalPath, "gate-0002"));
        Assert.Contains("belongs to device 'gate-0001'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TapJournal_CheckpointBetweenCommits_WalRewrittenInPlaceInsteadOfGrowing()
    {
        var now = GateEnvironment.Now();
        var wal = _env.JournalPath + "-wal";
        using var journal = TapJournal.Open(_env.JournalPath, "gate-0001");
        for (var i = 0; i < 200; i++)
        {
            journal.Append([TestVerdicts.Of($"first-{i}", now)]);
        }

        var grown = new FileInfo(wal).Length;
        Assert.True(journal.Checkpoint());
        journal.FinishCheckpoint();

        // One tap per commit, as at a gate: each commit overwrites WAL blocks that already exist.
        for (var i = 0; i < 150; i++)
        {
            journal.Append([TestVerdicts.Of($"second-{i}", now)]);
        }

        Assert.Equal(grown, new FileInfo(wal).Length);
        Assert.Equal(350, journal.LastSeq);
        Assert.Equal(["second-149"], journal.ReadFrom(350, 1).Select(r => r.Code));
    }

    [Fact]
    public void TapJournal_AcceptedSince_ReadsNewestAcceptedOnly()
    {
        var now = GateEnvironment.Now();
        using var journal = TapJournal.Open(_env.JournalPath, "gate-0001");
        journal.Append([TestVerdicts.Of("old", now.AddMinutes(-10)), TestVerdicts.Of("new", now), TestVerdicts.Of("refused", now, accepted: false)]);
        Assert.Equal(["new"], journal.ReadAcceptedSince(now.AddMinutes(-2)).Select(t => t.Code));
    }

    [Fact]
    public void SettingsLoader_MissingAndBadValues_EachErrorNamesItsSetting()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Device:Id"] = "g1",
            ["Device:Mode"] = "bus",
            ["Trust:RootPublicKey"] = "missing.pub.json",
            ["Clearing:Url"] = "http://clearing",
            ["Scanner:Serial:0:Device"] = "/dev/ttyACM0",
            ["Scanner:Serial:0:Baud"] = "12345",
            ["Hardware:Kind"] = "gpio",
            ["Simulation:Clock"] = "manual",
        }).Build();
        var error = Assert.Throws<GateConfigurationException>(() => GateSettingsLoader.Load(configuration, _env.Directory));
        foreach (var expected in new[]
        {
            "Device:OperatorId is required", "Device:RouteId is required", "Trust:RootPublicKey: file", "Trust:KeySet is required",
            "Clearing:Url 'http://clearing' must be an absolute https:// URL", "Clearing:ClientCertificate is required",
            "Journal:Path is required", "Scanner:Serial:0:Baud 12345", "Hardware:Gpio:Barrier is required",
            "Simulation:Clock manual needs Scanner:Tcp:Port",
        })
        {
            Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("bus", TapMode.Bus)]
    [InlineData("bus-exit", TapMode.BusExit)]
    public void SettingsLoader_BusModes_NeedARouteNotAStation(string name, TapMode mode)
    {
        var withoutRoute = _env.WriteConfig(change: c => c["Device"] = new System.Text.Json.Nodes.JsonObject { ["Id"] = "v1", ["OperatorId"] = "bus", ["Mode"] = name });
        var error = Assert.Throws<GateConfigurationException>(() => GateSettingsLoader.Load(GateSettingsLoader.BuildConfiguration(withoutRoute), _env.Directory));
        Assert.Contains("Device:RouteId is required", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Device:StationId", error.Message, StringComparison.Ordinal);

        var withRoute = _env.WriteConfig(change: c => c["Device"] = new System.Text.Json.Nodes.JsonObject { ["Id"] = "v1", ["OperatorId"] = "bus", ["Mode"] = name, ["RouteId"] = "R1" });
        var context = DeviceContext.From(GateSettingsLoader.Load(GateSettingsLoader.BuildConfiguration(withRoute), _env.Directory).Device);
        Assert.Equal((mode, name, true), (context.Mode, context.Mode.Name(), context.Mode.OnBus()));
    }

    [Fact]
    public void SettingsLoader_RelativePaths_ResolvedAgainstConfigDirectory()
    {
        var path = _env.WriteConfig(change: c => c["Trust"]!["KeySet"] = "trust/keyset.json");
        var settings = GateSettingsLoader.Load(GateSettingsLoader.BuildConfiguration(path), _env.Directory);
        Assert.Equal(Path.Combine(_env.Directory, "trust", "keyset.json"), settings.Trust.KeySet);
        Assert.Equal(_env.JournalPath, settings.Journal.Path);
    }

    [Fact]
    public void Backoff_ConsecutiveFailures_GrowsToCapWithJitterAndResets()
    {
        var backoff = new Backoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(2));
        var waits = Enumerable.Range(0, 12).Select(_ => backoff.Next().TotalMilliseconds).ToList();
        Assert.All(waits, w => Assert.InRange(w, 50, 2000));
        Assert.InRange(waits[0], 50, 100);
        Assert.True(waits.Skip(6).Max() > 400, "later waits approach the cap");
        Assert.True(waits.Skip(6).Distinct().Count() > 1, "jitter spreads the retries");
        backoff.Reset();
        Assert.InRange(backoff.Next().TotalMilliseconds, 50, 100);
    }

    [Fact]
    public async Task Metrics_Prometheus_CountersHistogramAndGauges()
    {
        using var metrics = new GateMetrics();
        metrics.RecordTap(true, "ok", TimeSpan.FromMilliseconds(1.5));
        metrics.RecordTap(false, "stale", TimeSpan.FromMilliseconds(200));
        metrics.RecordSyncRefusal("keyset");
        metrics.AddGauge("journal_backlog", "Backlog.", () => 2);
        using var stream = new MemoryStream();
        await metrics.WritePrometheusAsync(stream, CancellationToken.None);
        var text = System.Text.Encoding.UTF8.GetString(stream.ToArray());
        Assert.Contains("transit_gate_taps_total{decision=\"accepted\",reason=\"ok\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("transit_gate_decision_latency_seconds_bucket{le=\"0.002\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("transit_gate_decision_latency_seconds_bucket{le=\"0.3\"} 2\n", text, StringComparison.Ordinal);
        Assert.Contains("transit_gate_decision_latency_seconds_count 2\n", text, StringComparison.Ordinal);
        Assert.Contains("transit_gate_sync_refused_total{document=\"keyset\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("transit_gate_barrier_opens_total 0\n", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE transit_gate_journal_backlog gauge\ntransit_gate_journal_backlog 2\n", text, StringComparison.Ordinal);
        Assert.Equal(200_000, metrics.RecentP99Micros());
        Assert.Equal(new Dictionary<string, long> { ["ok"] = 1, ["stale"] = 1 }, metrics.TapsByReason());
    }

    [Fact]
    public void GateController_AcceptThenRefuse_GreenOpenBeepThenRedWithReason()
    {
        var log = new SimulatedHardwareLog();
        using var metrics = new GateMetrics();
        using var hardware = GateHardware.Create(new HardwareSettings(), log, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        using var controller = new GateController(hardware, new HardwareSettings { BarrierOpenMillis = 60_000 }, metrics, new GateHealth(), TimeProvider.System);
        controller.Show(true, "ok");
        controller.Show(false, "replayed");
        Assert.Equal(
            ["barrier:close", "light:off", "display:Scan your code", "light:green", "barrier:open", "buzzer:accept", "display:Welcome - please pass", "light:red", "buzzer:refuse", "display:Code already used"],
            log.Actions);
        Assert.Equal(1, metrics.BarrierOpens);
    }

    [Fact]
    public void GateHardware_DisplayDevice_OneLinePerMessageAppended()
    {
        var display = Path.Combine(_env.Directory, "display.txt");
        File.WriteAllText(display, "earlier\n");
        using (var hardware = GateHardware.Create(new HardwareSettings { DisplayDevice = display }, new SimulatedHardwareLog(), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance))
        {
            hardware.Display.Show("Scan your code");
            hardware.Display.Show("Welcome - please pass");
        }

        Assert.Equal(["earlier", "Scan your code", "Welcome - please pass"], File.ReadAllLines(display));
        using var tty = GateHardware.Create(new HardwareSettings { DisplayDevice = "/dev/null" }, new SimulatedHardwareLog(), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        tty.Display.Show("a character device takes it too");
    }

    [Fact]
    public void ScanText_ControlAndForeignCharacters_OutsideAlphabetAndEscapedPrintably()
    {
        Assert.True(ScanText.InCodeAlphabet("TR1:0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"));
        Assert.False(ScanText.InCodeAlphabet("TR1:AB\0C"));
        Assert.False(ScanText.InCodeAlphabet("tr1:abc"));
        Assert.False(ScanText.InCodeAlphabet("TR1:\u00C9"));
        Assert.False(ScanText.InCodeAlphabet(""));
        Assert.Equal("not a code", ScanText.Escape("not a code", 512));
        Assert.Equal("TR1:A\\x00B\\x5C\\x7F\\xFF\\u{20AC}", ScanText.Escape("TR1:A\0B\\\u007F\u00FF\u20AC", 512));

        // Cut at the limit, never inside an escape.
        Assert.Equal("AB", ScanText.Escape("AB\0", 5));
        Assert.Equal(512, ScanText.Escape(new string('\0', 1000), 512).Length);
    }

    [Fact]
    public void GarbageFilter_RepeatsWithinWindowAndDistinctFloods_Limited()
    {
        var filter = new GarbageFilter();
        var t0 = Stopwatch.GetTimestamp();
        long At(double seconds) => t0 + (long)(seconds * Stopwatch.Frequency);
        Assert.True(filter.Admit("same", At(0)));
        Assert.False(filter.Admit("same", At(1)));
        Assert.False(filter.Admit("same", At(59)));
        var distinct = Enumerable.Range(0, 100).Count(i => filter.Admit($"x{i}", At(2)));
        Assert.Equal(GarbageFilter.Burst, distinct);
        Assert.True(filter.Admit("later", At(4)));
        Assert.True(filter.Admit("same", At(61.5)));
    }

    [Fact]
    public void GateHealth_RepeatedFailures_ReportedOnceAtThresholdAndClearedBySuccess()
    {
        var health = new GateHealth(alarmAfterFailures: 3);
        var changes = 0;
        health.Changed += () => changes++;
        var at = DateTimeOffset.UtcNow;
        Assert.Null(health.UploadFailed("connection-refused", "refused", at));
        Assert.Null(health.UploadFailed("connection-refused", "refused", at.AddSeconds(1)));
        Assert.Equal(("ok", false, 0), (health.Status, health.Amber, changes));
        var raised = health.UploadFailed("connection-refused", new string('x', 900), at.AddSeconds(2));
        Assert.Equal(("connection-refused", 3, (DateTimeOffset?)at, GateHealth.MaxMessageLength), (raised!.Reason, raised.Failures, raised.Since, raised.Message!.Length));
        Assert.Equal(("degraded", true, 1), (health.Status, health.Amber, changes));
        Assert.Null(health.UploadFailed("connection-refused", "refused", at.AddSeconds(3)));
        Assert.Equal("http-500", health.UploadFailed("http-500", "HTTP 500", at.AddSeconds(4))!.Reason);
        health.SetRefusal("clearing refuses this device (403)");
        Assert.Equal("alarm", health.Status);
        health.SetRefusal(null);
        Assert.Equal(5, health.UploadSucceeded()!.Failures);
        Assert.Equal(("ok", false), (health.Status, health.Amber));
        Assert.Null(health.UploadError);
        health.SetDiskFree(1000, "low");
        Assert.Equal(("degraded", 1000L), (health.Status, health.DiskFreeBytes));
    }

    public void Dispose() => _env.Dispose();

    private (RideCodeVerifier Verifier, PhoneCredential Rider) Verifier(string account)
    {
        var trust = TrustStore.Open(_env.Keys.RootPublicKey, _env.Keys.ReadSignedKeySet(), _env.Keys.ReadSignedDenyList());
        return (new RideCodeVerifier(trust), _env.Rider(account));
    }
}
