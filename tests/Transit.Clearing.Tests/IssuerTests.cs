using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Transit.Clearing.Ingest;
using Transit.Clearing.Issuers;
using Transit.Clearing.Settlement;
using Transit.RideCodes;
using Transit.RideCodes.KeyStore;

namespace Transit.Clearing.Tests;

/// <summary>
/// Clearing per issuer (issue 16, point 3): the registry's guards, re-verification under the code's own issuer and the
/// tap operator's acceptance, riders kept apart per issuer through pricing and caps, and dues per issuer and operator.
/// </summary>
[Collection(ClearingCollection.Name)]
[Trait("Category", "Database")]
public sealed class IssuerTests(PostgresFixture postgres)
{
    private static readonly DateOnly Day = ClearingWorld.Day;

    [Fact]
    public async Task Add_WrongRootHomeIdUnnamedOrRepeated_IsRefusedNamingTheFile()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var registry = world.Services.GetRequiredService<IssuerRegistry>();
        var nat = Directory(world, "nat", SignatureAlgorithm.P256);
        var cty = Directory(world, "cty", SignatureAlgorithm.P256);
        var home = Directory(world, "home", SignatureAlgorithm.P256);

        var wrongRoot = await Assert.ThrowsAsync<IssuerException>(() => registry.AddAsync(
            File.ReadAllText(cty.RootPublicKeyPath), cty.RootPublicKeyPath, File.ReadAllText(nat.KeySetPath), nat.KeySetPath, "National wallet", default));
        Assert.Equal(IssuerProblem.Invalid, wrongRoot.Problem);
        Assert.StartsWith(nat.KeySetPath + ": the key set does not verify under " + cty.RootPublicKeyPath, wrongRoot.Message, StringComparison.Ordinal);

        var homeId = await Assert.ThrowsAsync<IssuerException>(() => AddAsync(world, home, "Home again"));
        Assert.Contains("names issuer 'home'", homeId.Message, StringComparison.Ordinal);

        var unnamed = await Assert.ThrowsAsync<IssuerException>(() => AddAsync(world, world.Keys, "Own keys"));
        Assert.Contains(world.Keys.KeySetPath + ": the key set names no issuer id", unnamed.Message, StringComparison.Ordinal);

        var notJson = await Assert.ThrowsAsync<IssuerException>(() => registry.AddAsync(
            "{", "root.pub.json", File.ReadAllText(nat.KeySetPath), nat.KeySetPath, "National wallet", default));
        Assert.StartsWith("root.pub.json: not a root public key file", notJson.Message, StringComparison.Ordinal);

