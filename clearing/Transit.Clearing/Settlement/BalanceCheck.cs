using Npgsql;
using Transit.Clearing.Database;
using Transit.Clearing.Journeys;
using Transit.Clearing.Observability;

namespace Transit.Clearing.Settlement;

/// <summary>
/// The books of one service day, and how much of what riders were charged no fare rule priced: legs flagged unpriced
/// (e.g. bus boardings on a network whose fares need the alighting zone) and the amount the unpriced-fare policy charged
/// for them. Balanced books say nothing about whether the fares were right, so the two are always reported together.
/// </summary>
public sealed record DayBalance(
    DateOnly Day, long Charges, long OperatorShares, long Fees, long AccountDayTotals, int UnbalancedCharges, long UnpricedLegs, long UnpricedAmount,
    IReadOnlyList<IssuerBalance>? Issuers = null)
{
    /// <summary>
    /// Riders' charges = operators' shares + platform fees, every charge split exactly, the account-days agree, and each
    /// issuer's dues equal the shares and fees of its riders' charges.
    /// </summary>
    public bool Balanced =>
        Charges == checked(OperatorShares + Fees) && UnbalancedCharges == 0 && AccountDayTotals == Charges && (Issuers ?? []).All(i => i.Balanced);

    public override string ToString() =>
        $"{Day:yyyy-MM-dd}: charges {Charges} = operator shares {OperatorShares} + fees {Fees}: {(Balanced ? "balanced" : "NOT BALANCED")}" +
        (UnbalancedCharges > 0 ? $", {UnbalancedCharges} charges not split exactly" : "") +
        (AccountDayTotals != Charges ? $", account-days total {AccountDayTotals}" : "") +
        string.Concat((Issuers ?? []).Where(i => !i.Balanced).Select(i => $", {i}")) +
        (UnpricedLegs > 0 ? $"; {UnpricedLegs} legs unpriced by the fare rules, charged {UnpricedAmount} by the unpriced-fare policy" : "");
}

/// <summary>
/// One issuer's books of a day: what it owes (its riders' charges; for the home issuer, what riders are charged) against
/// the operators' shares and platform fees of those charges' settlement lines.
/// </summary>
public sealed record IssuerBalance(string IssuerId, long Dues, long OperatorShares, long Fees)
{
    public bool Balanced => Dues == checked(OperatorShares + Fees);

    public override string ToString() =>
        Balanced
            ? $"issuer {IssuerId}: dues {Dues} = operator shares {OperatorShares} + fees {Fees}"
            : $"issuer {IssuerId}: dues {Dues} <> operator shares {OperatorShares} + fees {Fees} (difference {checked(Dues - OperatorShares - Fees)})";
}

/// <summary>The books must not be out of balance by one unit.</summary>
public sealed class BalanceException(DayBalance balance) : Exception($"balance check failed for {balance}")
{
    public DayBalance Balance { get; } = balance;
}

/// <summary>Checks the balance invariant of a day and records the check.</summary>
/// <param name="metrics">Counts failed checks for alerting; null where nothing watches (a one-off check).</param>
public sealed class BalanceCheck(NpgsqlDataSource dataSource, ClearingMetrics? metrics = null)
{
    /// <summary>Computes the day's balance without recording it.</summary>
    public async Task<DayBalance> ComputeAsync(DateOnly day, CancellationToken cancellation)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellation);
        // One snapshot for all sums: clearing may be committing parts meanwhile.
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellation);
        await using var command = Sql.Command(connection, $"""
            SELECT
              (SELECT COALESCE(sum(amount), 0)::bigint FROM charges WHERE service_day = $1),
              (SELECT COALESCE(sum(net), 0)::bigint FROM settlement_lines WHERE service_day = $1),
              (SELECT COALESCE(sum(fee), 0)::bigint FROM settlement_lines WHERE service_day = $1),
              (SELECT COALESCE(sum(charged_total), 0)::bigint FROM account_days WHERE service_day = $1),
              (SELECT count(*)::int FROM charges c WHERE c.service_day = $1
                 AND c.amount <> (SELECT COALESCE(sum(gross), 0) FROM settlement_lines l WHERE l.charge_id = c.charge_id)),
              count(*), COALESCE(sum(amount + transfer_amount), 0)::bigint
            FROM journey_legs WHERE service_day = $1 AND flags & {(int)JourneyFlags.Unpriced} <> 0
            """, day);
        DayBalance balance;
        await using (var reader = await command.ExecuteReaderAsync(cancellation))
        {
            await reader.ReadAsync(cancellation);
            balance = new DayBalance(day, reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt32(4),
                reader.GetInt64(5), reader.GetInt64(6));
        }

        // Summed from the charges and from the lines separately, so a line moved, altered or lost shows at its issuer.
        var issuers = await Sql.ListAsync(connection, """
            WITH dues AS (SELECT issuer_id, sum(amount)::bigint AS dues FROM charges WHERE service_day = $1 GROUP BY 1),
            shares AS (
              SELECT c.issuer_id, sum(l.net)::bigint AS net, sum(l.fee)::bigint AS fee
              FROM settlement_lines l JOIN charges c ON c.charge_id = l.charge_id WHERE l.service_day = $1 GROUP BY 1)
            SELECT issuer_id, COALESCE(dues, 0), COALESCE(net, 0), COALESCE(fee, 0) FROM dues FULL JOIN shares USING (issuer_id) ORDER BY 1
            """, r => new IssuerBalance(r.GetString(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3)), cancellation, day);
        return balance with { Issuers = issuers };
    }

    /// <summary>Checks and records the day's balance; throws <see cref="BalanceException"/> when it does not hold.</summary>
    public async Task<DayBalance> CheckAsync(DateOnly day, CancellationToken cancellation)
    {
        var balance = await ComputeAsync(day, cancellation);
        await Sql.ExecAsync(dataSource, """
            INSERT INTO balance_checks (service_day, charges, operator_shares, fees, ok, detail) VALUES ($1, $2, $3, $4, $5, $6);
            """, cancellation, day, balance.Charges, balance.OperatorShares, balance.Fees, balance.Balanced, balance.ToString());
        await Sql.ExecAsync(dataSource, """
            UPDATE service_days SET balance_checked_at = now(), balance_ok = $2 WHERE service_day = $1
            """, cancellation, day, balance.Balanced);
        if (!balance.Balanced)
        {
            metrics?.BalanceCheckFailed();
            throw new BalanceException(balance);
        }

        return balance;
    }
}
