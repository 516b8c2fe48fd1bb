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
/// One issuer's books of a day. <paramref name="Dues"/>: its riders' charges (for the home issuer, what riders are
/// charged); <paramref name="LineGross"/>: the settlement lines apportioning them; <paramref name="OperatorShares"/>
/// and <paramref name="Fees"/>: for the home issuer its lines' net and fees, for another issuer its dues per operator
/// (<c>issuer_dues</c>), whose fee is taken once per operator and day.
/// </summary>
public sealed record IssuerBalance(string IssuerId, long Dues, long LineGross, long OperatorShares, long Fees)
{
    public bool Balanced => Dues == checked(OperatorShares + Fees) && LineGross == Dues;

    public override string ToString() =>
        $"issuer {IssuerId}: dues {Dues}" +
        (Dues == checked(OperatorShares + Fees)
            ? $" = operator shares {OperatorShares} + fees {Fees}"
            : $" <> operator shares {OperatorShares} + fees {Fees} (difference {checked(Dues - OperatorShares - Fees)})") +
        (LineGross == Dues ? "" : $", settlement lines {LineGross} (difference {checked(Dues - LineGross)})");
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
        // Each issuer's sums from its charges, its settlement lines and its dues separately, so a row altered, moved or
        // lost shows at its issuer.
        var issuers = await Sql.ListAsync(connection, """
            WITH dues AS (SELECT issuer_id, sum(amount)::bigint AS dues FROM charges WHERE service_day = $1 GROUP BY 1),
            lines AS (
              SELECT issuer_id, sum(gross)::bigint AS gross, sum(net)::bigint AS net, sum(fee)::bigint AS fee
              FROM settlement_lines WHERE service_day = $1 GROUP BY 1),
            owed AS (SELECT issuer_id, sum(net)::bigint AS net, sum(fee)::bigint AS fee FROM issuer_dues WHERE service_day = $1 GROUP BY 1)
            SELECT issuer_id, COALESCE(dues.dues, 0), COALESCE(lines.gross, 0),
              CASE WHEN issuer_id = 'home' THEN COALESCE(lines.net, 0) ELSE COALESCE(owed.net, 0) END,
              CASE WHEN issuer_id = 'home' THEN COALESCE(lines.fee, 0) ELSE COALESCE(owed.fee, 0) END
            FROM dues FULL JOIN lines USING (issuer_id) FULL JOIN owed USING (issuer_id) ORDER BY 1
            """, r => new IssuerBalance(r.GetString(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3), r.GetInt64(4)), cancellation, day);
        await using var command = Sql.Command(connection, $"""
            SELECT
              (SELECT COALESCE(sum(amount), 0)::bigint FROM charges WHERE service_day = $1),
              (SELECT COALESCE(sum(charged_total), 0)::bigint FROM account_days WHERE service_day = $1),
              (SELECT count(*)::int FROM charges c WHERE c.service_day = $1
                 AND c.amount <> (SELECT COALESCE(sum(gross), 0) FROM settlement_lines l WHERE l.charge_id = c.charge_id)),
              count(*), COALESCE(sum(amount + transfer_amount), 0)::bigint
            FROM journey_legs WHERE service_day = $1 AND flags & {(int)JourneyFlags.Unpriced} <> 0
            """, day);
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        await reader.ReadAsync(cancellation);
        return new DayBalance(
            day, reader.GetInt64(0), issuers.Sum(i => i.OperatorShares), issuers.Sum(i => i.Fees), reader.GetInt64(1), reader.GetInt32(2),
            reader.GetInt64(3), reader.GetInt64(4), issuers);
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