        var added = await AddAsync(world, nat, "National wallet");
        Assert.Equal(("nat", "p256", 1L), (added.IssuerId, added.Algorithm, added.KeySetVersion));
        var again = await Assert.ThrowsAsync<IssuerException>(() => AddAsync(world, nat, "National wallet"));
        Assert.Equal(IssuerProblem.Conflict, again.Problem);
        Assert.Equal(0, await world.ScalarAsync<long>("SELECT count(*) FROM issuers WHERE issuer_id <> 'nat'"));
    }

    [Fact]
    public async Task Update_OnlyANewerKeySetOfTheSameIssuerUnderTheSameRoot()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var registry = world.Services.GetRequiredService<IssuerRegistry>();
        var nat = Directory(world, "nat", SignatureAlgorithm.Sm2);
        var impostor = Directory(world, "nat2", SignatureAlgorithm.Sm2);
        await AddAsync(world, nat, "National wallet");
        var first = File.ReadAllText(nat.KeySetPath);
        nat.Rotate(SignatureAlgorithm.Sm2);

        var updated = await registry.UpdateKeySetAsync("nat", File.ReadAllText(nat.KeySetPath), nat.KeySetPath, default);
        Assert.Equal(2, updated.KeySetVersion);
        Assert.Equal("sm2", updated.Algorithm);

        var older = await Assert.ThrowsAsync<IssuerException>(() => registry.UpdateKeySetAsync("nat", first, "keyset-v1.json", default));
        Assert.Equal("keyset-v1.json: key set version 1 is not newer than issuer 'nat''s registered version 2", older.Message);
        var otherRoot = await Assert.ThrowsAsync<IssuerException>(() => registry.UpdateKeySetAsync("nat", File.ReadAllText(impostor.KeySetPath), "other.json", default));
        Assert.StartsWith("other.json: the key set does not verify under issuer 'nat''s registered root", otherRoot.Message, StringComparison.Ordinal);
        var unknown = await Assert.ThrowsAsync<IssuerException>(() => registry.UpdateKeySetAsync("zzz", first, "keyset.json", default));
        Assert.Equal(IssuerProblem.NotFound, unknown.Problem);
        Assert.Equal(2, await world.ScalarAsync<long>("SELECT key_set_version FROM issuers WHERE issuer_id = 'nat'"));
    }

    [Fact]
    public async Task Accept_UnknownOperatorOrIssuerBadFeeOrEmptyPeriod_IsRefused()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var registry = world.Services.GetRequiredService<IssuerRegistry>();
        await AddAsync(world, Directory(world, "nat", SignatureAlgorithm.P256), "National wallet");

        var tram = await Assert.ThrowsAsync<IssuerException>(() => registry.AcceptAsync("tram", "nat", Day, null, 100, default));
        Assert.Equal((IssuerProblem.NotFound, "operator 'tram' is not an agency_id of the imported GTFS feeds"), (tram.Problem, tram.Message));
        var unknown = await Assert.ThrowsAsync<IssuerException>(() => registry.AcceptAsync("metro", "zzz", Day, null, 100, default));
        Assert.Equal(IssuerProblem.NotFound, unknown.Problem);
        foreach (var fee in new[] { -1, 10_001 })
        {
            var bad = await Assert.ThrowsAsync<IssuerException>(() => registry.AcceptAsync("metro", "nat", Day, null, fee, default));
            Assert.Equal($"fee {fee} basis points is outside 0 to 10000", bad.Message);
        }

        var empty = await Assert.ThrowsAsync<IssuerException>(() => registry.AcceptAsync("metro", "nat", Day, Day, 100, default));
        Assert.Contains("must end after it starts", empty.Message, StringComparison.Ordinal);
        await registry.AcceptAsync("metro", "nat", Day, null, 10_000, default);
        var twice = await Assert.ThrowsAsync<IssuerException>(() => registry.AcceptAsync("metro", "nat", Day, null, 50, default));
        Assert.Equal(IssuerProblem.Conflict, twice.Problem);
        Assert.Equal(1, await world.ScalarAsync<long>("SELECT count(*) FROM issuer_acceptance"));
    }

    [Fact]
    public async Task Ingest_CodeOfIssuerASignedWithIssuerBsKeys_IsRefused()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var nat = await AddAsync(world, Directory(world, "nat", SignatureAlgorithm.P256), "National wallet", ("metro", 200));
        var cty = Directory(world, "cty", SignatureAlgorithm.P256);
        await AddAsync(world, cty, "Other city", ("metro", 75));
        var gate = await world.AddDeviceAsync("in-w1", "metro", "metro-entry", station: "W1");
        // A credential that names nat, signed by cty's issuing key (both have key id 1).
        using var forged = Rider(cty, "nat", "mal");
        using var genuine = Rider(cty, "cty", "mal");

        await world.UploadOkAsync(gate, Tap(world, gate, forged, ClearingWorld.At(8, 0)), Tap(world, gate, genuine, ClearingWorld.At(8, 1)));

        var taps = await world.ListAsync("SELECT issuer_id, account, clearing_reason, flags FROM taps ORDER BY seq",
            r => (r.GetString(0), r.GetString(1), r.GetString(2), (TapFlags)r.GetInt32(3)));
        Assert.Equal(
            [("nat", "nat mal", "bad-issuer-signature", TapFlags.RefusedByClearing), ("cty", "cty mal", "ok", TapFlags.Billable)],
            taps);
        Assert.Equal(["cty mal"], await world.ListAsync("SELECT account FROM dirty_account_days", r => r.GetString(0)));
        Assert.Equal("nat", nat.IssuerId);
    }

    [Fact]
    public async Task Ingest_IssuerNotAcceptedByTheTapsOperatorThatDay_IsUnknownIssuerAndNeverBilled()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var registry = world.Services.GetRequiredService<IssuerRegistry>();
        var cty = Directory(world, "cty", SignatureAlgorithm.P256);
        await AddAsync(world, cty, "Other city");
        await registry.AcceptAsync("metro", "cty", Day.AddDays(1), null, 75, default);
        await registry.AcceptAsync("bus", "cty", Day.AddDays(-7), Day, 75, default);
        var gate = await world.AddDeviceAsync("in-w1", "metro", "metro-entry", station: "W1");
        var bus = await world.AddDeviceAsync("bus-1", "bus", "bus", stop: "BS1624", route: "B1");
        using var rider = Rider(cty, "cty", "dave");

        await world.UploadOkAsync(gate, Tap(world, gate, rider, ClearingWorld.At(8, 0)));
        await world.UploadOkAsync(bus, Tap(world, bus, rider, ClearingWorld.At(9, 0)));
        await world.UploadOkAsync(gate, Tap(world, gate, rider, ClearingWorld.At(8, 0, day: Day.AddDays(1))));

        var taps = await world.ListAsync("SELECT service_day, device_id, clearing_reason, flags FROM taps ORDER BY service_day, device_id",
            r => (r.GetFieldValue<DateOnly>(0), r.GetString(1), r.GetString(2), (TapFlags)r.GetInt32(3)));
        Assert.Equal(
        [
            (Day, "bus-1", "unknown-issuer", TapFlags.RefusedByClearing),
            (Day, "in-w1", "unknown-issuer", TapFlags.RefusedByClearing),
            (Day.AddDays(1), "in-w1", "ok", TapFlags.Billable),
        ], taps);
    }

    [Fact]
    public async Task ClearDay_HomeAndTwoIssuers_SameAccountNameIsThreeRidersAndEachIssuerOwesEachOperatorFaresLessItsFee()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var nat = Directory(world, "nat", SignatureAlgorithm.Sm2);
        var cty = Directory(world, "cty", SignatureAlgorithm.P256);
        await AddAsync(world, nat, "National wallet", ("metro", 200), ("bus", 333));
        await AddAsync(world, cty, "Other city", ("metro", 75));
        var (west, east) = (await world.AddDeviceAsync("in-w1", "metro", "metro-entry", station: "W1"), await world.AddDeviceAsync("out-e1", "metro", "metro-exit", station: "E1"));
        var bus = await world.AddDeviceAsync("bus-1", "bus", "bus", stop: "BS1624", route: "B1");
        using var natAlice = Rider(nat, "nat", "alice");
        using var ctyAlice = Rider(cty, "cty", "alice");

        // Three alices, each two zones (280); nat's alice later rides the bus and transfers to the metro (160 + 100).
        await world.UploadOkAsync(west,
            world.Tap(west, "alice", ClearingWorld.At(8, 0)), Tap(world, west, natAlice, ClearingWorld.At(8, 1)), Tap(world, west, ctyAlice, ClearingWorld.At(8, 2)));
        await world.UploadOkAsync(east,
            world.Tap(east, "alice", ClearingWorld.At(8, 20)), Tap(world, east, natAlice, ClearingWorld.At(8, 21)), Tap(world, east, ctyAlice, ClearingWorld.At(8, 22)));
        await world.UploadOkAsync(bus, Tap(world, bus, natAlice, ClearingWorld.At(10, 0)));
        await world.UploadOkAsync(west, Tap(world, west, natAlice, ClearingWorld.At(10, 30)));
        await world.UploadOkAsync(east, Tap(world, east, natAlice, ClearingWorld.At(10, 50)));

        var books = await world.ClearAsync();

        Assert.True(books.Balanced, books.ToString());
        // Together they would pass the 600 daily cap (1,100); apart, none does.
        var charges = await world.ListAsync("SELECT account, issuer_id, amount, status FROM charges ORDER BY account",
            r => (r.GetString(0), r.GetString(1), r.GetInt64(2), r.GetString(3)));
        Assert.Equal(
            [("alice", "home", 280L, "succeeded"), ("cty alice", "cty", 280L, "issuer-billed"), ("nat alice", "nat", 540L, "issuer-billed")],
            charges);
        // Each issuer owes each operator the fares of its riders there less the agreed fee, rounded once per pair and day.
        var dues = await world.ListAsync("SELECT issuer_id, operator_id, gross, fee_basis_points, fee, net FROM issuer_dues ORDER BY 1, 2",
            r => (r.GetString(0), r.GetString(1), r.GetInt64(2), r.GetInt32(3), r.GetInt64(4), r.GetInt64(5)));
        Assert.Equal(
        [
            ("cty", "metro", 280L, 75, Apportionment.Fee(280, 75), 280L - Apportionment.Fee(280, 75)),
            ("nat", "bus", 160L, 333, Apportionment.Fee(160, 333), 160L - Apportionment.Fee(160, 333)),
            ("nat", "metro", 380L, 200, Apportionment.Fee(380, 200), 380L - Apportionment.Fee(380, 200)),
        ], dues);
        Assert.Equal((2L, 5L, 8L), (Apportionment.Fee(280, 75), Apportionment.Fee(160, 333), Apportionment.Fee(380, 200)));
        Assert.Equal(0, await world.ScalarAsync<long>("SELECT count(*) FROM settlement_lines WHERE issuer_id <> 'home' AND fee <> 0"));
        Assert.Equal(["cty", "home", "nat"], books.Issuers!.Select(i => i.IssuerId));
        Assert.All(books.Issuers!, i => Assert.True(i.Balanced));

        // The transfer stays one journey of nat's alice across the two operators.
        var journeys = await world.ListAsync("SELECT journey_no, fare_amount, charged_amount FROM journeys WHERE account = 'nat alice' ORDER BY 1",
            r => (r.GetInt32(0), r.GetInt64(1), r.GetInt64(2)));
        Assert.Equal([(1, 280L, 280L), (2, 260L, 260L)], journeys);

        // The issuer's statement: its riders' journeys, what it owes each operator and the fee.
        var statement = await world.Services.GetRequiredService<IssuerStatements>().ForAsync("nat", Day, default);
        Assert.NotNull(statement);
        Assert.Equal((540L, 13L, 527L), (statement.Due, statement.Fee, statement.Net));
        Assert.Equal([("bus", 160L, 5L, 155L, 333), ("metro", 380L, 8L, 372L, 200)], statement.Operators.Select(o => (o.OperatorId, o.Gross, o.Fee, o.Net, o.FeeBasisPoints)));
        Assert.Equal([("alice", 1, 280L), ("alice", 2, 260L)], statement.Journeys.Select(j => (j.Account, j.JourneyNo, j.Charged)));

        var admin = await world.ApiAsync("admin");
        var json = JsonDocument.Parse(await admin.GetStringAsync($"/api/issuers/nat/statements/{Day:yyyy-MM-dd}")).RootElement;
        Assert.Equal(540, json.GetProperty("due").GetInt64());
        var csv = await admin.GetStringAsync($"/api/issuers/nat/statements/{Day:yyyy-MM-dd}?format=csv");
        Assert.Contains($"nat,{Day:yyyy-MM-dd},EUR,due,bus,,,160,333,5,155", csv, StringComparison.Ordinal);
        Assert.Contains($"nat,{Day:yyyy-MM-dd},EUR,total,,,,540,,13,527", csv, StringComparison.Ordinal);
        using var missing = await admin.GetAsync($"/api/issuers/zzz/statements/{Day:yyyy-MM-dd}");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
        var operatorClient = await world.ApiAsync("operator", "metro");
        using var forbidden = await operatorClient.GetAsync($"/api/issuers/nat/statements/{Day:yyyy-MM-dd}");
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);

        // The metro's statement shows its shares by issuer.
        var metro = JsonDocument.Parse(await admin.GetStringAsync($"/api/statements/metro/{Day:yyyy-MM-dd}")).RootElement;
        Assert.Equal(
            [("cty", 280L, 278L), ("home", 280L, 276L), ("nat", 380L, 372L)],
            metro.GetProperty("issuers").EnumerateArray().Select(i => (i.GetProperty("issuerId").GetString()!, i.GetProperty("gross").GetInt64(), i.GetProperty("net").GetInt64())));

        // The day's figures per operator take each issuer's fee as settled.
        var operators = JsonDocument.Parse(await admin.GetStringAsync($"/api/days/{Day:yyyy-MM-dd}")).RootElement.GetProperty("operators");
        Assert.Equal(
            [("bus", 160L, 5L, 155L), ("metro", 940L, 14L, 926L)],
            operators.EnumerateArray().Select(o => (o.GetProperty("operatorId").GetString()!, o.GetProperty("gross").GetInt64(), o.GetProperty("fee").GetInt64(), o.GetProperty("net").GetInt64())));

        // A due or a settlement line tampered with by one unit fails the check, naming the issuer and the difference.
        var check = world.Services.GetRequiredService<BalanceCheck>();
        await world.ScalarAsync<int>("UPDATE issuer_dues SET gross = gross + 1, net = net + 1 WHERE issuer_id = 'nat' AND operator_id = 'bus'");
        var tampered = (await check.ComputeAsync(Day, default)).ToString();
        Assert.Contains("NOT BALANCED", tampered, StringComparison.Ordinal);
        Assert.Contains("issuer nat: dues 540 <> operator shares 528 + fees 13 (difference -1)", tampered, StringComparison.Ordinal);
        Assert.DoesNotContain("issuer cty:", tampered, StringComparison.Ordinal);
        await world.ScalarAsync<int>("UPDATE issuer_dues SET gross = gross - 1, net = net - 1 WHERE issuer_id = 'nat' AND operator_id = 'bus'");
        Assert.True((await check.ComputeAsync(Day, default)).Balanced);
        await world.ScalarAsync<int>("UPDATE settlement_lines SET gross = gross - 1, net = net - 1 WHERE issuer_id = 'cty'");
        tampered = (await check.ComputeAsync(Day, default)).ToString();
        Assert.Contains("issuer cty: dues 280 = operator shares 278 + fees 2, settlement lines 279 (difference 1)", tampered, StringComparison.Ordinal);
        await Assert.ThrowsAsync<BalanceException>(() => check.CheckAsync(Day, default));
    }

    [Fact]
    public async Task Api_AddListAccept_AdminOnlyWithProblemsNamingWhatIsWrong()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var nat = Directory(world, "nat", SignatureAlgorithm.Sm2);
        var admin = await world.ApiAsync("admin");
        var body = new { name = "National wallet", rootPublicKey = File.ReadAllText(nat.RootPublicKeyPath), keySet = File.ReadAllText(nat.KeySetPath) };

        var operatorClient = await world.ApiAsync("operator", "metro");
        using (var forbidden = await operatorClient.PostAsJsonAsync("/api/issuers", body))
        {
            Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        }

        using (var created = await admin.PostAsJsonAsync("/api/issuers", body))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            Assert.Equal("/api/issuers/nat", created.Headers.Location?.OriginalString);
        }

        using (var bad = await admin.PostAsJsonAsync("/api/issuers", body with { rootPublicKey = File.ReadAllText(world.Keys.RootPublicKeyPath) }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Contains("keySet: the key set does not verify under rootPublicKey", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var fee = await admin.PostAsJsonAsync("/api/issuers/nat/acceptance", new { operatorId = "metro", validFrom = "2026-11-01", feeBasisPoints = 20_000 }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, fee.StatusCode);
            Assert.Contains("fee 20000 basis points is outside 0 to 10000", await fee.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var unknown = await admin.PostAsJsonAsync("/api/issuers/zzz/acceptance", new { operatorId = "metro", validFrom = "2026-11-01", feeBasisPoints = 100 }))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        }

        using (var accepted = await admin.PostAsJsonAsync("/api/issuers/nat/acceptance", new { operatorId = "metro", validFrom = "2026-11-01", validTo = "2027-01-01", feeBasisPoints = 120 }))
        {
            Assert.Equal(HttpStatusCode.Created, accepted.StatusCode);
        }

        var list = JsonDocument.Parse(await admin.GetStringAsync("/api/issuers")).RootElement;
        var issuer = Assert.Single(list.EnumerateArray());
        Assert.Equal(("nat", "sm2", 1L), (issuer.GetProperty("issuerId").GetString(), issuer.GetProperty("algorithm").GetString(), issuer.GetProperty("keySetVersion").GetInt64()));
        var acceptance = Assert.Single(issuer.GetProperty("acceptances").EnumerateArray());
        Assert.Equal(("metro", "2026-11-01", "2027-01-01", 120), (
            acceptance.GetProperty("operatorId").GetString(), acceptance.GetProperty("validFrom").GetString(), acceptance.GetProperty("validTo").GetString(),
            acceptance.GetProperty("feeBasisPoints").GetInt32()));
    }

    private static OperatorKeyDirectory Directory(ClearingWorld world, string issuer, SignatureAlgorithm algorithm) =>
        OperatorKeyDirectory.Init(Path.Combine(world.Folder, "issuer-" + issuer), algorithm, issuerId: issuer);

    private static async Task<IssuerInfo> AddAsync(ClearingWorld world, OperatorKeyDirectory keys, string name, params (string Operator, int FeeBasisPoints)[] acceptedBy)
    {
        var registry = world.Services.GetRequiredService<IssuerRegistry>();
        var added = await registry.AddAsync(
            File.ReadAllText(keys.RootPublicKeyPath), keys.RootPublicKeyPath, File.ReadAllText(keys.KeySetPath), keys.KeySetPath, name, default);
        foreach (var (op, fee) in acceptedBy)
        {
            await registry.AcceptAsync(op, added.IssuerId, new DateOnly(2026, 11, 1), null, fee, default);
        }

        return added;
    }

    /// <summary>A rider of the issuer whose keys are <paramref name="keys"/>; the credential names <paramref name="issuer"/>.</summary>
    private static PhoneCredential Rider(OperatorKeyDirectory keys, string issuer, string account)
    {
        var (key, signing) = keys.OpenIssuingKey();
        using (signing)
        {
            return PhoneCredential.Issue(signing, key.KeyId, account, "adult", new DateTimeOffset(2026, 11, 15, 0, 0, 0, TimeSpan.Zero), TimeSpan.FromDays(7), issuer);
        }
    }

    private static TapRecord Tap(ClearingWorld world, TestDevice device, PhoneCredential rider, DateTimeOffset at) =>
        world.TapWithCode(device, rider.Show(at.AddSeconds(-2), 0).ToText(), at);
}
