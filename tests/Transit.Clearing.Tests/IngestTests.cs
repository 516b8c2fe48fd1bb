using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Transit.Clearing.Devices;
using Transit.Clearing.Ingest;
using Transit.RideCodes;
using Transit.RideCodes.KeyStore;

namespace Transit.Clearing.Tests;

[Collection(IngestCollection.Name)]
[Trait("Category", "Database")]
public sealed class IngestTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Upload_RetriedAndOverlappingBatches_StoresEachTapOnce()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var gate = await world.AddDeviceAsync("gate-1", "metro", "metro-entry", station: "CEN");
        var taps = Enumerable.Range(0, 10).Select(i => world.Tap(gate, $"rider-{i}", ClearingWorld.At(8, i))).ToArray();

        var first = await world.UploadOkAsync(gate, taps[..5]);
        Assert.Equal((5, 0, 5L), (first.Stored, first.Duplicates, first.HighestContiguousSequence));

        // The gate never saw the answer and sends everything again, three times at once.
        var retries = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => world.UploadOkAsync(gate, taps)));
        Assert.Equal(5, retries.Sum(r => r.Stored));
        Assert.All(retries, r => Assert.Equal(10, r.HighestContiguousSequence));
        Assert.All(retries, r => Assert.Empty(r.MissingRanges));

        var again = await world.UploadOkAsync(gate, taps);
        Assert.Equal((0, 10), (again.Stored, again.Duplicates));
        Assert.Equal(10, await world.ScalarAsync<long>("SELECT count(*) FROM taps"));
        Assert.Equal(10, await world.ScalarAsync<long>("SELECT count(*) FROM tap_ledger"));
    }

    [Fact]
    public async Task Store_NewTapsInsertPlainly_RetriesAndRepeatedCodesTakeTheGeneralStatement()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var metrics = world.Services.GetRequiredService<IngestMetrics>();
        var general = 0L;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (ReferenceEquals(instrument.Meter, metrics.Meter) && instrument.Name == "transit.ingest.batches.general")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref general, value));
        listener.Start();
        var (gate, other) = (await world.AddDeviceAsync("gate-1", "metro", "metro-entry", station: "CEN"), await world.AddDeviceAsync("gate-2", "metro", "metro-entry", station: "CEN"));
        var taps = Enumerable.Range(0, 6).Select(i => world.Tap(gate, $"rider-{i}", ClearingWorld.At(8, i))).ToArray();

        await world.UploadOkAsync(gate, taps[..3]);
        await world.UploadOkAsync(gate, taps[3..]);
        Assert.Equal(0, Interlocked.Read(ref general));

        var retry = await world.UploadOkAsync(gate, taps[2..]);
        Assert.Equal((0, 4), (retry.Stored, retry.Duplicates));
        Assert.Equal(1, Interlocked.Read(ref general));

        // gate-2 uploads the code gate-1 stored first: a repeated use, stored and flagged by the general statement.
        var stored = await world.UploadOkAsync(other, world.TapWithCode(other, taps[0].Code!, ClearingWorld.At(8, 0, 20)));
        Assert.Equal(1, stored.Stored);
        Assert.Equal(2, Interlocked.Read(ref general));
        Assert.Equal(7, await world.ScalarAsync<long>("SELECT count(*) FROM taps"));
        Assert.Equal(1, await world.ScalarAsync<long>($"SELECT count(*) FROM taps WHERE flags & {(int)TapFlags.DuplicateUse} <> 0"));
    }

    [Fact]
    public async Task Upload_ManyDevicesConcurrently_StoresEveryTap()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var gates = new List<TestDevice>();
        for (var g = 0; g < 8; g++)
        {
            gates.Add(await world.AddDeviceAsync($"gate-{g}", "metro", g % 2 == 0 ? "metro-entry" : "metro-exit", station: g % 3 == 0 ? "CEN" : "E1"));
        }

        var batches = gates.Select(gate => Enumerable.Range(0, 4)
            .Select(b => Enumerable.Range(0, 50).Select(i => world.Tap(gate, $"a{gate.Id[5..]}-{(b * 50) + i}", ClearingWorld.At(7 + b, i % 60))).ToArray())
            .ToList()).ToList();
        var results = await Task.WhenAll(gates.Select(async (gate, g) =>
        {
            TapBatchAnswer last = null!;
            foreach (var batch in batches[g])
            {
                last = await world.UploadOkAsync(gate, batch);
            }

            return last;
        }));

        Assert.All(results, r => Assert.Equal(200, r.HighestContiguousSequence));
        Assert.Equal(8 * 200, await world.ScalarAsync<long>("SELECT count(*) FROM taps"));
        Assert.Equal(8 * 200, await world.ScalarAsync<long>("SELECT sum(taps_stored)::bigint FROM device_progress"));
    }

    [Fact]
    public async Task Upload_SameSequenceDifferentContent_Returns409AndStoresNothing()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var gate = await world.AddDeviceAsync("gate-1", "metro", "metro-entry", station: "CEN");
        await world.UploadOkAsync(gate, world.Tap(gate, "alice", ClearingWorld.At(8, 0)), world.Tap(gate, "bob", ClearingWorld.At(8, 1)));

        var forged = world.Tap(gate, "mallory", ClearingWorld.At(8, 1), seq: 2);
        var third = world.Tap(gate, "carol", ClearingWorld.At(8, 2), seq: 3);
        using var response = await world.UploadAsync(gate, forged, third);

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("tap 2", (await response.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        Assert.Equal(2, await world.ScalarAsync<long>("SELECT count(*) FROM taps"));
        Assert.Equal(0, await world.ScalarAsync<long>("SELECT count(*) FROM taps WHERE account = 'carol'"));
    }

    [Fact]
    public async Task Upload_MalformedBatch_Returns400NamingTheFieldAndStoresNothing()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var gate = await world.AddDeviceAsync("gate-1", "metro", "metro-entry", station: "CEN");
        var taps = new[] { world.Tap(gate, "a", ClearingWorld.At(8, 0)), world.Tap(gate, "b", ClearingWorld.At(8, 1)), world.Tap(gate, "c", ClearingWorld.At(8, 2)) };
        taps[2] = taps[2] with { Seq = 7 };

        using var gap = await world.UploadAsync(gate, taps);
        var problem = JsonDocument.Parse(await gap.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(HttpStatusCode.BadRequest, gap.StatusCode);
        Assert.Contains("taps[2]", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("expected 3", problem.GetProperty("errors").GetProperty("taps[2].seq")[0].GetString());

        taps[0] = taps[0] with { Seq = long.MaxValue };
        using var huge = await world.UploadAsync(gate, taps);
        Assert.Equal(HttpStatusCode.BadRequest, huge.StatusCode);
        Assert.True(JsonDocument.Parse(await huge.Content.ReadAsStringAsync()).RootElement.GetProperty("errors").TryGetProperty("taps[0].seq", out _));

        taps[0] = taps[0] with { Seq = 1 };
        taps[2] = taps[2] with { Seq = 3 };
        var withoutAt = JsonNode.Parse(JsonSerializer.Serialize(new TapBatch("gate-1", taps), DeviceApiJson.Wire.TapBatch))!;
        withoutAt["taps"]![1]!.AsObject().Remove("at");
        using var atBody = new StringContent(withoutAt.ToJsonString(), Encoding.UTF8, "application/json");
        using var at = await gate.Client.PostAsync("/device/v1/taps", atBody);
        Assert.Equal(HttpStatusCode.BadRequest, at.StatusCode);
        Assert.True(JsonDocument.Parse(await at.Content.ReadAsStringAsync()).RootElement.GetProperty("errors").TryGetProperty("taps[1].at", out _));

        using var body = new StringContent("""{"deviceId":"gate-1","taps":[{"seq":"one"}]}""", Encoding.UTF8, "application/json");
        using var type = await gate.Client.PostAsync("/device/v1/taps", body);
        var typeProblem = await type.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, type.StatusCode);
        Assert.Contains("taps[0].seq", typeProblem, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", typeProblem, StringComparison.Ordinal);

        Assert.Equal(0, await world.ScalarAsync<long>("SELECT count(*) FROM tap_ledger"));
    }

    [Fact]
    public async Task Upload_GzipBodyAndOversizedBatch_AreHandledAsTheContractSays()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var gate = await world.AddDeviceAsync("gate-1", "metro", "metro-entry", station: "CEN");
        var json = JsonSerializer.SerializeToUtf8Bytes(new TapBatch("gate-1", [world.Tap(gate, "alice", ClearingWorld.At(8, 0))]));
        using var compressed = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(compressed, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(json);
        }

        using var content = new ByteArrayContent(compressed.ToArray());
        content.Headers.ContentType = new("application/json");
        content.Headers.ContentEncoding.Add("gzip");
        using var gzipped = await gate.Client.PostAsync("/device/v1/taps", content);
        Assert.Equal(HttpStatusCode.OK, gzipped.StatusCode);
        Assert.Equal(1, JsonDocument.Parse(await gzipped.Content.ReadAsStringAsync()).RootElement.GetProperty("stored").GetInt32());

        var code = world.Rider("bob").Show(ClearingWorld.At(9, 0), 0).ToText();
        var many = Enumerable.Range(0, 5_001).Select(i => world.TapWithCode(gate, code, ClearingWorld.At(9, 0))).ToArray();
        using var tooMany = await world.UploadAsync(gate, many);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooMany.StatusCode);
        Assert.Equal(1, await world.ScalarAsync<long>("SELECT count(*) FROM taps"));
    }

    [Fact]
    public async Task Upload_GapInSequences_AcknowledgesUpToTheGapAndListsIt()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var gate = await world.AddDeviceAsync("gate-1", "metro", "metro-entry", station: "CEN");
        await world.UploadOkAsync(gate, world.Tap(gate, "a", ClearingWorld.At(8, 0), seq: 1), world.Tap(gate, "b", ClearingWorld.At(8, 1), seq: 2));
        var later = await world.UploadOkAsync(gate, world.Tap(gate, "e", ClearingWorld.At(8, 5), seq: 5), world.Tap(gate, "f", ClearingWorld.At(8, 6), seq: 6));

        Assert.Equal(2, later.HighestContiguousSequence);
        Assert.Equal([new SequenceRange(3, 4)], later.MissingRanges);

        var filled = await world.UploadOkAsync(gate, world.Tap(gate, "c", ClearingWorld.At(8, 2), seq: 3), world.Tap(gate, "d", ClearingWorld.At(8, 3), seq: 4));
        Assert.Equal(6, filled.HighestContiguousSequence);
        Assert.Empty(filled.MissingRanges);
    }

    [Fact]
    public async Task Upload_SameCodeAtTwoDevices_FlagsDuplicateUseAndBillsOnlyTheFirst()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var west = await world.AddDeviceAsync("gate-w", "metro", "metro-entry", station: "W1");
        var east = await world.AddDeviceAsync("gate-e", "metro", "metro-entry", station: "E1");
        var code = world.Rider("alice").Show(ClearingWorld.At(8, 0), 1).ToText();

        await world.UploadOkAsync(west, world.TapWithCode(west, code, ClearingWorld.At(8, 0, 5)));
        await world.UploadOkAsync(east, world.TapWithCode(east, code, ClearingWorld.At(8, 0, 20)));

        var flags = await world.ListAsync("SELECT device_id, flags FROM taps ORDER BY device_id", r => (r.GetString(0), (TapFlags)r.GetInt32(1)));
        Assert.Equal(TapFlags.DuplicateUse, flags.Single(f => f.Item1 == "gate-e").Item2 & (TapFlags.DuplicateUse | TapFlags.Billable));
        Assert.Equal(TapFlags.DuplicateOriginal | TapFlags.Billable, flags.Single(f => f.Item1 == "gate-w").Item2 & (TapFlags.DuplicateOriginal | TapFlags.Billable));
    }

    [Fact]
    public async Task Upload_SameCodeTwiceInOneBatch_BillsOnlyTheFirst()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var gate = await world.AddDeviceAsync("gate-1", "metro", "metro-entry", station: "CEN");
        var code = world.Rider("alice").Show(ClearingWorld.At(8, 0), 1).ToText();
        var taps = new[]
        {
            world.Tap(gate, "bob", ClearingWorld.At(8, 0, 1)),
            world.TapWithCode(gate, code, ClearingWorld.At(8, 0, 5)),
            world.TapWithCode(gate, code, ClearingWorld.At(8, 0, 9)),
        };

        var result = await world.UploadOkAsync(gate, taps);
        var again = await world.UploadOkAsync(gate, taps);

        Assert.Equal((3, 3L), (result.Stored, result.HighestContiguousSequence));
        Assert.Equal((0, 3), (again.Stored, again.Duplicates));
        var flags = await world.ListAsync("SELECT seq, flags FROM taps ORDER BY seq", r => (TapFlags)r.GetInt32(1));
        var mask = TapFlags.Billable | TapFlags.DuplicateUse | TapFlags.DuplicateOriginal;
        Assert.Equal([TapFlags.Billable, TapFlags.Billable | TapFlags.DuplicateOriginal, TapFlags.DuplicateUse], flags.Select(f => f & mask));
    }

    [Fact]
    public async Task Upload_SameCodeAtManyDevicesAtOnce_BillsExactlyOne()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var gates = new List<TestDevice>();
        for (var g = 0; g < 6; g++)
        {
            gates.Add(await world.AddDeviceAsync($"gate-{g}", "metro", "metro-entry", station: "CEN"));
        }

        var code = world.Rider("alice").Show(ClearingWorld.At(8, 0), 1).ToText();
        await Task.WhenAll(gates.Select(gate => world.UploadOkAsync(gate, world.TapWithCode(gate, code, ClearingWorld.At(8, 0, 10)))));

        var flags = await world.ListAsync("SELECT flags FROM taps", r => (TapFlags)r.GetInt32(0));
        Assert.Equal(6, flags.Count);
        Assert.Single(flags, f => (f & TapFlags.Billable) != 0);
        Assert.Equal(5, flags.Count(f => (f & TapFlags.DuplicateUse) != 0));
        Assert.Equal(TapFlags.Billable | TapFlags.DuplicateOriginal, flags.Single(f => (f & TapFlags.Billable) != 0) & (TapFlags.Billable | TapFlags.DuplicateOriginal));
        Assert.Equal(1, await world.ScalarAsync<long>("SELECT count(*) FROM code_uses"));
    }

    [Fact]
    public async Task Upload_ForgedCodeTheGateAccepted_IsKeptAndFlagged()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var gate = await world.AddDeviceAsync("gate-1", "metro", "metro-entry", station: "CEN");
        using var rogueIssuer = SigningKey.Generate(SignatureAlgorithm.P256);
        using var forged = PhoneCredential.Issue(rogueIssuer, 1, "mallory", "adult", new DateTimeOffset(2026, 11, 10, 0, 0, 0, TimeSpan.Zero), TimeSpan.FromDays(30));

        var result = await world.UploadOkAsync(gate, world.TapWithCode(gate, forged.Show(ClearingWorld.At(8, 0), 0).ToText(), ClearingWorld.At(8, 0, 2)));

        Assert.Equal(1, result.Stored);
        var tap = (await world.ListAsync("SELECT accepted, clearing_reason, flags FROM taps", r => (r.GetBoolean(0), r.GetString(1), (TapFlags)r.GetInt32(2)))).Single();
        Assert.True(tap.Item1);
        Assert.Equal("bad-issuer-signature", tap.Item2);
        Assert.Equal(TapFlags.RefusedByClearing, tap.Item3);
        Assert.Equal(0, await world.ScalarAsync<long>("SELECT count(*) FROM dirty_account_days"));
    }

    [Fact]
    public async Task Upload_OtherIssuersCodeTheGateAccepted_StoredUnknownIssuerAndNeverBilled()
    {
        // Until clearing settles per issuer, another issuer's rider must never be charged as one of the operator's own,
        // even one with the same account name as an own rider.
        await using var world = await ClearingWorld.StartAsync(postgres);
        var gate = await world.AddDeviceAsync("gate-1", "metro", "metro-entry", station: "CEN");
        using var walletKey = SigningKey.Generate(SignatureAlgorithm.P256);
        using var walletRider = PhoneCredential.Issue(
            walletKey, 1, "alice", "adult", ClearingWorld.At(6, 0), TimeSpan.FromHours(24), "nw");
        var code = walletRider.Show(ClearingWorld.At(8, 0), 0).ToText();

        var result = await world.UploadOkAsync(gate, world.TapWithCode(gate, code, ClearingWorld.At(8, 0, 2)));

        Assert.Equal(1, result.Stored);
        var tap = (await world.ListAsync("SELECT accepted, clearing_reason, flags FROM taps", r => (r.GetBoolean(0), r.GetString(1), (TapFlags)r.GetInt32(2)))).Single();
        Assert.Equal((true, "unknown-issuer", TapFlags.RefusedByClearing), tap);
        Assert.Equal(0, await world.ScalarAsync<long>("SELECT count(*) FROM dirty_account_days"));
    }

    [Fact]
    public async Task DeviceApi_UnregisteredForeignOrRevokedCertificate_IsRefused()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var gate = await world.AddDeviceAsync("gate-1", "metro", "metro-entry", station: "CEN");
        Assert.Equal(HttpStatusCode.OK, (await gate.Client.GetAsync("/device/v1/config")).StatusCode);

        // Issued by the operator's CA, but never registered.
        using (var authority = world.Keys.OpenDeviceAuthority())
        using (var stray = authority.IssueDeviceCertificate("gate-stray", "metro", DateTimeOffset.UtcNow))
        {
            DeviceCertificateAuthority.SaveWithKey(stray, Path.Combine(world.Folder, "stray.crt"), Path.Combine(world.Folder, "stray.key"));
        }

        var strayClient = world.DeviceClient(Path.Combine(world.Folder, "stray.crt"), Path.Combine(world.Folder, "stray.key"));
        using var stray403 = await strayClient.GetAsync("/device/v1/keyset");
        Assert.Equal(HttpStatusCode.Forbidden, stray403.StatusCode);
        Assert.Contains("not registered", await stray403.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Issued by another operator's CA: the handshake fails.
        using (var otherCa = DeviceCertificateAuthority.Create("other", DateTimeOffset.UtcNow))
        using (var foreign = otherCa.IssueDeviceCertificate("gate-1", "metro", DateTimeOffset.UtcNow))
        {
            DeviceCertificateAuthority.SaveWithKey(foreign, Path.Combine(world.Folder, "foreign.crt"), Path.Combine(world.Folder, "foreign.key"));
        }

        var foreignClient = world.DeviceClient(Path.Combine(world.Folder, "foreign.crt"), Path.Combine(world.Folder, "foreign.key"));
        await Assert.ThrowsAsync<HttpRequestException>(() => foreignClient.GetAsync("/device/v1/keyset"));

        // No certificate at all: the handshake fails too.
        await Assert.ThrowsAsync<HttpRequestException>(() => world.DeviceClient(null, null).GetAsync("/device/v1/keyset"));

        await world.Services.GetRequiredService<DeviceRegistry>().RevokeAsync("gate-1", CancellationToken.None);
        using var revoked = await world.UploadAsync(gate, world.Tap(gate, "alice", ClearingWorld.At(8, 0)));
        Assert.Equal(HttpStatusCode.Forbidden, revoked.StatusCode);
        Assert.Contains("revoked", await revoked.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, await world.ScalarAsync<long>("SELECT count(*) FROM taps"));
    }

    [Fact]
    public async Task DeviceApi_BatchNamingAnotherDevice_IsForbidden()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var gate = await world.AddDeviceAsync("gate-1", "metro", "metro-entry", station: "CEN");
        using var response = await gate.Client.PostAsJsonAsync("/device/v1/taps", new TapBatch("gate-2", [world.Tap(gate, "a", ClearingWorld.At(8, 0))]));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task Sync_KeySetDenyListAndConfig_AreRootSignedAndConditional()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var gate = await world.AddDeviceAsync("gate-1", "metro", "metro-exit", station: "E2");

        using var keySet = await gate.Client.GetAsync("/device/v1/keyset");
        var keySetDocument = SignedDocument.Parse(await keySet.Content.ReadAsStringAsync());
        Assert.Equal(1, KeySet.Open(keySetDocument, world.Keys.RootPublicKey).Version);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/device/v1/keyset");
        request.Headers.IfNoneMatch.Add(keySet.Headers.ETag!);
        Assert.Equal(HttpStatusCode.NotModified, (await gate.Client.SendAsync(request)).StatusCode);

        using var config = await gate.Client.GetAsync("/device/v1/config");
        var configDocument = SignedDocument.Parse(await config.Content.ReadAsStringAsync());
        Assert.Equal((ushort)1, configDocument.OnlineKeyId);
        var payload = JsonDocument.Parse(configDocument.OpenPayload(DeviceRegistry.ConfigType, world.Keys.RootPublicKey, world.Keys.KeySet)).RootElement;
        Assert.Equal("gate-1", payload.GetProperty("deviceId").GetString());
        Assert.Equal("metro-exit", payload.GetProperty("mode").GetString());
        Assert.Equal("E2", payload.GetProperty("stationId").GetString());
        Assert.Equal(60, payload.GetProperty("maxAgeSeconds").GetInt32());

        world.Keys.UpdateDenyList(addAccounts: ["eve"]);
        var snapshot = JsonDocument.Parse(await gate.Client.GetStringAsync("/device/v1/denylist")).RootElement;
        Assert.Equal(2, snapshot.GetProperty("version").GetInt64());
        Assert.Contains("eve", DenyList.Open(SignedDocument.Parse(snapshot.GetProperty("snapshot").GetRawText()), world.Keys.RootPublicKey, world.Keys.KeySet).Accounts);
        var deltas = JsonDocument.Parse(await gate.Client.GetStringAsync("/device/v1/denylist?since=1")).RootElement;
        Assert.Single(deltas.GetProperty("deltas").EnumerateArray());
        Assert.Equal(HttpStatusCode.NotModified, (await gate.Client.GetAsync("/device/v1/denylist?since=2")).StatusCode);
    }

    [Fact]
    public async Task Status_Heartbeat_AppearsInTheFleetView()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var gate = await world.AddDeviceAsync("gate-1", "metro", "metro-entry", station: "CEN");
        await world.UploadOkAsync(gate, world.Tap(gate, "alice", ClearingWorld.At(8, 0)));
        using var status = await gate.Client.PostAsJsonAsync("/device/v1/status", new DeviceStatusReport
        {
            DeviceId = "gate-1", SentAt = DateTimeOffset.UtcNow, KeySetVersion = 1, DenyListVersion = 1, ConfigVersion = 1, JournalBacklog = 3,
            HighestSequence = 4, ClockOffsetMillis = -12, Taps = new Dictionary<string, long> { ["ok"] = 3, ["stale"] = 1 }, SoftwareVersion = "1.0.0",
        });
        Assert.Equal(HttpStatusCode.OK, status.StatusCode);
        Assert.True(JsonDocument.Parse(await status.Content.ReadAsStringAsync()).RootElement.TryGetProperty("serverTime", out _));

        var admin = await world.ApiAsync("admin");
        var fleet = JsonDocument.Parse(await admin.GetStringAsync("/api/fleet")).RootElement[0];
        Assert.Equal(-12, fleet.GetProperty("clockOffsetMillis").GetInt64());
        Assert.Equal(3, fleet.GetProperty("journalBacklog").GetInt64());
        Assert.Equal(1, fleet.GetProperty("tapsByReason").GetProperty("stale").GetInt64());
        Assert.Equal(1, fleet.GetProperty("contiguousSequence").GetInt64());
    }
}
