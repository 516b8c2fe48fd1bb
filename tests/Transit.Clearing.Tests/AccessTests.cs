using System.Net;
using System.Text;
using System.Text.Json;
using Transit.Clearing.Access;
using Transit.Clearing.Devices;
using Transit.Clearing.Settlement;

namespace Transit.Clearing.Tests;

/// <summary>Who may read what through the operators' API, tokens' lifetime, and requests that name things that do not exist.</summary>
[Collection(ClearingCollection.Name)]
[Trait("Category", "Database")]
public sealed class AccessTests(PostgresFixture postgres)
{
    private static readonly string Day = ClearingWorld.Day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task Days_OperatorToken_SeesOnlyItsOwnFiguresNotTheOtherOperatorsRevenue()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var bus = await world.AddDeviceAsync("bus-1", "bus", "bus", stop: "BS1624", route: "B1");
        var gate = await world.AddDeviceAsync("gate-1", "metro", "metro-entry", station: "CEN");
        await world.UploadOkAsync(bus, world.Tap(bus, "bob", ClearingWorld.At(9, 0)));
        await world.UploadOkAsync(gate, world.Tap(gate, "ann", ClearingWorld.At(9, 5)), world.Tap(gate, "eve", ClearingWorld.At(9, 6)));
        await world.ClearAsync();

        var busOperator = await world.ApiAsync("operator", "bus");
        var day = JsonDocument.Parse(await busOperator.GetStringAsync($"/api/days/{Day}")).RootElement;
        Assert.Equal(["bus"], day.GetProperty("operators").EnumerateArray().Select(o => o.GetProperty("operatorId").GetString()));
        Assert.Equal(1, day.GetProperty("taps").GetInt64());
        foreach (var systemWide in new[] { "charges", "operatorShares", "fees", "accountDays" })
        {
            Assert.False(day.TryGetProperty(systemWide, out _), $"an operator sees the day's {systemWide}");
        }

