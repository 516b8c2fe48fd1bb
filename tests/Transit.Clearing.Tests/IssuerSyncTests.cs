using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Transit.Clearing.Issuers;
using Transit.GateAgent;
using Transit.GateAgent.Clearing;
using Transit.GateAgent.Trust;
using Transit.RideCodes;
using Transit.RideCodes.KeyStore;

namespace Transit.Clearing.Tests;

/// <summary>
/// Issue 16: an operator's acceptance list and the accepted issuers' key sets and deny lists, from clearing's tables
/// through the mutual-TLS device API into a gate agent's trust (docs/interoperability.md, "Sync to gates").
/// </summary>
[Collection(IngestCollection.Name)]
[Trait("Category", "Database")]
public sealed class IssuerSyncTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Gate_SyncsFromClearing_AcceptsANewlyAcceptedIssuer_RefusesItOnceTheAcceptanceEnds()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        using var wallet = Issuer(world, "nw", SignatureAlgorithm.Sm2);
        var device = await world.AddDeviceAsync("gate-1", "metro", "metro-entry", station: "CEN");
        using var gate = Gate(world, device);
        var (state, sync) = (gate.Services.GetRequiredService<GateState>(), gate.Services.GetRequiredService<SyncService>());
        var now = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        using var rider = Rider(wallet, "nw", "alice", now);

        var first = await sync.SyncNowAsync(CancellationToken.None);
        Assert.True(first.Complete);
        Assert.Equal("unknown-issuer", state.Verifier.Verify(rider.Show(now, 0).ToText(), now).ReasonCode);

        var today = world.Services.GetRequiredService<ServiceCalendar>().DayOf(now);
        await RegisterAsync(world, "nw", wallet);
        await world.ScalarAsync<object>(
            "INSERT INTO issuer_acceptance (operator_id, issuer_id, valid_from, valid_to, fee_basis_points) VALUES ('metro', 'nw', $1, $2, 120)",
            today.AddDays(-1), today.AddDays(2));
        var synced = await sync.SyncNowAsync(CancellationToken.None);

        Assert.Empty(synced.Refused);
        Assert.Equal(1, state.Acceptance?.Version);
        Assert.Equal("ok", state.Verifier.Verify(rider.Show(now, 1).ToText(), now).ReasonCode);
        var ends = world.Services.GetRequiredService<ServiceCalendar>().Start(today.AddDays(2));
        Assert.Equal(ends, state.Acceptance!.Issuers.Single().ValidTo);
        Assert.Equal("unknown-issuer", state.Verifier.Verify(rider.Show(ends, 2).ToText(), ends).ReasonCode);

        // The acceptance ends today: clearing re-signs the list without the issuer and the gate drops it.
        await world.ScalarAsync<object>("UPDATE issuer_acceptance SET valid_to = $1 WHERE operator_id = 'metro' AND issuer_id = 'nw'", today);
        Assert.Empty((await sync.SyncNowAsync(CancellationToken.None)).Refused);

        Assert.Equal(2, state.Acceptance!.Version);
        Assert.Empty(state.Acceptance.Issuers);
        Assert.Equal("unknown-issuer", state.Verifier.Verify(rider.Show(now, 3).ToText(), now).ReasonCode);
        using var home = Rider(world.Keys, null, "alice", now);
        Assert.Equal("ok", state.Verifier.Verify(home.Show(now, 0).ToText(), now).ReasonCode);
    }

    [Fact]
    public async Task Gate_RestartedOffline_KeepsTheSyncedIssuers()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        using var wallet = Issuer(world, "nw", SignatureAlgorithm.P256);
        var device = await world.AddDeviceAsync("gate-1", "metro", "metro-entry", station: "CEN");
        await AcceptAsync(world, "metro", "nw", wallet);
        var now = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        using var rider = Rider(wallet, "nw", "alice", now);
        var config = GateConfig(world, device);
        using (var gate = GateAgentHost.Build(config))
        {
            Assert.Empty((await gate.Services.GetRequiredService<SyncService>().SyncNowAsync(CancellationToken.None)).Refused);
        }

        // No sync this time (clearing unreachable would do the same): the stored bundle is the trust at start.
        using var restarted = GateAgentHost.Build(config);
        var state = restarted.Services.GetRequiredService<GateState>();
        Assert.Equal(1, state.Acceptance?.Version);
        Assert.Equal("ok", state.Verifier.Verify(rider.Show(now, 0).ToText(), now).ReasonCode);
    }

    [Fact]
    public async Task DeviceApi_IssuersOnlyToAuthenticatedDevicesOfThatOperator()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        using var wallet = Issuer(world, "nw", SignatureAlgorithm.P256);
        await AcceptAsync(world, "metro", "nw", wallet);
        var metroGate = await world.AddDeviceAsync("gate-1", "metro", "metro-entry", station: "CEN");
        var bus = await world.AddDeviceAsync("bus-1", "bus", "bus", stop: "BS1624", route: "B1");

        var answer = await metroGate.Client.GetAsync(new Uri(world.DeviceUrl, "/device/v1/issuers"));
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        var body = JsonNode.Parse(await answer.Content.ReadAsStringAsync())!;
        var acceptance = IssuerAcceptance.Open(
            SignedDocument.Parse(body["acceptance"]!.ToJsonString()), world.Keys.RootPublicKey, world.Keys.KeySet, "metro");
        Assert.Equal(["nw"], acceptance.Issuers.Select(i => i.IssuerId));
        Assert.Equal("\"issuers-1\"", answer.Headers.ETag?.Tag);

        using var again = new HttpRequestMessage(HttpMethod.Get, new Uri(world.DeviceUrl, "/device/v1/issuers"));
        again.Headers.TryAddWithoutValidation("If-None-Match", "\"issuers-1\"");
        Assert.Equal(HttpStatusCode.NotModified, (await metroGate.Client.SendAsync(again)).StatusCode);

        // The bus operator accepts nobody: its device gets no list, and never the metro's.
        Assert.Equal(HttpStatusCode.NotFound, (await bus.Client.GetAsync(new Uri(world.DeviceUrl, "/device/v1/issuers"))).StatusCode);
        // Without a device certificate the TLS handshake itself fails.
        await Assert.ThrowsAsync<HttpRequestException>(() => world.DeviceClient(null, null).GetAsync(new Uri(world.DeviceUrl, "/device/v1/issuers")));
    }

    [Fact]
    public async Task IssuerDenyList_RelayedToTheGate_DeniesItsAccountOnly_AndAnotherIssuersListIsRefused()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        using var wallet = Issuer(world, "nw", SignatureAlgorithm.Sm2);
        using var card = Issuer(world, "card", SignatureAlgorithm.P256);
        await AcceptAsync(world, "metro", "nw", wallet);
        await AcceptAsync(world, "metro", "card", card);
        var device = await world.AddDeviceAsync("gate-1", "metro", "metro-entry", station: "CEN");
        using var gate = Gate(world, device);
        var (state, sync) = (gate.Services.GetRequiredService<GateState>(), gate.Services.GetRequiredService<SyncService>());
        await sync.SyncNowAsync(CancellationToken.None);
        var now = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        using var walletAlice = Rider(wallet, "nw", "alice", now);
        using var cardAlice = Rider(card, "card", "alice", now);
        using var homeAlice = Rider(world.Keys, null, "alice", now);

        // The card issuer denies 'alice' and signs it, but hands it in as the wallet's list: refused.
        card.Keys.UpdateDenyList(addAccounts: ["alice"]);
        var admin = await world.ApiAsync("admin");
        var forged = await admin.PutAsync("/api/issuers/nw/deny-list", Json(card.Keys.ReadSignedDenyList().ToJson()));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, forged.StatusCode);
        Assert.Contains("issuer 'nw'", await forged.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // The wallet's own list, through the issuers' deny-list service the CLI uses too.
        wallet.Keys.UpdateDenyList(addAccounts: ["alice"]);
        var stored = await admin.PutAsync("/api/issuers/nw/deny-list", Json(wallet.Keys.ReadSignedDenyList().ToJson()));
        Assert.Equal(HttpStatusCode.OK, stored.StatusCode);
        var older = await world.Services.GetRequiredService<IssuerDenyLists>().AcceptAsync(
            "nw", new DenyList(1, DateTimeOffset.UtcNow, [], []).Sign(wallet.Root).ToJson(), CancellationToken.None);
        Assert.IsType<IssuerDenyListOutcome.Refused>(older);
        Assert.Empty((await sync.SyncNowAsync(CancellationToken.None)).Refused);

        Assert.Equal("denied", state.Verifier.Verify(walletAlice.Show(now, 0).ToText(), now).ReasonCode);
        Assert.Equal("ok", state.Verifier.Verify(cardAlice.Show(now, 0).ToText(), now).ReasonCode);
        Assert.Equal("ok", state.Verifier.Verify(homeAlice.Show(now, 0).ToText(), now).ReasonCode);

        // The issuer's next version through the command line: transit deny add|export --dir ISSUERDIR, then clearing.
        var file = Path.Combine(world.Folder, "nw-denylist.json");
        Assert.Equal(0, await TransitAsync(["deny", "remove", "--dir", wallet.Keys.Path, "--account", "alice"]));
        Assert.Equal(0, await TransitAsync(["deny", "export", "--dir", wallet.Keys.Path, "--out", file]));
        Assert.Equal(0, await TransitAsync(
            ["issuers", "deny-list", "--db", world.Options.ConnectionString!, "--keys", world.Keys.Path, "--issuer", "nw", "--file", file]));
        Assert.Empty((await sync.SyncNowAsync(CancellationToken.None)).Refused);
        Assert.Equal("ok", state.Verifier.Verify(walletAlice.Show(now, 1).ToText(), now).ReasonCode);
        // The wallet's list handed in as the card's: refused (exit 2, a usage error naming the file).
        Assert.Equal(2, await TransitAsync(
            ["issuers", "deny-list", "--db", world.Options.ConnectionString!, "--keys", world.Keys.Path, "--issuer", "card", "--file", file]));
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    /// <summary>The real <c>transit</c> command as a child process; its exit code.</summary>
    private static async Task<int> TransitAsync(string[] args) =>
        (await ChildProcess.RunToEndAsync(ChildProcess.StartInfo("dotnet", [TransitCommand.Dll, .. args]))).ExitCode;

    /// <summary>An issuer's key directory (<c>transit keys init --issuer</c>) and its root private key.</summary>
    private sealed class TestIssuerKeys(OperatorKeyDirectory keys) : IDisposable
    {
        public OperatorKeyDirectory Keys { get; } = keys;

        public SigningKey Root { get; } = KeyFiles.ParsePrivateKey(File.ReadAllText(keys.RootKeyPath), out _);

        public void Dispose() => Root.Dispose();
    }

    private static TestIssuerKeys Issuer(ClearingWorld world, string id, SignatureAlgorithm algorithm) =>
        new(OperatorKeyDirectory.Init(Path.Combine(world.Folder, "issuer-" + id), algorithm, issuerId: id));

    private static PhoneCredential Rider(TestIssuerKeys issuer, string issuerId, string account, DateTimeOffset now) =>
        Rider(issuer.Keys, issuerId, account, now);

    private static PhoneCredential Rider(OperatorKeyDirectory keys, string? issuerId, string account, DateTimeOffset now)
    {
        var (key, privateKey) = keys.OpenIssuingKey();
        using (privateKey)
        {
            return PhoneCredential.Issue(privateKey, key.KeyId, account, "adult", now.AddHours(-1), TimeSpan.FromDays(3), issuerId);
        }
    }

    /// <summary>What the issuer registry of clearing writes (another change): the issuer's row, in plain SQL here.</summary>
    private static Task RegisterAsync(ClearingWorld world, string id, TestIssuerKeys issuer) =>
        world.ScalarAsync<object>("""
            INSERT INTO issuers (issuer_id, name, algorithm, root_public_key, key_set, key_set_version) VALUES ($1, $1, $2, $3, $4, $5)
            """, id, issuer.Keys.RootPublicKey.Algorithm.ToName(), File.ReadAllText(issuer.Keys.RootPublicKeyPath), File.ReadAllText(issuer.Keys.KeySetPath),
            issuer.Keys.KeySet.Version);

    private static async Task AcceptAsync(ClearingWorld world, string operatorId, string id, TestIssuerKeys issuer)
    {
        await RegisterAsync(world, id, issuer);
        var today = world.Services.GetRequiredService<ServiceCalendar>().DayOf(DateTimeOffset.UtcNow);
        await world.ScalarAsync<object>(
            "INSERT INTO issuer_acceptance (operator_id, issuer_id, valid_from, fee_basis_points) VALUES ($1, $2, $3, 100)", operatorId, id, today.AddDays(-1));
    }

    private static IHost Gate(ClearingWorld world, TestDevice device) => GateAgentHost.Build(GateConfig(world, device));

    /// <summary>A gate agent's configuration pointing at the world's device listener with the device's certificate.</summary>
    private static string GateConfig(ClearingWorld world, TestDevice device)
    {
        var folder = Path.Combine(world.Folder, "gate-" + device.Id);
        Directory.CreateDirectory(folder);
        var config = new JsonObject
        {
            ["Device"] = new JsonObject { ["Id"] = device.Id, ["OperatorId"] = device.OperatorId, ["Mode"] = device.Mode, ["StationId"] = device.Station },
            ["Trust"] = new JsonObject
            {
                ["RootPublicKey"] = world.Keys.RootPublicKeyPath, ["KeySet"] = world.Keys.KeySetPath, ["DenyList"] = world.Keys.DenyListPath,
            },
            ["Journal"] = new JsonObject { ["Path"] = Path.Combine(folder, "journal.db") },
            ["Hardware"] = new JsonObject { ["Kind"] = "simulated" },
            ["Scanner"] = new JsonObject { ["Tcp"] = new JsonObject { ["Port"] = 0 } },
            ["Clearing"] = new JsonObject
            {
                ["Url"] = new Uri(world.DeviceUrl, "/device/v1/").ToString(), ["ClientCertificate"] = device.CertificatePath, ["ClientKey"] = device.KeyPath,
                ["ServerCaCertificate"] = world.Keys.CaCertificatePath, ["SyncIntervalSeconds"] = 3600, ["StatusIntervalSeconds"] = 3600,
            },
        };
        var path = Path.Combine(folder, "gate.json");
        File.WriteAllText(path, config.ToJsonString());
        return path;
    }
}
