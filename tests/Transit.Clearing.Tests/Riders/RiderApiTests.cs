using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Transit.Clearing.Riders;
using Transit.RideCodes;
using Transit.RideCodes.KeyStore;

namespace Transit.Clearing.Tests.Riders;

/// <summary>The riders' issuance API, /rider/v1: credentials, refusals, tokens, rate limits, a rider's own data.</summary>
[Collection(RiderCollection.Name)]
[Trait("Category", "Database")]
public sealed class RiderApiTests(PostgresFixture postgres)
{
    private const string Day = "2026-11-18";

    [Fact]
    public async Task Credential_ForAWebCryptoSpkiKey_IsTheDocumentedBytesSignedByTheActiveIssuerKeyAndRidesThroughTheVerifier()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var rider = await TestRider.SignUpAsync(world);
        using var phone = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var before = DateTimeOffset.UtcNow;

        using var response = await rider.RequestCredentialAsync(Convert.ToBase64String(phone.ExportSubjectPublicKeyInfo()));
        var answer = await response.JsonAsync(HttpStatusCode.OK);

        Assert.True(Credential.TryParse(Convert.FromBase64String(answer.GetProperty("credential").GetString()!), out var credential));
        Assert.Equal(rider.Account, credential.Account);
        Assert.Equal("", credential.Category);
        var (issuerKey, _) = world.Keys.OpenIssuingKey();
        Assert.Equal(issuerKey.KeyId, credential.KeyId);
        Assert.True(issuerKey.PublicKey.Verify(credential.IssuerSignedMessage, credential.IssuerSignature));
        Assert.Equal(PhonePoint(phone), credential.PhonePublicKey);
        Assert.Equal(credential.NotAfter, answer.GetProperty("notAfter").GetDateTimeOffset());
        Assert.InRange(credential.NotAfter - before, TimeSpan.FromHours(24) - TimeSpan.FromSeconds(2), TimeSpan.FromHours(24) + TimeSpan.FromSeconds(60));
        Assert.True(credential.NotAfter - credential.NotBefore <= VerifierOptions.DefaultMaxCredentialValidity);
        Assert.Equal(rider.Account, await world.ScalarAsync<string>("SELECT account FROM rider_credentials WHERE credential_id = $1", credential.CredentialIdText));

