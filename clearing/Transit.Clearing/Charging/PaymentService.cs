using System.Globalization;
using Microsoft.Extensions.Logging;
using Npgsql;
using Transit.Clearing.Database;

namespace Transit.Clearing.Charging;

/// <summary>Counts of one payment run.</summary>
public sealed record PaymentRunResult(int Submitted, int Succeeded, int Declined, int StillOpen)
{
    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture, $"{Submitted} submitted, {Succeeded} succeeded, {Declined} declined, {StillOpen} awaiting a result");
}

/// <summary>
/// Moves charges through the provider: pending → submitted → succeeded or declined; declined charges become debt
/// (and the account is blocked) and are retried after <see cref="ClearingOptions.PaymentRetryDelay"/>; a retry that
/// succeeds pays the debt off. Rows are claimed with <c>FOR UPDATE SKIP LOCKED</c>, so several processes share the
/// work, and every provider request carries an idempotency key (charge key and attempt number), so a crash between
/// the provider's answer and the commit repeats the request harmlessly.
/// </summary>
public sealed class PaymentService(NpgsqlDataSource dataSource, IPaymentProvider provider, ClearingOptions options, ILogger<PaymentService> logger)
{
    private const int BatchSize = 2_000;

    /// <summary>Processes every charge that is due now, batch by batch.</summary>
    public async Task<PaymentRunResult> RunAsync(CancellationToken cancellation)
    {
        await SetOffRefundsAsync(cancellation);
        int submitted = 0, succeeded = 0, declined = 0;
        long after = 0;
        while (true)
        {
            var batch = await RunBatchAsync(after, cancellation);
            after = batch.Last;
            submitted += batch.Submitted;
            succeeded += batch.Succeeded;
            declined += batch.Declined;
            if (batch.Claimed == 0)
            {
                break;
            }
        }

        var open = await Sql.ScalarAsync<long>(dataSource, "SELECT count(*) FROM charges WHERE status IN ('pending', 'submitted')", cancellation);
        var result = new PaymentRunResult(submitted, succeeded, declined, (int)open);
        logger.LogInformation("payments: {Result}", result);
        return result;
    }

