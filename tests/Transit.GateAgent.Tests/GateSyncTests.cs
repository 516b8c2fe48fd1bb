using System.Text;
using System.Text.Json.Nodes;
using Transit.GateAgent.Journal;
using Transit.GateAgent.Tests.Infrastructure;
using Transit.RideCodes;

namespace Transit.GateAgent.Tests;

/// <summary>Key set, deny list and device configuration reaching a running gate through the device API.</summary>
[Trait("Category", "Process")]
public sealed class GateSyncTests : IAsyncLifetime
{
    private readonly GateEnvironment _env = new();
    private TestClearingServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = new TestClearingServer(_env.Keys);
        await _server.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _env.Dispose();
    }

    private static JsonObject ConfigPayload(long version, string deviceId) => new()
    {
        ["version"] = version, ["deviceId"] = deviceId, ["operatorId"] = "metro", ["mode"] = "bus", ["stationId"] = null,
        ["routeId"] = "R7", ["maxAgeSeconds"] = 60, ["maxAheadSeconds"] = 30, ["passbackSeconds"] = 0, ["issuedAt"] = "2026-11-21T04:00:00Z",
    };

    /// <summary>Starts the gate and waits for the sync it runs at start, so the test's changes meet a quiet gate.</summary>
    private static async Task<GateProcess> StartSyncedAsync(string config)
    {
        var gate = await GateProcess.StartAsync(config);
        await GateProcess.WaitUntilAsync(
            async () => (await gate.HealthAsync()).GetProperty("lastSyncAt").ValueKind == System.Text.Json.JsonValueKind.String, TimeSpan.FromSeconds(30), "the first sync");
        return gate;
    }

    [Fact]
    public async Task Sync_DenyListDeltaAndRevokedKey_AppliedLiveAndKeptOverRestart()
    {
        var now = GateEnvironment.Now();
        var alice = _env.Rider("alice");
        var rita = _env.Rider("rita");
        var config = _env.WriteConfig(_server);
        await using (var gate = await StartSyncedAsync(config))
        {
            using var client = gate.Connect();
            Assert.Equal("ok", (await client.TapAsync(alice.Show(now, 0).ToText())).Reason);

            _env.Keys.UpdateDenyList(addAccounts: ["alice"]);
            _env.Keys.UpdateDenyList(addCredentials: [rita.Credential.CredentialId]);
            var (status, _) = await gate.PostAsync("/control/sync");
            Assert.Equal(200, status);
            Assert.Equal(3, (await gate.HealthAsync()).GetProperty("denyListVersion").GetInt64());
            Assert.Equal("denied", (await client.TapAsync(alice.Show(now.AddSeconds(1), 0).ToText())).Reason);
            Assert.Equal("denied", (await client.TapAsync(rita.Show(now, 0).ToText())).Reason);

            // A key issued after the gate's key set is unknown until sync brings the rotation; the revoked one fails.
            var bob = _env.Rider("bob");
            _env.Keys.Rotate(SignatureAlgorithm.P256);
            var erin = _env.Rider("erin");
            Assert.Equal("unknown-key", (await client.TapAsync(erin.Show(now, 0).ToText())).Reason);
            _env.Keys.Revoke(1);
            Assert.Equal(200, (await gate.PostAsync("/control/sync")).Status);
            Assert.Equal(3, (await gate.HealthAsync()).GetProperty("keySetVersion").GetInt64());
            Assert.Equal("revoked-key", (await client.TapAsync(bob.Show(now, 0).ToText())).Reason);
            Assert.Equal("ok", (await client.TapAsync(erin.Show(now, 1).ToText())).Reason);
            Assert.Equal(0, await gate.TerminateAsync());
        }

        // Offline restart: the trust that sync installed was kept with the journal, not just in memory.
        await _server.StopAsync();
        await using (var gate = await GateProcess.StartAsync(config))
        {
            using var client = gate.Connect();
            var health = await gate.HealthAsync();
            Assert.Equal((3L, 3L), (health.GetProperty("keySetVersion").GetInt64(), health.GetProperty("denyListVersion").GetInt64()));
            using var firstIssuer = _env.Keys.OpenIssuerPrivateKey(1);
            using var zed = PhoneCredential.Issue(firstIssuer, 1, "zed", "1", now.AddHours(-1), TimeSpan.FromHours(2));
            Assert.Equal("revoked-key", (await client.TapAsync(zed.Show(now, 0).ToText())).Reason);
            Assert.Equal("denied", (await client.TapAsync(_env.Rider("alice").Show(now, 0).ToText())).Reason);
        }
    }

    [Fact]
    public async Task Sync_TamperedOrOlderKeySet_RefusedAndLastGoodKept()
    {
        var now = GateEnvironment.Now();
        var alice = _env.Rider("alice");
        var original = File.ReadAllText(_env.Keys.KeySetPath);
        var config = _env.WriteConfig(_server);
        await using var gate = await StartSyncedAsync(config);
        using var client = gate.Connect();

        // Tampered: the payload claims a newer version and an extra key, under the old signature.
        var envelope = JsonNode.Parse(original)!.AsObject();
        var payload = JsonNode.Parse(Convert.FromBase64String(envelope["payload"]!.GetValue<string>()))!.AsObject();
        payload["version"] = 9;
        envelope["payload"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(payload.ToJsonString()));
        _server.KeySetOverride = envelope.ToJsonString();
        var (status, body) = await gate.PostAsync("/control/sync");
        Assert.Equal(200, status);
        Assert.Contains("\"keyset\"", body, StringComparison.Ordinal);
        Assert.Equal(1, (await gate.HealthAsync()).GetProperty("keySetVersion").GetInt64());
        Assert.Equal(1, await gate.MetricAsync("""transit_gate_sync_refused_total{document="keyset"}"""));
        Assert.Equal("ok", (await client.TapAsync(alice.Show(now, 0).ToText())).Reason);

        // A genuine newer key set is installed; then the older one, replayed by a stale mirror, is refused.
        _server.KeySetOverride = null;
        _env.Keys.Rotate(SignatureAlgorithm.P256);
        await gate.PostAsync("/control/sync");
        Assert.Equal(2, (await gate.HealthAsync()).GetProperty("keySetVersion").GetInt64());
        _server.KeySetOverride = original;
        await gate.PostAsync("/control/sync");
        Assert.Equal(2, (await gate.HealthAsync()).GetProperty("keySetVersion").GetInt64());
        Assert.Equal(2, await gate.MetricAsync("""transit_gate_sync_refused_total{document="keyset"}"""));
        Assert.Equal("ok", (await client.TapAsync(_env.Rider("bob").Show(now, 0).ToText())).Reason);
    }

    [Fact]
    public async Task Sync_ForgedDenyListDelta_RefusedThenGenuineOneApplied()
    {
        var now = GateEnvironment.Now();
        var bob = _env.Rider("bob");
        var config = _env.WriteConfig(_server);
        await using var gate = await StartSyncedAsync(config);
        using var client = gate.Connect();

        _env.Keys.UpdateDenyList(addAccounts: ["bob"]);
        _server.TamperDeltas = true;
        Assert.Contains("\"denylist-delta\"", (await gate.PostAsync("/control/sync")).Body, StringComparison.Ordinal);
        Assert.Equal(1, (await gate.HealthAsync()).GetProperty("denyListVersion").GetInt64());
        Assert.Equal("ok", (await client.TapAsync(bob.Show(now, 0).ToText())).Reason);

        _server.TamperDeltas = false;
        await gate.PostAsync("/control/sync");
        Assert.Equal(2, (await gate.HealthAsync()).GetProperty("denyListVersion").GetInt64());
        Assert.Equal("denied", (await client.TapAsync(_env.Rider("bob").Show(now, 0).ToText())).Reason);
        Assert.Equal(1, await gate.MetricAsync("""transit_gate_sync_refused_total{document="denylist-delta"}"""));
    }

    [Fact]
    public async Task Sync_OnlineKeySignsConfigurationsButNeverAKeySet_AndAnUncertifiedOnlineKeyIsRefused()
    {
        var now = GateEnvironment.Now();
        var config = _env.WriteConfig(_server);
        await using var gate = await StartSyncedAsync(config);
        using var client = gate.Connect();

        // Whoever holds the server holds the online key: a key set it signs, adding an issuer key of theirs, is refused.
        using var attackerIssuer = SigningKey.Generate(SignatureAlgorithm.P256);
        var held = _env.Keys.KeySet;
        var forged = held.With([.. held.Keys, new IssuerKey(9, attackerIssuer.PublicKey, KeyStatus.Active, now.AddDays(-1), null)], now);
        using (var online = KeyFiles.ParsePrivateKey(File.ReadAllText(_env.Keys.OnlineKeyPath), out var onlineId))
        {
            _server.KeySetOverride = SignedDocument.CreateOnline(KeySet.DocumentType, forged.ToPayload(), online, onlineId!.Value).ToJson();
        }

        Assert.Contains("\"keyset\"", (await gate.PostAsync("/control/sync")).Body, StringComparison.Ordinal);
        Assert.Equal(1, (await gate.HealthAsync()).GetProperty("keySetVersion").GetInt64());
        using var mallory = PhoneCredential.Issue(attackerIssuer, 9, "mallory", "0", now.AddHours(-1), TimeSpan.FromHours(2));
        Assert.Equal("unknown-key", (await client.TapAsync(mallory.Show(now, 0).ToText())).Reason);
        _server.KeySetOverride = null;

        // A configuration signed by an online key the key set does not certify is refused; the certified key's is installed.
        using var stranger = SigningKey.Generate(SignatureAlgorithm.P256);
        _server.ConfigJson = SignedDocument.CreateOnline(
            OnlineKey.DeviceConfigType, Encoding.UTF8.GetBytes(ConfigPayload(5, GateEnvironment.DeviceId).ToJsonString()), stranger, 2).ToJson();
        Assert.Contains("\"config\"", (await gate.PostAsync("/control/sync")).Body, StringComparison.Ordinal);
        Assert.Equal(0, (await gate.HealthAsync()).GetProperty("configVersion").GetInt64());
        _server.ConfigJson = _env.SignConfig(ConfigPayload(5, GateEnvironment.DeviceId));
        Assert.DoesNotContain("\"config\"", (await gate.PostAsync("/control/sync")).Body, StringComparison.Ordinal);
        Assert.Equal(5, (await gate.HealthAsync()).GetProperty("configVersion").GetInt64());
    }

    [Fact]
    public async Task Sync_DeviceConfigurationAndDriverConsole_ChangeWhatTapsCarry()
    {
        var now = GateEnvironment.Now();
        var alice = _env.Rider("alice");
        _server.ConfigJson = _env.SignConfig(ConfigPayload(4, "gate-0002"));
        var config = _env.WriteConfig(_server);
        await using var gate = await GateProcess.StartAsync(config);
        using var client = gate.Connect();
        await GateProcess.WaitUntilAsync(async () => await gate.MetricAsync("""transit_gate_sync_refused_total{document="config"}""") >= 1, TimeSpan.FromSeconds(20), "another device's configuration refused");
        Assert.Equal("metro-entry", (await gate.HealthAsync()).GetProperty("mode").GetString());

        _server.ConfigJson = _env.SignConfig(ConfigPayload(4, GateEnvironment.DeviceId));
        Assert.Equal(200, (await gate.PostAsync("/control/sync")).Status);
        var health = await gate.HealthAsync();
        Assert.Equal(("bus", "R7", 4L), (health.GetProperty("mode").GetString(), health.GetProperty("routeId").GetString(), health.GetProperty("configVersion").GetInt64()));

        // Pass-back is off in this configuration: the same rider boards twice.
        Assert.Equal("ok", (await client.TapAsync(alice.Show(now, 0).ToText())).Reason);
        Assert.Equal("ok", (await client.TapAsync(alice.Show(now, 1).ToText())).Reason);

        var (status, _) = await gate.PostAsync("/control/route", """{"routeId":"R9","stopId":"STOP-3"}""");
        Assert.Equal(200, status);
        Assert.Equal("ok", (await client.TapAsync(alice.Show(now, 2).ToText())).Reason);
        Assert.Equal(400, (await gate.PostAsync("/control/route", "{}")).Status);

        var rows = TapJournal.ReadAll(_env.JournalPath).ToList();
        Assert.Equal([("bus", "R7", null), ("bus", "R7", null), ("bus", "R9", "STOP-3")], rows.Select(r => (r.Mode, r.RouteId, r.StopId)));
        Assert.All(rows, r => Assert.Null(r.StationId));
    }

    [Fact]
    public async Task Upload_AllTapsAcknowledged_ServerHoldsThemAndStatusHeartbeatMeasuresClock()
    {
        var now = GateEnvironment.Now();
        var config = _env.WriteConfig(_server, c =>
        {
            c["Clearing"]!["StatusIntervalSeconds"] = 1;
            c["Clearing"]!["CompressUploads"] = true;
        });
        await using var gate = await GateProcess.StartAsync(config);
        using var client = gate.Connect();
        for (var i = 0; i < 20; i++)
        {
            await client.TapAsync(_env.Rider($"r{i}").Show(now, 0).ToText());
        }

        await GateProcess.WaitUntilAsync(async () => (await gate.HealthAsync()).GetProperty("journalBacklog").GetInt64() == 0, TimeSpan.FromSeconds(30), "the backlog to drain");
        Assert.Equal(20, _server.HighestContiguous);
        Assert.Equal(20, _server.Taps.Count);
        var first = JsonNode.Parse(_server.Taps[1])!;
        Assert.Equal(("metro-entry", "S01", 1L), (first["mode"]!.GetValue<string>(), first["stationId"]!.GetValue<string>(), first["seq"]!.GetValue<long>()));
        Assert.True(TapJournal.ReadAll(_env.JournalPath).All(r => r.Uploaded == true));
        Assert.True(_server.CompressedBatches >= 1, "batches travel gzip-compressed when configured");
        await GateProcess.WaitUntilAsync(async () => (await gate.HealthAsync()).GetProperty("clockOffsetMillis").ValueKind == System.Text.Json.JsonValueKind.Number, TimeSpan.FromSeconds(20), "a clock offset from the heartbeat");
        Assert.InRange((await gate.HealthAsync()).GetProperty("clockOffsetMillis").GetInt64(), -1000, 1000);
        Assert.True(_server.StatusReports >= 1);
    }

    [Fact]
    public async Task Upload_ServerLostTaps_GateSendsThemAgain()
    {
        var now = GateEnvironment.Now();
        var config = _env.WriteConfig(_server);
        await using var gate = await GateProcess.StartAsync(config);
        using var client = gate.Connect();
        for (var i = 0; i < 10; i++)
        {
            await client.TapAsync(_env.Rider($"r{i}").Show(now, 0).ToText());
        }

        await GateProcess.WaitUntilAsync(async () => (await gate.HealthAsync()).GetProperty("journalBacklog").GetInt64() == 0, TimeSpan.FromSeconds(30), "the first upload");
        _server.Forget();
        await client.TapAsync(_env.Rider("late").Show(now, 0).ToText());
        await GateProcess.WaitUntilAsync(() => Task.FromResult(_server.HighestContiguous == 11), TimeSpan.FromSeconds(30), "the lost taps re-sent");
        Assert.Equal(11, _server.Taps.Count);
    }

    [Fact]
    public async Task Upload_BatchTooLarge_SplitUntilAccepted()
    {
        var now = GateEnvironment.Now();
        _server.MaxBatch = 30;
        await _server.StopAsync();
        var config = _env.WriteConfig(_server, c => c["Clearing"]!["UploadBatchSize"] = 100);
        await using var gate = await GateProcess.StartAsync(config);
        using var client = gate.Connect();
        for (var i = 0; i < 100; i++)
        {
            await client.SendAsync(_env.Rider($"r{i}").Show(now, 0).ToText());
        }

        for (var i = 0; i < 100; i++)
        {
            await client.ReceiveAsync();
        }

        await _server.StartAsync();
        await GateProcess.WaitUntilAsync(async () => (await gate.HealthAsync()).GetProperty("journalBacklog").GetInt64() == 0, TimeSpan.FromSeconds(30), "the backlog to drain");
        Assert.Equal(Enumerable.Range(1, 100).Select(i => (long)i), _server.StoredOrder);
        // The first batch is what the journal held when the uploader first read it (all 100, or fewer when it read while
        // taps were still arriving and kept that batch through the refused connections); refused batches then shrink
        // until one fits, and every batch after that fits.
        var sizes = _server.BatchSizes.ToArray();
        var refused = sizes.TakeWhile(size => size > _server.MaxBatch).ToArray();
        Assert.True(refused.Length >= 2 && refused[0] <= 100, string.Join(", ", sizes));
        Assert.All(refused.Zip(refused.Skip(1)), pair => Assert.True(pair.Second < pair.First, string.Join(", ", sizes)));
        Assert.All(sizes.Skip(refused.Length), size => Assert.InRange(size, 1, _server.MaxBatch));
        Assert.True(await gate.MetricAsync("""transit_gate_upload_failures_total{cause="413"}""") >= 2);
    }

    [Fact]
    public async Task Upload_RefusedDevice_AlarmsAmberAndKeepsEveryTap()
    {
        var now = GateEnvironment.Now();
        var config = _env.WriteConfig(_server, c => c["Device"]!["Id"] = "gate-0009");
        await using var gate = await GateProcess.StartAsync(config);
        using var client = gate.Connect();
        Assert.Equal("ok", (await client.TapAsync(_env.Rider("alice").Show(now, 0).ToText())).Reason);
        await GateProcess.WaitUntilAsync(async () => (await gate.HealthAsync()).GetProperty("status").GetString() == "alarm", TimeSpan.FromSeconds(20), "the upload alarm");
        var health = await gate.HealthAsync();
        Assert.Contains("403", health.GetProperty("alarm").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, health.GetProperty("journalBacklog").GetInt64());
        Assert.Empty(_server.Taps);
        Assert.Equal(1, await gate.MetricAsync("transit_gate_upload_alarm"));

        // The next tap still opens; once its refusal window passes the idle light is amber, not off.
        Assert.Equal("ok", (await client.TapAsync(_env.Rider("bob").Show(now, 0).ToText())).Reason);
        await GateProcess.WaitUntilAsync(async () => (await gate.GetAsync("/hardware")).Split('\n').Contains("light:amber"), TimeSpan.FromSeconds(10), "the amber idle light");
    }
}
