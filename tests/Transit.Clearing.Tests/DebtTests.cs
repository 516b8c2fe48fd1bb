using System.Net;
using System.Text.Json;
using Transit.Clearing.Charging;
using Transit.Clearing.Settlement;
using Transit.RideCodes;

namespace Transit.Clearing.Tests;

[Collection(IngestCollection.Name)]
[Trait("Category", "Database")]
public sealed class DebtTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Refund_WhileTheAccountOwesMoney_PaysTheDebtInsteadOfGoingOut()
    {
        await using var world = await ClearingWorld.StartAsync(postgres, o => o.Payments.DeclineAccounts = ["eve"]);
        var west = await world.AddDeviceAsync("in-w1", "metro", "metro-entry", station: "W1");
        var central = await world.AddDeviceAsync("out-cen", "metro", "metro-exit", station: "CEN");
        await world.UploadOkAsync(west, world.Tap(west, "eve", ClearingWorld.At(8, 0)));
        await world.ClearAsync();
        Assert.Equal(400, await world.ScalarAsync<long>("SELECT debt FROM accounts WHERE account = 'eve'"));

        // The exit tap arrives late: the day costs 200, so 200 comes back, and it goes to the debt.
        await world.UploadOkAsync(central, world.Tap(central, "eve", ClearingWorld.At(8, 12)));
        var books = await world.ClearAsync();

        Assert.True(books.Balanced);
        var charges = await world.ListAsync("SELECT revision, amount, set_off, status, in_debt FROM charges WHERE account = 'eve' ORDER BY revision",
            r => (r.GetInt32(0), r.GetInt64(1), r.GetInt64(2), r.GetString(3), r.GetBoolean(4)));
        Assert.Equal([(1, 400L, 200L, "declined", true), (2, -200L, -200L, "refunded", false)], charges);
        Assert.Equal(0, await world.ScalarAsync<long>(
            "SELECT count(*) FROM payment_events e JOIN charges c USING (charge_id) WHERE c.revision = 2 AND e.kind = 'submitted'"));
        Assert.Equal(200, await world.ScalarAsync<long>("SELECT debt FROM accounts WHERE account = 'eve'"));
        Assert.True(await world.ScalarAsync<bool>("SELECT blocked FROM accounts WHERE account = 'eve'"));

        var admin = await world.ApiAsync("admin");
        using var settle = await admin.PostAsync("/api/accounts/eve/settle", null);
        Assert.Equal(200, JsonDocument.Parse(await settle.Content.ReadAsStringAsync()).RootElement.GetProperty("paid").GetInt64());
        Assert.Equal((0L, false), (await world.ListAsync("SELECT debt, blocked FROM accounts WHERE account = 'eve'", r => (r.GetInt64(0), r.GetBoolean(1)))).Single());
    }

    [Fact]
    public async Task Payments_OnSeveralWorkers_SubmitEveryChargeOnceAndBookEveryDeclineAsDebtOnce()
    {
        var provider = new RecordingPaymentProvider { Declining = { "r7", "r8" } };
        await using var world = await ClearingWorld.StartAsync(postgres, o => o.PaymentParallelism = 3, provider: provider);

        // More charges than one batch per worker, and accounts with charges on several days, so that the workers
        // share accounts and each takes several batches.
        await world.ScalarAsync<int>("""
            INSERT INTO charges (account, service_day, revision, amount, currency, idempotency_key, status)
            SELECT 'r' || (i % 2500), DATE '2026-11-01' + i / 2500, 1, 100 + i % 7, 'PLN', 'k' || i, 'pending' FROM generate_series(0, 9999) AS i
            RETURNING 1
            """);
        var result = await world.Services.GetRequiredService<PaymentService>().RunAsync(CancellationToken.None);

        Assert.Equal(10_000, provider.Submitted.Count);
        Assert.Equal(10_000, provider.Submitted.Distinct().Count());
        Assert.Equal((10_000, 9_992, 8, 0), (result.Submitted, result.Succeeded, result.Declined, result.StillOpen));
        Assert.Equal(0, await world.ScalarAsync<long>("SELECT count(*) FROM charges WHERE status NOT IN ('succeeded', 'declined')"));
        Assert.Equal(20_000, await world.ScalarAsync<long>("SELECT count(*) FROM payment_events"));
        var debts = await world.ListAsync("SELECT account, debt FROM accounts WHERE debt <> 0 ORDER BY account", r => (r.GetString(0), r.GetInt64(1)));
        var declined = await world.ListAsync(
            "SELECT account, sum(amount)::bigint FROM charges WHERE status = 'declined' GROUP BY account ORDER BY account", r => (r.GetString(0), r.GetInt64(1)));
        Assert.Equal([("r7", 100L + 101 + 102 + 103), ("r8", 101L + 102 + 103 + 104)], debts);
        Assert.Equal(declined, debts);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task SettleDebt_WhileItsRetryIsMidSubmission_CollectsTheDebtExactlyOnce(bool providerCollectsFirst)
    {
        var provider = new RecordingPaymentProvider { Declining = { "eve" } };
        await using var world = await ClearingWorld.StartAsync(postgres, configure: null, provider: provider);
        var west = await world.AddDeviceAsync("in-w1", "metro", "metro-entry", station: "W1");
        await world.UploadOkAsync(west, world.Tap(west, "eve", ClearingWorld.At(8, 0)));
        await world.ClearAsync();
        Assert.Equal(400, await world.ScalarAsync<long>("SELECT debt FROM accounts WHERE account = 'eve'"));

        // The retry is due; this time the card will pay, but the network answers later (or, in the second case,
        // answers just before the settlement's cancel reaches it).
        provider.Declining.Clear();
        provider.Immediate = false;
        provider.CollectsBeforeCancel = providerCollectsFirst;
        await Sql(world, "UPDATE charges SET next_attempt_at = now() WHERE account = 'eve'");
        var payments = world.Services.GetRequiredService<PaymentService>();
        var held = provider.HoldNextSubmission();
        var run = Task.Run(() => payments.RunAsync(CancellationToken.None));
        await held.WaitAsync(TimeSpan.FromSeconds(30));

        // The rider pays the debt in the app while the payment batch holds the retry mid-submission.
        var admin = await world.ApiAsync("admin");
        var settle = Task.Run(() => admin.PostAsync("/api/accounts/eve/settle", null));
        await WaitForLockWaitAsync(world);
        provider.Release();
        await run.WaitAsync(TimeSpan.FromSeconds(30));
        using var settled = await settle.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(HttpStatusCode.OK, settled.StatusCode);
        var byHand = JsonDocument.Parse(await settled.Content.ReadAsStringAsync()).RootElement.GetProperty("paid").GetInt64();

        // Later the card network answers whatever is still open, and the next payment runs reconcile.
        provider.CompleteAll();
        await payments.RunAsync(CancellationToken.None);
        await payments.RunAsync(CancellationToken.None);

        Assert.Equal(400, byHand + provider.CollectedFrom("eve"));
        Assert.Equal(providerCollectsFirst ? 0 : 400, byHand);
        Assert.Equal(byHand, await world.ScalarAsync<long>("SELECT paid_by_hand FROM charges WHERE account = 'eve'"));
        Assert.Equal((0L, false), (await world.ListAsync("SELECT debt, blocked FROM accounts WHERE account = 'eve'", r => (r.GetInt64(0), r.GetBoolean(1)))).Single());
        Assert.Equal(("succeeded", false), (await world.ListAsync("SELECT status, in_debt FROM charges WHERE account = 'eve'", r => (r.GetString(0), r.GetBoolean(1)))).Single());
        Assert.True((await world.Services.GetRequiredService<BalanceCheck>().CheckAsync(ClearingWorld.Day, CancellationToken.None)).Balanced);
    }

    [Fact]
    public async Task PaymentRun_ProviderHoldsAnAttemptTheBooksDoNotKnow_AdoptsItInsteadOfCollectingAgain()
    {
        // The books say the charge was never sent (a restore, or a crash after the provider accepted a request
        // whose attempt number was lost); the provider's own record says it collected. No second request goes out.
        var provider = new RecordingPaymentProvider();
        await using var world = await ClearingWorld.StartAsync(postgres, configure: null, provider: provider);
        var west = await world.AddDeviceAsync("in-w1", "metro", "metro-entry", station: "W1");
        await world.UploadOkAsync(west, world.Tap(west, "eve", ClearingWorld.At(8, 0)));
        await world.ClearAsync();
        Assert.Equal(400, provider.CollectedFrom("eve"));
        await Sql(world, "UPDATE charges SET status = 'declined', attempts = 3, in_debt = true, next_attempt_at = now(); INSERT INTO accounts (account, debt, deny_reasons) VALUES ('eve', 400, '{debt}') ON CONFLICT (account) DO UPDATE SET debt = 400, deny_reasons = '{debt}'");

        await world.Services.GetRequiredService<PaymentService>().RunAsync(CancellationToken.None);

        Assert.Equal(400, provider.CollectedFrom("eve"));
        Assert.Equal(("succeeded", false), (await world.ListAsync("SELECT status, in_debt FROM charges WHERE account = 'eve'", r => (r.GetString(0), r.GetBoolean(1)))).Single());
        Assert.Equal(0, await world.ScalarAsync<long>("SELECT debt FROM accounts WHERE account = 'eve'"));
    }

    /// <summary>Waits until some session of the test database is blocked on a row lock.</summary>
    private static async Task WaitForLockWaitAsync(ClearingWorld world)
    {
        for (var i = 0; i < 300; i++)
        {
            if (await world.ScalarAsync<long>("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'") > 0)
            {
                return;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("the settlement never waited for the payment batch's lock");
    }

    [Fact]
    public async Task Refund_LargerThanTheDebt_PaysTheDebtOffAndRefundsOnlyTheRest()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        await Sql(world, """
            INSERT INTO accounts (account, debt, deny_reasons) VALUES ('zoe', 150, '{debt}');
            INSERT INTO charges (account, service_day, revision, amount, currency, idempotency_key, status, attempts, in_debt, next_attempt_at)
            VALUES ('zoe', '2026-11-16', 1, 150, 'PLN', 'charge:zoe:2026-11-16:r1', 'declined', 1, true, now() + interval '1 day'),
                   ('zoe', '2026-11-17', 2, -400, 'PLN', 'charge:zoe:2026-11-17:r2', 'pending', 0, false, now());
            """);

        await world.Services.GetRequiredService<PaymentService>().RunAsync(CancellationToken.None);

        var charges = await world.ListAsync("SELECT revision, set_off, status, in_debt FROM charges WHERE account = 'zoe' ORDER BY revision",
            r => (r.GetInt32(0), r.GetInt64(1), r.GetString(2), r.GetBoolean(3)));
        Assert.Equal([(1, 150L, "succeeded", false), (2, -150L, "refunded", false)], charges);
        Assert.Equal((0L, false), (await world.ListAsync("SELECT debt, blocked FROM accounts WHERE account = 'zoe'", r => (r.GetInt64(0), r.GetBoolean(1)))).Single());
        Assert.Equal(1, await world.ScalarAsync<long>(
            "SELECT count(*) FROM payment_events e JOIN charges c USING (charge_id) WHERE c.revision = 2 AND e.kind = 'submitted'"));
    }

    [Fact]
    public async Task ManualDenial_OutlivesThePaidDebt_AndEndsOnlyWhenLifted()
    {
        await using var world = await ClearingWorld.StartAsync(postgres, o => o.Payments.DeclineAccounts = ["eve", "ivan"]);
        var west = await world.AddDeviceAsync("in-w1", "metro", "metro-entry", station: "W1");
        var admin = await world.ApiAsync("admin");
        // ivan is denied by hand in the key directory before clearing blocks him; eve through the API after it did.
        world.Keys.UpdateDenyList(addAccounts: ["ivan"]);
        await world.UploadOkAsync(west, world.Tap(west, "eve", ClearingWorld.At(8, 0)), world.Tap(west, "ivan", ClearingWorld.At(8, 1)));
        await world.ClearAsync();
        using (var deny = await admin.PostAsync("/api/accounts/eve/deny", null))
        {
            Assert.Equal(HttpStatusCode.OK, deny.StatusCode);
        }

        foreach (var account in new[] { "eve", "ivan" })
        {
            using var settle = await admin.PostAsync($"/api/accounts/{account}/settle", null);
            Assert.Equal(HttpStatusCode.OK, settle.StatusCode);
        }

        var publisher = world.Services.GetRequiredService<DenyListPublisher>();
        await publisher.PublishAsync(CancellationToken.None);
        Assert.Contains("eve", DenyListIn(world));
        Assert.Contains("ivan", DenyListIn(world));
        var reasons = await world.ListAsync("SELECT account, deny_reasons FROM accounts ORDER BY account", r => (r.GetString(0), string.Join(',', r.GetFieldValue<string[]>(1))));
        Assert.Equal([("eve", "manual"), ("ivan", "manual")], reasons);

        using (var lift = await admin.DeleteAsync("/api/accounts/eve/deny"))
        {
            Assert.Equal(HttpStatusCode.OK, lift.StatusCode);
        }

        await publisher.PublishAsync(CancellationToken.None);
        Assert.DoesNotContain("eve", DenyListIn(world));
        Assert.Contains("ivan", DenyListIn(world));
        Assert.True((await world.Services.GetRequiredService<BalanceCheck>().CheckAsync(ClearingWorld.Day, CancellationToken.None)).Balanced);
    }

    private static IReadOnlySet<string> DenyListIn(ClearingWorld world) =>
        DenyList.Open(world.Keys.ReadSignedDenyList(), world.Keys.RootPublicKey, world.Keys.KeySet).Accounts;

    private static Task Sql(ClearingWorld world, string sql) => Database.Sql.ExecAsync(world.Database.DataSource, sql, CancellationToken.None);
}