    /// <summary>Records that the rider paid the account's debt some other way (e.g. in the app): the debt is cleared and the account unblocked.</summary>
    public async Task<long> SettleDebtAsync(string account, CancellationToken cancellation)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellation);
        await using var transaction = await connection.BeginTransactionAsync(cancellation);
        var settled = await Sql.ListAsync(connection, """
            UPDATE charges SET status = 'succeeded', in_debt = false, updated_at = now()
            WHERE account = $1 AND in_debt RETURNING charge_id, amount - set_off
            """, r => (Id: r.GetInt64(0), Amount: r.GetInt64(1)), cancellation, account);
        foreach (var (id, _) in settled)
        {
            await Sql.ExecAsync(connection, "INSERT INTO payment_events (charge_id, kind, detail) VALUES ($1, 'settled', 'debt paid by the rider')", cancellation, id);
        }

        var total = settled.Sum(s => s.Amount);
        await Sql.ExecAsync(connection, $"""
            UPDATE accounts SET debt = debt - $2, deny_reasons = {DebtReason("debt - $2")}, updated_at = now() WHERE account = $1
            """, cancellation, account, total);
        await transaction.CommitAsync(cancellation);
        return total;
    }

    private async Task<(int Claimed, long Last, int Submitted, int Succeeded, int Declined)> RunBatchAsync(long after, CancellationToken cancellation)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellation);
        await using var transaction = await connection.BeginTransactionAsync(cancellation);
        var charges = await Sql.ListAsync(connection, """
            SELECT charge_id, account, amount - set_off, currency, idempotency_key, status, attempts, in_debt FROM charges c
            WHERE status IN ('pending', 'submitted', 'declined') AND next_attempt_at <= now() AND charge_id > $1
              AND NOT (status = 'pending' AND amount - set_off < 0 AND EXISTS (SELECT 1 FROM accounts a WHERE a.account = c.account AND a.debt > 0))
            ORDER BY charge_id LIMIT $2 FOR UPDATE SKIP LOCKED
            """,
            r => new OpenCharge(r.GetInt64(0), r.GetString(1), r.GetInt64(2), r.GetString(3), r.GetString(4), r.GetString(5), r.GetInt32(6), r.GetBoolean(7)),
            cancellation, after, BatchSize);
        int submitted = 0, succeeded = 0, declined = 0;
        var updates = new List<(long Id, string Status, string Reference, int Attempts, bool InDebt)>();
        var events = new List<(long Id, string Kind, string Detail)>();
        var debts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var charge in charges)
        {
            var attempt = charge.Status == "submitted" ? charge.Attempts : charge.Attempts + 1;
            var request = new PaymentRequest(
                string.Create(CultureInfo.InvariantCulture, $"{charge.Key}/a{attempt}"), charge.Account, charge.Amount, charge.Currency);
            var reference = await provider.SubmitAsync(request, cancellation);
            if (charge.Status != "submitted")
            {
                submitted++;
                events.Add((charge.Id, "submitted", request.RequestKey));
            }

            switch (await provider.GetStateAsync(reference, cancellation))
            {
                case PaymentState.Pending:
                    updates.Add((charge.Id, "submitted", reference, attempt, charge.InDebt));
                    break;
                case PaymentState.Succeeded:
                    succeeded++;
                    var status = charge.Amount < 0 ? "refunded" : "succeeded";
                    updates.Add((charge.Id, status, reference, attempt, false));
                    events.Add((charge.Id, status, reference));
                    if (charge.InDebt)
                    {
                        debts[charge.Account] = checked(debts.GetValueOrDefault(charge.Account) - charge.Amount);
                    }

                    break;
                default:
                    declined++;
                    updates.Add((charge.Id, "declined", reference, attempt, true));
                    events.Add((charge.Id, "declined", reference));
                    if (!charge.InDebt)
                    {
                        debts[charge.Account] = checked(debts.GetValueOrDefault(charge.Account) + charge.Amount);
                    }

                    break;
            }
        }

        // One statement per kind of change, whatever the batch size.
        await Sql.ExecAsync(connection, """
            UPDATE charges c SET status = u.status, provider_ref = u.ref, attempts = u.attempts, in_debt = u.in_debt, updated_at = now(),
              next_attempt_at = CASE WHEN u.status = 'declined' THEN now() + $6 ELSE c.next_attempt_at END,
              last_error = CASE WHEN u.status = 'declined' THEN 'declined by the provider' ELSE c.last_error END
            FROM unnest($1::bigint[], $2::text[], $3::text[], $4::int[], $5::boolean[]) AS u(id, status, ref, attempts, in_debt)
            WHERE c.charge_id = u.id
            """, cancellation, updates.Select(u => u.Id).ToArray(), updates.Select(u => u.Status).ToArray(), updates.Select(u => u.Reference).ToArray(),
            updates.Select(u => u.Attempts).ToArray(), updates.Select(u => u.InDebt).ToArray(), options.PaymentRetryDelay);
        await Sql.ExecAsync(connection, """
            INSERT INTO payment_events (charge_id, kind, detail) SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[])
            """, cancellation, events.Select(e => e.Id).ToArray(), events.Select(e => e.Kind).ToArray(), events.Select(e => e.Detail).ToArray());
        if (debts.Count > 0)
        {
            var accounts = debts.Keys.Order(StringComparer.Ordinal).ToArray();
            await Sql.ExecAsync(connection, "INSERT INTO accounts (account) SELECT unnest($1::text[]) ORDER BY 1 ON CONFLICT DO NOTHING", cancellation, Sql.Typed(accounts, NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text));
            await Sql.ExecAsync(connection, $"""
                UPDATE accounts a SET debt = a.debt + d.change, deny_reasons = {DebtReason("a.debt + d.change", "a.deny_reasons")}, updated_at = now()
                FROM unnest($1::text[], $2::bigint[]) AS d(account, change) WHERE a.account = d.account
                """, cancellation, accounts, accounts.Select(a => debts[a]).ToArray());
        }

        await transaction.CommitAsync(cancellation);
        return (charges.Count, charges.Count == 0 ? after : charges[^1].Id, submitted, succeeded, declined);
    }

    /// <summary>
    /// Sets pending refunds off against the debt of their account before anything goes to the provider: the refund
    /// pays the oldest charges in debt first, and only what is left of it (if anything) is paid out. One transaction
    /// per account, holding the account row, so no payment batch changes its debt meanwhile; an account with a charge in
    /// debt being retried right now (claimed, or submitted and awaiting its result) is left for the next run, and its
    /// refunds wait with it.
    /// </summary>
    private async Task SetOffRefundsAsync(CancellationToken cancellation)
    {
        var accounts = await Sql.ListAsync(dataSource, """
            SELECT DISTINCT c.account FROM charges c JOIN accounts a USING (account)
            WHERE c.status = 'pending' AND c.amount - c.set_off < 0 AND a.debt > 0 ORDER BY 1
            """, r => r.GetString(0), cancellation);
        foreach (var account in accounts)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellation);
            await using var transaction = await connection.BeginTransactionAsync(cancellation);
            var debt = await Sql.ScalarAsync<long>(connection, "SELECT debt FROM accounts WHERE account = $1 FOR UPDATE", cancellation, account);
            var open = await Sql.ListAsync(connection, """
                SELECT charge_id, amount - set_off FROM charges
                WHERE account = $1 AND ((in_debt AND status = 'declined') OR (status = 'pending' AND amount - set_off < 0)) ORDER BY charge_id
                FOR UPDATE SKIP LOCKED
                """, r => (Id: r.GetInt64(0), Due: r.GetInt64(1)), cancellation, account);
            var owed = open.Where(c => c.Due > 0).ToList();
            var refunds = open.Where(c => c.Due < 0).ToList();
            if (owed.Sum(c => c.Due) != debt || refunds.Count == 0)
            {
                continue;
            }

            var setOff = new Dictionary<long, long>();
            var o = 0;
            foreach (var refund in refunds)
            {
                var left = -refund.Due;
                for (; o < owed.Count && left > 0; o++)
                {
                    var take = Math.Min(left, owed[o].Due - setOff.GetValueOrDefault(owed[o].Id));
                    setOff[owed[o].Id] = setOff.GetValueOrDefault(owed[o].Id) + take;
                    setOff[refund.Id] = setOff.GetValueOrDefault(refund.Id) - take;
                    left -= take;
                    if (setOff[owed[o].Id] < owed[o].Due)
                    {
                        break;
                    }
                }
            }

            var due = open.ToDictionary(c => c.Id, c => c.Due);
            var ids = setOff.Keys.Order().ToArray();
            await Sql.ExecAsync(connection, """
                UPDATE charges c SET set_off = c.set_off + s.amount, updated_at = now(),
                  status = CASE WHEN s.settled AND c.amount > 0 THEN 'succeeded' WHEN s.settled THEN 'refunded' ELSE c.status END,
                  in_debt = c.in_debt AND NOT s.settled
                FROM unnest($1::bigint[], $2::bigint[], $3::boolean[]) AS s(id, amount, settled) WHERE c.charge_id = s.id
                """, cancellation, ids, ids.Select(id => setOff[id]).ToArray(), ids.Select(id => setOff[id] == due[id]).ToArray());
            await Sql.ExecAsync(connection, """
                INSERT INTO payment_events (charge_id, kind, detail)
                SELECT id, 'set-off', amount || ' set off against ' || CASE WHEN amount > 0 THEN 'a refund' ELSE 'the debt' END
                FROM unnest($1::bigint[], $2::bigint[]) AS s(id, amount)
                """, cancellation, ids, ids.Select(id => setOff[id]).ToArray());
            var paid = owed.Sum(c => setOff.GetValueOrDefault(c.Id));
            await Sql.ExecAsync(connection, $"""
                UPDATE accounts SET debt = debt - $2, deny_reasons = {DebtReason("debt - $2")}, updated_at = now() WHERE account = $1
                """, cancellation, account, paid);
            await transaction.CommitAsync(cancellation);
            logger.LogInformation("set off {Paid} of refunds against the debt of {Account}", paid, account);
        }
    }

    /// <summary>The account's deny reasons with <c>debt</c> present exactly when <paramref name="debt"/> (an SQL expression) is positive.</summary>
    internal static string DebtReason(string debt, string reasons = "deny_reasons") =>
        $"array_remove({reasons}, 'debt') || CASE WHEN {debt} > 0 THEN '{{debt}}'::text[] ELSE '{{}}'::text[] END";

    private sealed record OpenCharge(long Id, string Account, long Amount, string Currency, string Key, string Status, int Attempts, bool InDebt);
}
