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
    private const int BatchSize = 500;

    /// <summary>Processes every charge that is due now, batch by batch.</summary>
    public async Task<PaymentRunResult> RunAsync(CancellationToken cancellation)
    {
        int submitted = 0, succeeded = 0, declined = 0;
        var seen = new HashSet<long>();
        while (true)
        {
            var batch = await RunBatchAsync(seen, cancellation);
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
            WHERE account = $1 AND in_debt RETURNING charge_id, amount
            """, r => (Id: r.GetInt64(0), Amount: r.GetInt64(1)), cancellation, account);
        foreach (var (id, _) in settled)
        {
            await Sql.ExecAsync(connection, "INSERT INTO payment_events (charge_id, kind, detail) VALUES ($1, 'settled', 'debt paid by the rider')", cancellation, id);
        }

        var total = settled.Sum(s => s.Amount);
        await Sql.ExecAsync(connection, """
            UPDATE accounts SET debt = debt - $2, blocked = (debt - $2) > 0, updated_at = now() WHERE account = $1
            """, cancellation, account, total);
        await transaction.CommitAsync(cancellation);
        return total;
    }

    private async Task<(int Claimed, int Submitted, int Succeeded, int Declined)> RunBatchAsync(HashSet<long> seen, CancellationToken cancellation)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellation);
        await using var transaction = await connection.BeginTransactionAsync(cancellation);
        var charges = await Sql.ListAsync(connection, """
            SELECT charge_id, account, amount, currency, idempotency_key, status, attempts, in_debt FROM charges
            WHERE status IN ('pending', 'submitted', 'declined') AND next_attempt_at <= now() AND NOT (charge_id = ANY($1))
            ORDER BY charge_id LIMIT $2 FOR UPDATE SKIP LOCKED
            """,
            r => new OpenCharge(r.GetInt64(0), r.GetString(1), r.GetInt64(2), r.GetString(3), r.GetString(4), r.GetString(5), r.GetInt32(6), r.GetBoolean(7)),
            cancellation, seen.ToArray(), BatchSize);
        int submitted = 0, succeeded = 0, declined = 0;
        foreach (var charge in charges)
        {
            seen.Add(charge.Id);
            var attempt = charge.Status == "submitted" ? charge.Attempts : charge.Attempts + 1;
            var request = new PaymentRequest(
                string.Create(CultureInfo.InvariantCulture, $"{charge.Key}/a{attempt}"), charge.Account, charge.Amount, charge.Currency);
            var reference = await provider.SubmitAsync(request, cancellation);
            if (charge.Status != "submitted")
            {
                submitted++;
                await Event(connection, charge.Id, "submitted", request.RequestKey, cancellation);
            }

            var state = await provider.GetStateAsync(reference, cancellation);
            switch (state)
            {
                case PaymentState.Pending:
                    await Sql.ExecAsync(connection, """
                        UPDATE charges SET status = 'submitted', provider_ref = $2, attempts = $3, updated_at = now() WHERE charge_id = $1
                        """, cancellation, charge.Id, reference, attempt);
                    break;
                case PaymentState.Succeeded:
                    succeeded++;
                    await Sql.ExecAsync(connection, """
                        UPDATE charges SET status = $4, provider_ref = $2, attempts = $3, in_debt = false, updated_at = now() WHERE charge_id = $1
                        """, cancellation, charge.Id, reference, attempt, charge.Amount < 0 ? "refunded" : "succeeded");
                    await Event(connection, charge.Id, charge.Amount < 0 ? "refunded" : "succeeded", reference, cancellation);
                    if (charge.InDebt)
                    {
                        await ChangeDebt(connection, charge.Account, -charge.Amount, cancellation);
                    }

                    break;
                default:
                    declined++;
                    await Sql.ExecAsync(connection, """
                        UPDATE charges SET status = 'declined', provider_ref = $2, attempts = $3, in_debt = true, next_attempt_at = now() + $4,
                          last_error = 'declined by the provider', updated_at = now() WHERE charge_id = $1
                        """, cancellation, charge.Id, reference, attempt, options.PaymentRetryDelay);
                    await Event(connection, charge.Id, "declined", reference, cancellation);
                    if (!charge.InDebt)
                    {
                        await ChangeDebt(connection, charge.Account, charge.Amount, cancellation);
                    }

                    break;
            }
        }

        await transaction.CommitAsync(cancellation);
        return (charges.Count, submitted, succeeded, declined);
    }

    private static Task ChangeDebt(NpgsqlConnection connection, string account, long change, CancellationToken cancellation) =>
        Sql.ExecAsync(connection, """
            INSERT INTO accounts (account, debt, blocked) VALUES ($1, GREATEST($2, 0), $2 > 0)
            ON CONFLICT (account) DO UPDATE SET debt = accounts.debt + $2, blocked = accounts.debt + $2 > 0, updated_at = now()
            """, cancellation, account, change);

    private static Task Event(NpgsqlConnection connection, long chargeId, string kind, string detail, CancellationToken cancellation) =>
        Sql.ExecAsync(connection, "INSERT INTO payment_events (charge_id, kind, detail) VALUES ($1, $2, $3)", cancellation, chargeId, kind, detail);

    private sealed record OpenCharge(long Id, string Account, long Amount, string Currency, string Key, string Status, int Attempts, bool InDebt);
}
