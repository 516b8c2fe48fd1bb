using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Transit.Clearing.Devices;
using Transit.Clearing.Ingest;

namespace Transit.Clearing.Tests;

/// <summary>Clearing trusts no device's word about itself (docs/security/ingest.md).</summary>
[Collection(IngestCollection.Name)]
[Trait("Category", "Database")]
public sealed class DeviceTrustTests(PostgresFixture postgres)
{
    private static readonly string Day = ClearingWorld.Day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task Upload_TapsTheDeviceCouldNotHaveTaken_AreStoredUnbilledAndTheRestIsCharged()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var entry = await world.AddDeviceAsync("in-w1", "metro", "metro-entry", station: "W1");
        var exit = await world.AddDeviceAsync("out-e1", "metro", "metro-exit", station: "E1");
        var bus = await world.AddDeviceAsync("bus-17", "bus", "bus", stop: "BS1624", route: "B1");

        var fine = world.Tap(entry, "alice", ClearingWorld.At(8, 0));
        var asExit = world.Tap(entry, "bob", ClearingWorld.At(8, 1));
        asExit = asExit with { Mode = "metro-exit" };
        var elsewhere = world.Tap(entry, "carol", ClearingWorld.At(8, 2));
        elsewhere = elsewhere with { StationId = "CEN" };
        var otherOperator = world.Tap(entry, "dave", ClearingWorld.At(8, 3));
        otherOperator = otherOperator with { OperatorId = "bus" };
        var asBus = world.Tap(entry, "erin", ClearingWorld.At(8, 4));
        asBus = asBus with { Mode = "bus", StationId = null, RouteId = "B1", StopId = "BS1624" };
        var metroStored = await world.UploadOkAsync(entry, fine, asExit, elsewhere, otherOperator, asBus);
        await world.UploadOkAsync(exit, world.Tap(exit, "alice", ClearingWorld.At(8, 20)));

        var onRoute = world.Tap(bus, "frank", ClearingWorld.At(9, 0));
        var otherRoute = world.Tap(bus, "grace", ClearingWorld.At(9, 1));
        otherRoute = otherRoute with { RouteId = "B2" };
        var offRoute = world.Tap(bus, "heidi", ClearingWorld.At(9, 2));
        offRoute = offRoute with { StopId = "BS1616" };
        var unknownStop = world.Tap(bus, "ivan", ClearingWorld.At(9, 3));
        unknownStop = unknownStop with { StopId = null };
        var busStored = await world.UploadOkAsync(bus, onRoute, otherRoute, offRoute, unknownStop);

        Assert.Equal((5, 5L), (metroStored.Stored, metroStored.HighestContiguousSequence));
        Assert.Equal((4, 4L), (busStored.Stored, busStored.HighestContiguousSequence));
        var taps = (await world.ListAsync("SELECT account, clearing_reason, flags, operator_id FROM taps", r => (r.GetString(0), r.GetString(1), (TapFlags)r.GetInt32(2), r.GetString(3))))
            .GroupBy(t => t.Item1).ToDictionary(g => g.Key, g => g.ToList());
        var refused = new Dictionary<string, string>
        {
            ["bob"] = "device-mismatch-mode", ["carol"] = "device-mismatch-station", ["dave"] = "device-mismatch-operator",
            ["erin"] = "device-mismatch-mode", ["grace"] = "device-mismatch-route", ["heidi"] = "stop-not-on-route",
        };
        foreach (var (account, reason) in refused)
        {
            var tap = Assert.Single(taps[account]);
            Assert.Equal(reason, tap.Item2);
            Assert.Equal(TapFlags.DeviceMismatch | TapFlags.RefusedByClearing, tap.Item3 & (TapFlags.DeviceMismatch | TapFlags.RefusedByClearing | TapFlags.Billable));
        }

        // The device's registration names the operator, whatever the tap claims.
        Assert.Equal("metro", Assert.Single(taps["dave"]).Item4);
        Assert.All(taps["alice"].Concat(taps["frank"]).Concat(taps["ivan"]), t => Assert.Equal(("ok", TapFlags.Billable), (t.Item2, t.Item3 & (TapFlags.Billable | TapFlags.DeviceMismatch))));

        var books = await world.ClearAsync();

