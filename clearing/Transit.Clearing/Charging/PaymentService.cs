using System.Globalization;
using Microsoft.Extensions.Logging;
using Npgsql;
using Transit.Clearing.Database;
using Transit.Clearing.Observability;

namespace Transit.Clearing.Charging;

/// <summary>Counts of one payment run.</summary>
public sealed record PaymentRunResult(int Submitted, int Succeeded, int Declined, int StillOpen)
{
    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture, $"{Submitted} submitted, {Succeeded} succeeded, {Declined} declined, {StillOpen} awaiting a result");
}

/// <summary>What a settlement by hand did: paid by the rider, found collected by the provider, left in flight, and the debt left.</summary>
public sealed record DebtSettlement(long PaidByHand, long CollectedByProvider, int InFlight, long DebtLeft);

/// <summary>
/// Moves charges through the provider: pending → submitted → succeeded or declined; declined charges become debt
/// (and the account is blocked) and are retried after <see cref="ClearingOptions.PaymentRetryDelay"/>; a retry that
/// succeeds pays the debt off. Rows are claimed with <c>FOR UPDATE SKIP LOCKED</c>, so several processes share the
/// work, and every provider request carries an idempotency key (charge key and attempt number), so a crash between
/// the provider's answer and the commit repeats the request harmlessly.
/// </summary>
public sealed class PaymentService(
    NpgsqlDataSource dataSource, IPaymentProvider provider, ClearingOptions options, ClearingMetrics metrics, ILogger<PaymentService> logger)
{
    private const int BatchSize = 2_000;

    /// <summary>
    /// Processes every charge that is due now, batch by batch, on <see cref="ClearingOptions.PaymentParallelism"/>
    /// workers that split the charges by id (each batch is one transaction; the database work is most of a batch's
    /// cost, so workers on separate connections use the machine's other cores).
    /// </summary>
    public async Task<PaymentRunResult> RunAsync(CancellationToken cancellation)
    {
        await SetOffRefundsAsync(cancellation);
        // A crash test's pause must find exactly one request at the provider.
        var workers = options.PauseInsidePayments ? 1 : Math.Max(1, options.PaymentParallelism);
        var runs = await Task.WhenAll(Enumerable.Range(0, workers).Select(w => RunWorkerAsync(w, workers, cancellation)));
        var open = await Sql.ScalarAsync<long>(dataSource, "SELECT count(*) FROM charges WHERE status IN ('pending', 'submitted')", cancellation);
        var result = new PaymentRunResult(runs.Sum(r => r.Submitted), runs.Sum(r => r.Succeeded), runs.Sum(r => r.Declined), (int)open);
        logger.LogInformation("payments: {Result}", result);
        return result;
    }

    private async Task<(int Submitted, int Succeeded, int Declined)> RunWorkerAsync(int worker, int workers, CancellationToken cancellation)
    {
        int submitted = 0, succeeded = 0, declined = 0;
        long after = 0;
        while (true)
        {
            var batch = await RunBatchAsync(after, worker, workers, cancellation);
            after = batch.Last;
            submitted += batch.Submitted;
            succeeded += batch.Succeeded;
            declined += batch.Declined;
            metrics.PaymentsDeclined(batch.Declined);
            if (batch.Claimed == 0)
            {
                return (submitted, succeeded, declined);
            }
        }
    }

    /// <summary>
    /// Records that the rider paid the account's debt some other way (e.g. in the app). A charge in debt whose retry
    /// is still at the provider is resolved first: the settlement waits for any payment batch holding it (row locks),
    /// then cancels the request at the provider. If the provider collected it after all, that charge is paid by the
    /// provider and not by hand; if the provider cannot decide yet, the charge stays in debt and is reported in
    /// flight. Only what the provider did not collect is recorded as paid by hand (<c>charges.paid_by_hand</c>).
    /// </summary>
    public async Task<DebtSettlement> SettleDebtAsync(string account, CancellationToken cancellation)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellation);
        await using var transaction = await connection.BeginTransactionAsync(cancellation);
        // Charges before the account row, in the order payment batches take them, so the two never deadlock.
        var inDebt = await Sql.ListAsync(connection, """
            SELECT charge_id, amount - set_off, status, provider_ref FROM charges WHERE account = $1 AND in_debt ORDER BY charge_id FOR UPDATE
            """, r => (Id: r.GetInt64(0), Due: r.GetInt64(1), Status: r.GetString(2), Reference: r.NullableString(3)), cancellation, account);
        await Sql.ExecAsync(connection, "SELECT 1 FROM accounts WHERE account = $1 FOR UPDATE", cancellation, account);
        var byHand = new List<(long Id, long Amount)>();
        var byProvider = new List<(long Id, long Amount, string Reference)>();
        var inFlight = 0;
        foreach (var charge in inDebt)
        {
            var state = charge is { Status: "submitted", Reference: { } reference }
                ? await provider.CancelAsync(reference, cancellation)
                : PaymentState.Declined;
            switch (state)
            {
                case PaymentState.Succeeded:
                    byProvider.Add((charge.Id, charge.Due, charge.Reference!));
                    break;
                case PaymentState.Pending:
                    inFlight++;
                    break;
                default:
                    byHand.Add((charge.Id, charge.Due));
                    break;
            }
        }

        var paid = byHand.Concat(byProvider.Select(p => (p.Id, p.Amount))).ToList();
        await Sql.ExecAsync(connection, """
            UPDATE charges c SET status = 'succeeded', in_debt = false, paid_by_hand = c.paid_by_hand + p.by_hand, updated_at = now()
            FROM unnest($1::bigint[], $2::bigint[]) AS p(id, by_hand) WHERE c.charge_id = p.id
            """, cancellation, paid.Select(p => p.Id).ToArray(), paid.Select(p => byHand.Contains(p) ? p.Amount : 0L).ToArray());
        var events = byHand.Select(c => (c.Id, Kind: "settled", Detail: string.Create(CultureInfo.InvariantCulture, $"{c.Amount} paid by the rider")))
            .Concat(byProvider.Select(c => (c.Id, Kind: "succeeded", Detail: c.Reference + " collected before the settlement could cancel it")))
            .ToList();
        await Sql.ExecAsync(connection, """
            INSERT INTO payment_events (charge_id, kind, detail) SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[])
            """, cancellation, events.Select(e => e.Id).ToArray(), events.Select(e => e.Kind).ToArray(), events.Select(e => e.Detail).ToArray());
        var total = paid.Sum(p => p.Amount);
        var debtLeft = await Sql.ScalarAsync<long>(connection, $"""
            UPDATE accounts SET debt = debt - $2, deny_reasons = {DebtReason("debt - $2")}, updated_at = now() WHERE account = $1 RETURNING debt
            """, cancellation, account, total);
        await transaction.CommitAsync(cancellation);
        var result = new DebtSettlement(byHand.Sum(c => c.Amount), byProvider.Sum(c => c.Amount), inFlight, debtLeft);
        logger.LogInformation("settled the debt of {Account}: {Result}", account, result);
        return result;
    }

    private async Task<(int Claimed, long Last, int Submitted, int Succeeded, int Declined)> RunBatchAsync(long after, int worker, int workers, CancellationToken cancellation)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellation);
        await using var transaction = await connection.BeginTransactionAsync(cancellation);

        // The planner cannot estimate the share a worker's modulo takes, prices the claim high enough for PostgreSQL's
        // JIT, and compiling it cost five times the claim itself on every batch (EXPLAIN ANALYZE: 17 ms of work, 108 ms in all).
        await Sql.ExecAsync(connection, "SET LOCAL jit = off", cancellation);
        var charges = await Sql.ListAsync(connection, """
            SELECT charge_id, account, amount - set_off, currency, idempotency_key, status, attempts, in_debt FROM charges c
            WHERE status IN ('pending', 'submitted', 'declined') AND next_attempt_at <= now() AND charge_id > $1 AND charge_id % $3 = $4
              AND NOT (status = 'pending' AND amount - set_off < 0 AND EXISTS (SELECT 1 FROM accounts a WHERE a.account = c.account AND a.debt > 0))
            ORDER BY charge_id LIMIT $2 FOR UPDATE SKIP LOCKED
            """,
            r => new OpenCharge(r.GetInt64(0), r.GetString(1), r.GetInt64(2), r.GetString(3), r.GetString(4), r.GetString(5), r.GetInt32(6), r.GetBoolean(7)),
            cancellation, after, BatchSize, (long)workers, (long)worker);
        int submitted = 0, succeeded = 0, declined = 0;
        var updates = new List<(long Id, string Status, string Reference, int Attempts, bool InDebt)>();
        var events = new List<(long Id, string Kind, string Detail)>();
        var debts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var charge in charges)
        {
            var (attempt, reference, state) = await ReconcileAsync(charge, cancellation);
            if (reference is null)
            {
                var request = new PaymentRequest(
                    string.Create(CultureInfo.InvariantCulture, $"{charge.Key}/a{attempt}"), charge.Account, charge.Amount, charge.Currency);
                reference = await provider.SubmitAsync(request, cancellation);
                if (options.PauseInsidePayments)
                {
                    // Crash tests kill the process here: the provider holds the request, the books do not know it yet.
                    Console.WriteLine($"payments: {request.RequestKey} at the provider, not committed; pausing");
                    await Task.Delay(Timeout.Infinite, cancellation);
                }

                if (charge.Status != "submitted")
                {
                    submitted++;
                    events.Add((charge.Id, "submitted", request.RequestKey));
                }
            }

            switch (state ?? await provider.GetStateAsync(reference, cancellation))
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
                    // Declined, or cancelled by a settlement that did not commit: no money moved, so it is retried.
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
            var accountParam = Sql.Typed(accounts, NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text);
            await Sql.ExecAsync(connection, "INSERT INTO accounts (account) SELECT unnest($1::text[]) ORDER BY 1 ON CONFLICT DO NOTHING", cancellation, accountParam);
            // Workers running side by side may share accounts: each takes their rows in one order, so none waits on another in a circle.
            await Sql.ExecAsync(connection, "SELECT 1 FROM accounts WHERE account = ANY($1) ORDER BY account FOR UPDATE", cancellation, accountParam);
            await Sql.ExecAsync(connection, $"""
                UPDATE accounts a SET debt = a.debt + d.change, deny_reasons = {DebtReason("a.debt + d.change", "a.deny_reasons")}, updated_at = now()
                FROM unnest($1::text[], $2::bigint[]) AS d(account, change) WHERE a.account = d.account
                """, cancellation, accounts, accounts.Select(a => debts[a]).ToArray());
        }

        await transaction.CommitAsync(cancellation);
        return (charges.Count, charges.Count == 0 ? after : charges[^1].Id, submitted, succeeded, declined);
    }

    /// <summary>
    /// Before a retry, the provider's own record of the charge decides, not the books alone: an earlier attempt the
    /// provider collected (or still holds open) is adopted instead of sending a new request that would collect the
    /// charge a second time. First attempts skip the look-up: their idempotency key already makes a repeat harmless.
    /// </summary>
    private async Task<(int Attempt, string? Reference, PaymentState? State)> ReconcileAsync(OpenCharge charge, CancellationToken cancellation)
    {
        if (charge.Status == "submitted")
        {
            return (charge.Attempts, null, null);
        }

        if (charge.Attempts == 0)
        {
            return (1, null, null);
        }

        var known = await provider.PaymentsOfAsync(charge.Key, cancellation);
        var open = known.FirstOrDefault(p => p.State == PaymentState.Succeeded) ?? known.FirstOrDefault(p => p.State == PaymentState.Pending);
        var highest = known.Select(p => AttemptOf(p.RequestKey)).DefaultIfEmpty(0).Max();
        return open is null
            ? (Math.Max(charge.Attempts, highest) + 1, null, null)
            : (Math.Max(charge.Attempts, AttemptOf(open.RequestKey)), open.Reference, open.State);

        static int AttemptOf(string requestKey) =>
            int.TryParse(requestKey.AsSpan(requestKey.LastIndexOf("/a", StringComparison.Ordinal) + 2), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
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