        var admin = JsonDocument.Parse(await (await world.ApiAsync("admin")).GetStringAsync($"/api/days/{Day}")).RootElement;
        Assert.Equal(["bus", "metro"], admin.GetProperty("operators").EnumerateArray().Select(o => o.GetProperty("operatorId").GetString()));
        Assert.Equal(3, admin.GetProperty("taps").GetInt64());
    }

    [Fact]
    public async Task Statements_UnknownOperator_IsA404ProblemNotADayOfZeros()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var admin = await world.ApiAsync("admin");

        using var response = await admin.GetAsync($"/api/statements/tram/{Day}");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("'tram'", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Null(await world.Services.GetRequiredService<Statements>().ForAsync("tram", ClearingWorld.Day, CancellationToken.None));
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync($"/api/statements/bus/{Day}")).StatusCode);
    }

    [Fact]
    public async Task Tokens_RevokedOrExpired_Get401AndTheListShowsNoSecret()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var tokens = world.Services.GetRequiredService<TokenStore>();
        var revoked = await tokens.IssueAsync(Roles.Operator, "bus", "to revoke", 30, CancellationToken.None);
        var expired = await tokens.IssueAsync(Roles.Planner, null, "to expire", 1, CancellationToken.None);
        Assert.Equal(Roles.Operator, revoked.Info.Role);
        Assert.InRange(revoked.Info.ExpiresAt - revoked.Info.CreatedAt, TimeSpan.FromDays(30), TimeSpan.FromDays(30));
        var revokedClient = world.ApiClient(revoked.Token);
        var expiredClient = world.ApiClient(expired.Token);
        Assert.Equal(HttpStatusCode.OK, (await revokedClient.GetAsync($"/api/days/{Day}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await expiredClient.GetAsync($"/api/days/{Day}")).StatusCode);

        Assert.True(await tokens.RevokeAsync(revoked.Info.Id, CancellationToken.None));
        await world.ScalarAsync<int>("UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE token_id = $1 RETURNING 1", expired.Info.Id);

        Assert.Equal(HttpStatusCode.Unauthorized, (await revokedClient.GetAsync($"/api/days/{Day}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await expiredClient.GetAsync($"/api/days/{Day}")).StatusCode);
        Assert.False(await tokens.RevokeAsync(999_999, CancellationToken.None));
        var listed = await tokens.ListAsync(CancellationToken.None);
        Assert.NotNull(Assert.Single(listed, t => t.Id == revoked.Info.Id).RevokedAt);
        Assert.DoesNotContain(revoked.Token, JsonSerializer.Serialize(listed), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    [InlineData(TokenStore.MaximumExpiryDays + 1)]
    public async Task Tokens_ExpiryOutOfRange_IsRefused(int days)
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var error = await Assert.ThrowsAsync<ArgumentException>(() => world.Services.GetRequiredService<TokenStore>().IssueAsync(Roles.Planner, null, null, days, CancellationToken.None));
        Assert.Contains("--expires-days", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TokensAndDevices_ForNamesNotInTheImportedFeed_AreRefusedNamingThem()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var tokens = world.Services.GetRequiredService<TokenStore>();
        var error = await Assert.ThrowsAsync<UnknownReferenceException>(() => tokens.IssueAsync(Roles.Operator, "tram", null, 30, CancellationToken.None));
        Assert.Contains("'tram'", error.Message, StringComparison.Ordinal);

        (DeviceRegistration Registration, string Named)[] cases =
        [
            (new DeviceRegistration("g1", "tram", "metro-entry", "CEN", null, null), "'tram'"),
            (new DeviceRegistration("g2", "metro", "metro-entry", "=cmd|' /C calc'!A0", null, null), "--station"),
            (new DeviceRegistration("b1", "bus", "bus", null, "NOWHERE", "B1"), "--stop 'NOWHERE'"),
            (new DeviceRegistration("b2", "bus", "bus", null, null, "B99"), "--route 'B99'"),
            (new DeviceRegistration("b3", "bus", "bus", null, null, "M1"), "belongs to operator metro"),
        ];
        foreach (var (registration, named) in cases)
        {
            var refused = await Assert.ThrowsAsync<UnknownReferenceException>(() => world.Services.GetRequiredService<DeviceRegistry>().AddAsync(
                registration, Path.Combine(world.Folder, "devices"), CancellationToken.None));
            Assert.Contains(named, refused.Message, StringComparison.Ordinal);
        }

        Assert.Equal(0, await world.ScalarAsync<long>("SELECT count(*) FROM devices"));
        Assert.Equal(0, await world.ScalarAsync<long>("SELECT count(*) FROM api_tokens"));
    }

    [Fact]
    public async Task Api_BadRequestFields_ProblemNamesTheFieldAndNoDotNetType()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var admin = await world.ApiAsync("admin");
        var gate = await world.AddDeviceAsync("gate-1", "metro", "metro-entry", station: "CEN");

        var answers = new List<(string Field, HttpResponseMessage Response)>
        {
            ("hourFrom", await admin.GetAsync($"/api/analytics/boardings-by-hour?from={Day}&hourFrom=seven")),
            ("operatorId", await admin.GetAsync($"/api/statements/{new string('x', 65)}/{Day}")),
            ("account", await admin.GetAsync($"/api/accounts/{new string('a', 65)}")),
            ("deviceId", await admin.GetAsync($"/api/days/{Day}/reconciliation?deviceId={new string('d', 65)}")),
            ("format", await admin.GetAsync($"/api/statements/bus/{Day}?format=xlsx")),
            ("stop", await admin.GetAsync($"/api/analytics/od?from={Day}&stop={new string('s', 65)}")),
            ("taps[0].seq", await gate.Client.PostAsync("/device/v1/taps", new StringContent("""{"deviceId":"gate-1","taps":[{"seq":"one"}]}""", Encoding.UTF8, "application/json"))),
            ("body", await gate.Client.PostAsync("/device/v1/taps", new StringContent("{\"deviceId\":", Encoding.UTF8, "application/json"))),
        };
        foreach (var (field, response) in answers)
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{field}: {(int)response.StatusCode} {body}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains(field, body, StringComparison.Ordinal);
            foreach (var dotNet in new[] { "System.", "Int32", "Int64", "Nullable", "Transit.", "Exception" })
            {
                Assert.DoesNotContain(dotNet, body, StringComparison.Ordinal);
            }

            response.Dispose();
        }
    }

    [Fact]
    public void StatementCsv_HostileOperatorTextNeutralised_RefundsStayNegativeNumbers()
    {
        var statement = new OperatorStatement(
            "=HYPERLINK(\"http://evil\")", ClearingWorld.Day, "EUR", 100, -150, -2, -148, 1, 1, [new StatementLine("refunds", 1, -150, -2, -148)]);

        Assert.Equal(
            """
            operator_id,service_day,currency,kind,charges,gross,fee,net,journeys,legs
            "'=HYPERLINK(""http://evil"")",2026-11-18,EUR,refunds,1,-150,-2,-148,,
            "'=HYPERLINK(""http://evil"")",2026-11-18,EUR,total,1,-150,-2,-148,1,1

            """.ReplaceLineEndings("\n"),
            statement.ToCsv());
    }
}