        Assert.True(books.Balanced);
        var charges = await world.ListAsync("SELECT account, amount FROM charges ORDER BY account", r => (r.GetString(0), r.GetInt64(1)));
        Assert.Equal([("alice", 280L), ("frank", 160L), ("ivan", 160L)], charges);
        var admin = await world.ApiAsync("admin");
        Assert.Equal(280, JsonDocument.Parse(await admin.GetStringAsync($"/api/statements/metro/{Day}")).RootElement.GetProperty("gross").GetInt64());
        Assert.Equal(320, JsonDocument.Parse(await admin.GetStringAsync($"/api/statements/bus/{Day}")).RootElement.GetProperty("gross").GetInt64());

        var fleet = await FleetAsync(world);
        Assert.Equal(
            [("device-mismatch-mode", 2L), ("device-mismatch-operator", 1L), ("device-mismatch-station", 1L)],
            Alarms(fleet["in-w1"]).Select(a => (a.Reason, a.Count ?? 0)));
        Assert.Equal([("device-mismatch-route", 1L), ("stop-not-on-route", 1L)], Alarms(fleet["bus-17"]).Select(a => (a.Reason, a.Count ?? 0)));
        Assert.Empty(Alarms(fleet["out-e1"]));
    }

    [Fact]
    public async Task Upload_StaleAndFutureCodesTheGateAccepted_AreRefusedAndNotCharged()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var gate = await world.AddDeviceAsync("bus-1", "bus", "bus", stop: "BS1624", route: "B1");
        var fresh = world.Tap(gate, "alice", ClearingWorld.At(8, 0));
        var stale = world.TapWithCode(gate, world.Rider("olga").Show(ClearingWorld.At(8, 0), 0).ToText(), ClearingWorld.At(8, 5));
        var future = world.TapWithCode(gate, world.Rider("fred").Show(ClearingWorld.At(8, 10), 0).ToText(), ClearingWorld.At(8, 9));

        await world.UploadOkAsync(gate, fresh, stale, future);

        var taps = await world.ListAsync("SELECT account, clearing_reason, flags FROM taps ORDER BY seq", r => (r.GetString(0), r.GetString(1), (TapFlags)r.GetInt32(2) & (TapFlags.Billable | TapFlags.RefusedByClearing)));
        Assert.Equal([("alice", "ok", TapFlags.Billable), ("olga", "stale", TapFlags.RefusedByClearing), ("fred", "future", TapFlags.RefusedByClearing)], taps);
        await world.ClearAsync();
        Assert.Equal(["alice"], await world.ListAsync("SELECT account FROM charges", r => r.GetString(0)));
        var alarms = Alarms((await FleetAsync(world))["bus-1"]);
        Assert.Equal([("refused-future", 1L), ("refused-stale", 1L)], alarms.Select(a => (a.Reason, a.Count ?? 0)));
    }

    [Fact]
    public async Task Upload_HostileStringsInTaps_AreStoredMalformedAndTheQueueMovesOn()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var gate = await world.AddDeviceAsync("gate-1", "metro", "metro-entry", station: "CEN");
        var good = JsonSerializer.Serialize(world.Tap(gate, "alice", ClearingWorld.At(8, 0)));
        string Raw(long seq, string code, string station = "\"CEN\"", string mode = "\"metro-entry\"", string reason = "\"ok\"") =>
            $$"""{"seq":{{seq}},"at":"2026-11-18T07:{{seq:D2}}:00Z","code":{{code}},"accepted":true,"reason":{{reason}},"mode":{{mode}},"operatorId":"metro","stationId":{{station}}}""";
        var hostile = new[]
        {
            ("\"TR1:\\u0000ABC\"", "malformed-code"),
            ("\"TR1:\\ud800ABC\"", "malformed-code"),
            ("\"\"", "malformed-code"),
            ($"\"{new string('A', 600)}\"", "malformed-code"),
            ("\"TR1:\\u0007\"", "malformed-code"),
            ("\"TR1:\\udc00\\ud800\"", "malformed-code"),
        };
        var taps = new List<string> { good };
        for (var i = 0; i < hostile.Length; i++)
        {
            taps.Add(Raw(i + 2, hostile[i].Item1));
        }

        var seq = hostile.Length + 2;
        taps.Add(Raw(seq++, "\"TR1:X\"", station: "\"C\\u0000EN\""));
        taps.Add(Raw(seq++, "\"TR1:X\"", station: $"\"{new string('S', 10_000)}\""));
        taps.Add(Raw(seq++, "\"TR1:X\"", mode: "\"tram\""));
        taps.Add(Raw(seq++, "\"TR1:X\"", reason: "\"\\u0000\""));
        var json = Encoding.UTF8.GetBytes($$"""{"deviceId":"gate-1","taps":[{{string.Join(',', taps)}}""");
        // A raw byte that is not UTF-8 inside the code, as a broken scanner driver might pass through.
        byte[] invalidUtf8 = [.. Encoding.UTF8.GetBytes("," + Raw(seq, "\"TR1:#\"")).Select(b => b == (byte)'#' ? (byte)0xFF : b), .. "]}"u8];
        using var content = new ByteArrayContent([.. json, .. invalidUtf8]);
        content.Headers.ContentType = new("application/json");

        using var response = await gate.Client.PostAsync("/device/v1/taps", content);
        var body = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}");
        Assert.Equal(seq, JsonDocument.Parse(body).RootElement.GetProperty("highestContiguousSequence").GetInt64());
        var stored = await world.ListAsync("SELECT seq, clearing_reason, flags, code, station_id, mode FROM taps ORDER BY seq",
            r => (Seq: r.GetInt64(0), Reason: r.GetString(1), Flags: (TapFlags)r.GetInt32(2), Code: r.GetString(3), Station: r.IsDBNull(4) ? null : r.GetString(4), Mode: r.GetInt16(5)));
        Assert.Equal(seq, stored.Count);
        Assert.Equal(("ok", TapFlags.Billable), (stored[0].Reason, stored[0].Flags & (TapFlags.Billable | TapFlags.Malformed)));
        Assert.All(stored.Skip(1), t => Assert.Equal(TapFlags.Malformed | TapFlags.RefusedByClearing, t.Flags & (TapFlags.Billable | TapFlags.Malformed | TapFlags.RefusedByClearing)));
        Assert.Equal(hostile.Select(h => h.Item2), stored.Skip(1).Take(hostile.Length).Select(t => t.Reason));
        Assert.Equal(["malformed-station", "malformed-station", "malformed-mode", "malformed-reason", "malformed-code"], stored.Skip(hostile.Length + 1).Select(t => t.Reason));
        Assert.Equal(@"TR1:\u0000ABC", stored[1].Code);
        Assert.Equal(@"TR1:\ud800ABC", stored[2].Code);
        Assert.True(stored[4].Code.Length <= 520, "an over-long code is stored cut short");
        Assert.Equal(@"C\u0000EN", stored[hostile.Length + 1].Station);
        Assert.True(stored[hostile.Length + 2].Station!.Length <= 140, "an over-long id is stored cut short");
        Assert.Equal(@"TR1:\xff", stored[^1].Code);
        Assert.All(stored.Select(t => t.Code + t.Station), s => Assert.DoesNotContain(s, c => char.IsControl(c) || char.IsSurrogate(c)));

        // The gate's queue moves on: the next batch goes through, and a retry of the hostile one is a duplicate, not a conflict.
        gate.NextSeq = seq + 1;
        var next = await world.UploadOkAsync(gate, world.Tap(gate, "bob", ClearingWorld.At(9, 0)));
        Assert.Equal((1, seq + 1), (next.Stored, next.HighestContiguousSequence));
        using var again = new ByteArrayContent([.. json, .. invalidUtf8]);
        again.Headers.ContentType = new("application/json");
        using var retry = await gate.Client.PostAsync("/device/v1/taps", again);
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Equal(seq, JsonDocument.Parse(await retry.Content.ReadAsStringAsync()).RootElement.GetProperty("duplicates").GetInt32());

        var alarms = Alarms((await FleetAsync(world))["gate-1"]);
        Assert.Contains(alarms, a => a.Reason == "malformed-code" && a.Count == 7);
    }

    [Fact]
    public async Task Upload_GzipBomb_IsRefusedAt8MiBInflatedWithoutReadingItAll()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var gate = await world.AddDeviceAsync("gate-1", "metro", "metro-entry", station: "CEN");
        const int inflated = 64 * 1024 * 1024;
        using var compressed = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(compressed, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write("""{"deviceId":"gate-1","taps":[{"seq":1,"code":" """u8);
            var spaces = new byte[1024 * 1024];
            Array.Fill(spaces, (byte)' ');
            for (var i = 0; i < inflated / spaces.Length; i++)
            {
                gzip.Write(spaces);
            }

            gzip.Write("\"}]}"u8);
        }

        Assert.True(compressed.Length < 1024 * 1024, $"the bomb is {compressed.Length} bytes on the wire");
        using var content = new ByteArrayContent(compressed.ToArray());
        content.Headers.ContentType = new("application/json");
        content.Headers.ContentEncoding.Add("gzip");
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);

        using var response = await gate.Client.PostAsync("/device/v1/taps", content);

        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("https://transit.example/problems/batch-too-large", problem.GetProperty("type").GetString());
        Assert.Contains("8 MiB", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.True(allocated < 48L * 1024 * 1024, $"refusing the bomb allocated {allocated / (1024 * 1024)} MiB");
        Assert.Equal(0, await world.ScalarAsync<long>("SELECT count(*) FROM tap_ledger"));
    }

    [Fact]
    public async Task Status_ReportedErrorsAndSilence_RaiseAlarmsInFleetAndReconciliation()
    {
        await using var world = await ClearingWorld.StartAsync(postgres, o => o.SilentDeviceAfter = TimeSpan.FromMinutes(10));
        var (failing, silent, quiet) = (
            await world.AddDeviceAsync("gate-f", "metro", "metro-entry", station: "CEN"),
            await world.AddDeviceAsync("gate-s", "metro", "metro-entry", station: "CEN"),
            await world.AddDeviceAsync("gate-q", "metro", "metro-entry", station: "W1"));
        await world.UploadOkAsync(silent, world.Tap(silent, "alice", ClearingWorld.At(8, 0)));
        var since = new DateTimeOffset(2026, 11, 18, 7, 0, 0, TimeSpan.Zero);
        using var report = await failing.Client.PostAsJsonAsync("/device/v1/status", new
        {
            deviceId = "gate-f", sentAt = DateTimeOffset.UtcNow, alarm = "amber", diskFreeBytes = 123_456_789L,
            uploadError = new { reason = "tls-name-mismatch", message = "the server certificate names clearing.example", since, failures = 7 },
            syncError = new { reason = "http-500", message = "500 Internal Server Error", since, failures = 2 },
        });
        Assert.Equal(HttpStatusCode.OK, report.StatusCode);
        using var fine = await quiet.Client.PostAsJsonAsync("/device/v1/status", new { deviceId = "gate-q", sentAt = DateTimeOffset.UtcNow });
        Assert.Equal(HttpStatusCode.OK, fine.StatusCode);

        // Eleven minutes pass in which gate-f and gate-s are not heard from.
        await world.ScalarAsync<int>("UPDATE device_status SET reported_at = reported_at - interval '11 minutes' WHERE device_id = 'gate-f'");
        await world.ScalarAsync<int>("UPDATE device_progress SET last_upload_at = last_upload_at - interval '11 minutes' WHERE device_id = 'gate-s'");

        var fleet = await FleetAsync(world);

        var alarms = Alarms(fleet["gate-f"]);
        Assert.Contains(alarms, a => a.Reason == "upload-error" && a.Detail.Contains("tls-name-mismatch", StringComparison.Ordinal) && a.Count == 7 && a.Since == since);
        Assert.Contains(alarms, a => a.Reason == "sync-error" && a.Detail.Contains("http-500", StringComparison.Ordinal) && a.Count == 2);
        Assert.Contains(alarms, a => a.Reason == "device-alarm" && a.Detail.Contains("amber", StringComparison.Ordinal));
        Assert.Contains(alarms, a => a.Reason == "silent");
        Assert.Equal(123_456_789L, fleet["gate-f"].GetProperty("diskFreeBytes").GetInt64());
        Assert.Equal("tls-name-mismatch", fleet["gate-f"].GetProperty("uploadError").GetProperty("reason").GetString());
        Assert.Equal(["silent"], Alarms(fleet["gate-s"]).Select(a => a.Reason));
        Assert.Empty(Alarms(fleet["gate-q"]));

        // A device that sent nothing on the day is not left out of the day's reconciliation.
        var admin = await world.ApiAsync("admin");
        var reconciliation = JsonDocument.Parse(await admin.GetStringAsync($"/api/days/{Day}/reconciliation")).RootElement.EnumerateArray()
            .ToDictionary(d => d.GetProperty("deviceId").GetString()!);
        Assert.Equal(["gate-f", "gate-q", "gate-s"], reconciliation.Keys.Order());
        Assert.Equal(0, reconciliation["gate-f"].GetProperty("received").GetInt64());
        Assert.Contains(reconciliation["gate-f"].GetProperty("alarms").EnumerateArray(), a => a.GetProperty("reason").GetString() == "upload-error");
        Assert.Equal(1, reconciliation["gate-s"].GetProperty("received").GetInt64());
    }

    [Theory]
    [InlineData("""{"deviceId":"gate-1","taps":{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10,"k":11,"l":12,"m":13,"n":14,"o":15,"p":16,"q":17,"r":18,"s":19,"t":20,"u":21,"v":22,"w":23,"x":24,"y":25,"z":26,"aa":27,"ab":28,"ac":29,"ad":30,"ae":31,"af":32,"ag":33}}""", "taps")]
    [InlineData("""{"deviceId":"gate-1","taps":{"OK WITH SPACES":1}}""", "taps")]
    [InlineData("""{"deviceId":"gate-1","taps":{"ok":-1}}""", "taps.ok")]
    [InlineData("""{"deviceId":"gate-1","softwareVersion":"1.0.0-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}""", "softwareVersion")]
    [InlineData("""{"deviceId":"gate-1","uploadError":{"reason":"Connection Refused!","message":"x","since":"2026-11-18T08:00:00Z","failures":1}}""", "uploadError.reason")]
    [InlineData("""{"deviceId":"gate-1","syncError":{"reason":"timeout","failures":-4}}""", "syncError.failures")]
    [InlineData("""{"deviceId":"gate-1","alarm":"purple"}""", "alarm")]
    [InlineData("""{"deviceId":"gate-1","diskFreeBytes":-2}""", "diskFreeBytes")]
    [InlineData("""{"deviceId":"gate-1","journalBacklog":"many"}""", "journalBacklog")]
    [InlineData("""{"deviceId":"gate-1","sentAt":"yesterday"}""", "sentAt")]
    public async Task Status_FieldOutOfBounds_Is400NamingTheFieldInPlainWords(string json, string field)
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var gate = await world.AddDeviceAsync("gate-1", "metro", "metro-entry", station: "CEN");
        using var body = new StringContent(json, Encoding.UTF8, "application/json");

        using var response = await gate.Client.PostAsync("/device/v1/status", body);

        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True(JsonDocument.Parse(text).RootElement.GetProperty("errors").TryGetProperty(field, out _), text);
        Assert.DoesNotContain("System.", text, StringComparison.Ordinal);
        Assert.Equal(0, await world.ScalarAsync<long>("SELECT count(*) FROM device_status"));
    }

    [Fact]
    public async Task Status_MessageTooLongOrBodyHuge_IsRefused()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var gate = await world.AddDeviceAsync("gate-1", "metro", "metro-entry", station: "CEN");
        using var longMessage = await gate.Client.PostAsJsonAsync("/device/v1/status", new
        {
            deviceId = "gate-1", uploadError = new { reason = "timeout", message = new string('m', 501), since = DateTimeOffset.UtcNow, failures = 1 },
        });
        Assert.Equal(HttpStatusCode.BadRequest, longMessage.StatusCode);
        Assert.Contains("uploadError.message", await longMessage.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var padding = new string(' ', 2 * 1024 * 1024);
        using var huge = new StringContent($$"""{"deviceId":"gate-1",{{padding}}"journalBacklog":1}""", Encoding.UTF8, "application/json");
        using var tooLarge = await gate.Client.PostAsync("/device/v1/status", huge);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Equal(0, await world.ScalarAsync<long>("SELECT count(*) FROM device_status"));
    }

    private static async Task<Dictionary<string, JsonElement>> FleetAsync(ClearingWorld world)
    {
        var admin = await world.ApiAsync("admin");
        return JsonDocument.Parse(await admin.GetStringAsync("/api/fleet")).RootElement.EnumerateArray().ToDictionary(d => d.GetProperty("deviceId").GetString()!);
    }

    private static List<(string Reason, string Detail, long? Count, DateTimeOffset? Since)> Alarms(JsonElement device) =>
        device.TryGetProperty("alarms", out var alarms)
            ? [.. alarms.EnumerateArray().Select(a => (
                a.GetProperty("reason").GetString()!, a.GetProperty("detail").GetString()!,
                a.GetProperty("count").ValueKind == JsonValueKind.Number ? a.GetProperty("count").GetInt64() : (long?)null,
                a.GetProperty("since").ValueKind == JsonValueKind.String ? a.GetProperty("since").GetDateTimeOffset() : (DateTimeOffset?)null))
                .OrderBy(a => a.Item1, StringComparer.Ordinal)]
            : [];
}