        // The phone signs codes with its own key; a gate's verifier accepts them.
        using var phoneKey = SigningKey.FromPrivateScalar(SignatureAlgorithm.P256, phone.ExportParameters(true).D);
        var verifier = new RideCodeVerifier(TrustStore.Open(world.Keys.RootPublicKey, world.Keys.ReadSignedKeySet(), world.Keys.ReadSignedDenyList()));
        Assert.Equal(VerificationReason.Ok, verifier.Verify(RideCode.Sign(credential, phoneKey, DateTimeOffset.UtcNow, 0).ToText()).Reason);
    }

    [Fact]
    public async Task Credential_ValidityAboveTheVerifiersSevenDayCap_IsRefusedAtStart()
    {
        var tooLong = Assert.Throws<ArgumentException>(() => new RiderSettings { CredentialValidity = TimeSpan.FromDays(7) }.Validate());
        Assert.Contains("7 days", tooLong.Message, StringComparison.Ordinal);
        new RiderSettings { CredentialValidity = TimeSpan.FromDays(7) - TimeSpan.FromMinutes(5) }.Validate();
        await Assert.ThrowsAnyAsync<ArgumentException>(() => ClearingWorld.StartAsync(postgres, o => o.Riders.CredentialValidity = TimeSpan.FromDays(8)));
    }

    [Fact]
    public async Task Credential_PhoneKeyAsRawOrCompressedPoint_IsTheSameKey_AndNonsenseIsA400NamingTheField()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var rider = await TestRider.SignUpAsync(world);
        using var phone = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var q = phone.ExportParameters(false).Q;
        foreach (var form in new[] { (byte[])[4, .. q.X!, .. q.Y!], PhonePoint(phone) })
        {
            using var response = await rider.RequestCredentialAsync(Convert.ToBase64String(form));
            Assert.True(Credential.TryParse(Convert.FromBase64String((await response.JsonAsync(HttpStatusCode.OK)).GetProperty("credential").GetString()!), out var credential));
            Assert.Equal(PhonePoint(phone), credential.PhonePublicKey);
        }

        var offCurve = (byte[])[4, .. q.X!, .. q.Y!];
        offCurve[^1] ^= 1;
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        foreach (var bad in new[] { "", "not base64!", Convert.ToBase64String(offCurve), Convert.ToBase64String(p384.ExportSubjectPublicKeyInfo()), Convert.ToBase64String(new byte[33]) })
        {
            using var response = await rider.RequestCredentialAsync(bad);
            var problem = await response.JsonAsync(HttpStatusCode.BadRequest);
            Assert.StartsWith("phoneKey:", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        using var noBody = await rider.Client.PostAsJsonAsync("/rider/v1/credential", new { });
        Assert.Equal(HttpStatusCode.BadRequest, noBody.StatusCode);
        Assert.Equal(2, await world.ScalarAsync<long>("SELECT count(*) FROM rider_credentials"));
    }

    [Fact]
    public async Task Tokens_RiderAndOperatorTokensAreKeptApart_StoredHashed_RevocableAndExpiring()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var rider = await TestRider.SignUpAsync(world);
        var admin = await world.ApiAsync("admin");
        Assert.StartsWith(RiderTokenStore.Prefix, rider.Token, StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.OK, (await rider.Client.GetAsync("/rider/v1/charges")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await rider.Client.GetAsync($"/api/days/{Day}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await rider.Client.GetAsync($"/api/accounts/{rider.Account}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await admin.GetAsync("/rider/v1/charges")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await admin.PostAsJsonAsync("/rider/v1/credential", new { phoneKey = "x" })).StatusCode);
        Assert.Equal(0, await world.ScalarAsync<long>("SELECT count(*) FROM api_tokens WHERE token_hash = $1", Access.TokenStore.Hash(rider.Token)));
        Assert.Equal(1, await world.ScalarAsync<long>("SELECT count(*) FROM rider_tokens WHERE token_hash = $1", Access.TokenStore.Hash(rider.Token)));
        Assert.Equal(0, await world.ScalarAsync<long>("SELECT count(*) FROM rider_tokens WHERE position($1::bytea IN token_hash) > 0", System.Text.Encoding.ASCII.GetBytes(rider.Token[4..20])));

        // Signing out ends this token only; an operator's revocation ends every token of the account; expiry ends one.
        var second = await TestRider.SignUpAsync(world);
        Assert.Equal(HttpStatusCode.NoContent, (await rider.Client.PostAsync("/rider/v1/signout", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await rider.Client.GetAsync("/rider/v1/charges")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await second.Client.GetAsync("/rider/v1/charges")).StatusCode);
        var revoked = await (await admin.DeleteAsync($"/api/accounts/{second.Account}/rider-tokens")).JsonAsync(HttpStatusCode.OK);
        Assert.Equal(1, revoked.GetProperty("revoked").GetInt32());
        Assert.Equal(HttpStatusCode.Unauthorized, (await second.Client.GetAsync("/rider/v1/charges")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await (await world.ApiAsync("planner")).DeleteAsync($"/api/accounts/{second.Account}/rider-tokens")).StatusCode);

        var third = await TestRider.SignUpAsync(world);
        Assert.Equal(HttpStatusCode.OK, (await third.Client.GetAsync("/rider/v1/charges")).StatusCode);
        await world.ScalarAsync<int>("UPDATE rider_tokens SET expires_at = now() - interval '1 second' WHERE account = $1 RETURNING 1", third.Account);
        Assert.Equal(HttpStatusCode.Unauthorized, (await third.Client.GetAsync("/rider/v1/charges")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await world.ApiClient("trr_" + new string('a', 43)).GetAsync("/rider/v1/charges")).StatusCode);
    }

    [Fact]
    public async Task Credential_WhileInDebt_Is403WithTheDebtAndHowToPay_PayingLiftsTheDenyEntryAtTheNextVersion()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var rider = await TestRider.SignUpAsync(world);
        world.Options.Payments.DeclineAccounts.Add(rider.Account);
        var west = await world.AddDeviceAsync("in-w1", "metro", "metro-entry", station: "W1");
        await world.UploadOkAsync(west, world.Tap(west, rider.Account, ClearingWorld.At(8, 0)));
        await world.ClearAsync();
        var listedAt = OperatorKeyDirectory.Open(world.Keys.Path).DenyList;
        Assert.Contains(rider.Account, listedAt.Accounts);

        var problem = await (await rider.RequestCredentialAsync()).JsonAsync(HttpStatusCode.Forbidden);
        Assert.Equal(["debt"], problem.GetProperty("reasons").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal(400, problem.GetProperty("debt").GetInt64());
        Assert.Equal("/rider/v1/pay", problem.GetProperty("pay").GetString());
        Assert.Contains("owes 400", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var charges = await (await rider.Client.GetAsync("/rider/v1/charges")).JsonAsync(HttpStatusCode.OK);
        Assert.Equal(400, charges.GetProperty("debt").GetInt64());
        Assert.True(Assert.Single(charges.GetProperty("charges").EnumerateArray()).GetProperty("inDebt").GetBoolean());

        var paid = await (await rider.Client.PostAsync("/rider/v1/pay", null)).JsonAsync(HttpStatusCode.OK);
        Assert.Equal(400, paid.GetProperty("paid").GetInt64());
        Assert.Equal(0, paid.GetProperty("debtLeft").GetInt64());
        Assert.Equal(listedAt.Version + 1, paid.GetProperty("denyListVersion").GetInt64());
        Assert.DoesNotContain(rider.Account, OperatorKeyDirectory.Open(world.Keys.Path).DenyList.Accounts);
        Assert.Equal(HttpStatusCode.OK, (await rider.RequestCredentialAsync()).StatusCode);
        Assert.Equal(400, await world.ScalarAsync<long>("SELECT paid_by_hand FROM charges WHERE account = $1", rider.Account));
    }

    [Fact]
    public async Task Credential_AccountDeniedByTheOperatorOrByHandInTheKeyDirectory_Is403WithTheReason()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var denied = await TestRider.SignUpAsync(world);
        var byHand = await TestRider.SignUpAsync(world);
        var admin = await world.ApiAsync("admin");
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/accounts/{denied.Account}/deny", null)).StatusCode);
        world.Keys.UpdateDenyList(addAccounts: [byHand.Account]);

        var manual = await (await denied.RequestCredentialAsync()).JsonAsync(HttpStatusCode.Forbidden);
        Assert.Equal(["manual"], manual.GetProperty("reasons").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal(JsonValueKind.Null, manual.GetProperty("pay").ValueKind);
        var listed = await (await byHand.RequestCredentialAsync()).JsonAsync(HttpStatusCode.Forbidden);
        Assert.Equal(["deny-list"], listed.GetProperty("reasons").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal(0, await world.ScalarAsync<long>("SELECT count(*) FROM rider_credentials"));

        Assert.Equal(HttpStatusCode.OK, (await admin.DeleteAsync($"/api/accounts/{denied.Account}/deny")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await denied.RequestCredentialAsync()).StatusCode);
    }

    [Fact]
    public async Task RateLimits_CredentialsPerAccountAndSignupsPerAddress_Answer429WithRetryAfter()
    {
        await using var world = await ClearingWorld.StartAsync(postgres, o =>
        {
            o.Riders.CredentialsPerAccountPerHour = 2;
            o.Riders.SignupsPerAddressPerHour = 3;
        });
        var first = await TestRider.SignUpAsync(world);
        var second = await TestRider.SignUpAsync(world);
        Assert.Equal(HttpStatusCode.OK, (await first.RequestCredentialAsync()).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await first.RequestCredentialAsync()).StatusCode);
        using var limited = await first.RequestCredentialAsync();
        var problem = await limited.JsonAsync(HttpStatusCode.TooManyRequests);
        Assert.True(limited.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        Assert.Contains("too many requests", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await second.RequestCredentialAsync()).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await first.Client.GetAsync("/rider/v1/charges")).StatusCode);

        await TestRider.SignUpAsync(world);
        using var anonymous = new HttpClient { BaseAddress = world.ApiUrl };
        Assert.Equal(HttpStatusCode.TooManyRequests, (await anonymous.PostAsync("/rider/v1/signup", null)).StatusCode);
        Assert.Equal(3, await world.ScalarAsync<long>("SELECT count(*) FROM rider_tokens"));
    }

    [Fact]
    public async Task RateLimits_EveryRiderRequestCountsAgainstItsAddress()
    {
        await using var world = await ClearingWorld.StartAsync(postgres, o => o.Riders.RequestsPerAddressPerMinute = 4);
        var rider = await TestRider.SignUpAsync(world);
        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            answers.Add((await rider.Client.GetAsync("/rider/v1/charges")).StatusCode);
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], answers);
        Assert.Equal(HttpStatusCode.OK, (await (await world.ApiAsync("admin")).GetAsync($"/api/days/{Day}")).StatusCode);
    }

    [Fact]
    public async Task JourneysAndCharges_ShowTheRidersOwnOnly_WithIncompleteJourneysMarked()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var ann = await TestRider.SignUpAsync(world);
        var bob = await TestRider.SignUpAsync(world);
        var west = await world.AddDeviceAsync("in-w1", "metro", "metro-entry", station: "W1");
        var central = await world.AddDeviceAsync("out-cen", "metro", "metro-exit", station: "CEN");
        await world.UploadOkAsync(west, world.Tap(west, ann.Account, ClearingWorld.At(8, 0)), world.Tap(west, bob.Account, ClearingWorld.At(8, 1)));
        await world.UploadOkAsync(central, world.Tap(central, bob.Account, ClearingWorld.At(8, 15)));
        await world.ClearAsync();

        var annJourneys = await (await ann.Client.GetAsync($"/rider/v1/journeys?from={Day}&to={Day}")).JsonAsync(HttpStatusCode.OK);
        var journey = Assert.Single(annJourneys.GetProperty("journeys").EnumerateArray());
        Assert.True(journey.GetProperty("incomplete").GetBoolean());
        Assert.Contains("missingExit", journey.GetProperty("flags").EnumerateArray().Select(f => f.GetString()));
        Assert.Equal("W1", Assert.Single(journey.GetProperty("legs").EnumerateArray()).GetProperty("from").GetString());
        var bobJourneys = await (await bob.Client.GetAsync($"/rider/v1/journeys?from={Day}&to={Day}")).JsonAsync(HttpStatusCode.OK);
        var bobs = Assert.Single(bobJourneys.GetProperty("journeys").EnumerateArray());
        Assert.False(bobs.GetProperty("incomplete").GetBoolean());
        Assert.Equal("CEN", Assert.Single(bobs.GetProperty("legs").EnumerateArray()).GetProperty("to").GetString());
        Assert.NotEqual(journey.GetProperty("charged").GetInt64(), bobs.GetProperty("charged").GetInt64());

        var annCharges = await (await ann.Client.GetAsync("/rider/v1/charges")).JsonAsync(HttpStatusCode.OK);
        var charge = Assert.Single(annCharges.GetProperty("charges").EnumerateArray());
        Assert.Equal(journey.GetProperty("charged").GetInt64(), charge.GetProperty("amount").GetInt64());
        Assert.DoesNotContain(bob.Account, annCharges.GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain(bob.Account, annJourneys.GetRawText(), StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.BadRequest, (await ann.Client.GetAsync("/rider/v1/journeys?from=2026-13-01")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await ann.Client.GetAsync("/rider/v1/journeys?from=2026-01-01&to=2026-12-01")).StatusCode);
    }

    [Fact]
    public async Task OpenApi_RiderDocument_DescribesTheRiderGroupAndNothingOfTheOperatorsApi()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        using var anonymous = new HttpClient { BaseAddress = world.ApiUrl };
        var paths = (await (await anonymous.GetAsync("/openapi/rider.json")).JsonAsync(HttpStatusCode.OK)).GetProperty("paths");
        Assert.Equal(
            ["/rider/v1/charges", "/rider/v1/credential", "/rider/v1/journeys", "/rider/v1/pay", "/rider/v1/signout", "/rider/v1/signup"],
            paths.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        var main = await (await anonymous.GetAsync("/openapi/v1.json")).JsonAsync(HttpStatusCode.OK);
        Assert.DoesNotContain("/rider/v1/", main.GetRawText(), StringComparison.Ordinal);
    }

    private static byte[] PhonePoint(ECDsa key)
    {
        var q = key.ExportParameters(false).Q;
        return [(byte)(2 + (q.Y![^1] & 1)), .. q.X!];
    }
}
