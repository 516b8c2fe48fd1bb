using Npgsql;
using Transit.Clearing.Database;
using Transit.Clearing.Settlement;

namespace Transit.Clearing.Issuers;

/// <summary>What one issuer owes one operator for a day: the gross of its riders' lines, the fee at the pair's rate, the net.</summary>
public sealed record IssuerOperatorDue(string IssuerId, string OperatorId, long Gross, int FeeBasisPoints, long Fee, long Net);

/// <summary>
/// The settlement stage's last step: what each issuer other than the home issuer owes each operator for the day. Pure:
/// the fee is the pair's rate on the pair's whole day, rounded once (<see cref="Apportionment.Fee"/>), so it is exactly
/// what the agreement says however many riders there were. The rate is the acceptance in force that day; a leg the
/// fare rules put on an operator that does not accept the issuer (its taps were billable at the device's operator) is
/// settled at the platform fee.
/// </summary>
public static class IssuerDues
{
    /// <summary>The dues of <paramref name="day"/> from each (issuer, operator) pair's gross under <paramref name="terms"/>.</summary>
    public static IReadOnlyList<IssuerOperatorDue> Of(
        DateOnly day, IReadOnlyList<(string IssuerId, string OperatorId, long Gross)> pairs, IssuerSnapshot terms, int platformFeeBasisPoints) =>
        [.. pairs.Select(p =>
        {
            var basisPoints = terms.InForce(p.OperatorId, p.IssuerId, day)?.FeeBasisPoints ?? platformFeeBasisPoints;
            var fee = Apportionment.Fee(p.Gross, basisPoints);
            return new IssuerOperatorDue(p.IssuerId, p.OperatorId, p.Gross, basisPoints, fee, checked(p.Gross - fee));
        })];

    /// <summary>
    /// Recomputes the day's <c>issuer_dues</c> from all its settlement lines, in one transaction under the day's lock: a
    /// crash leaves the previous dues, which the balance check then finds short and the next run replaces.
    /// </summary>
    public static async Task SettleAsync(
        NpgsqlDataSource dataSource, DateOnly day, IssuerSnapshot terms, int platformFeeBasisPoints, CancellationToken cancellation)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellation);
        await using var transaction = await connection.BeginTransactionAsync(cancellation);
        await Sql.ExecAsync(connection, "SELECT pg_advisory_xact_lock($1, -1)", cancellation, day.DayNumber);
        var pairs = await Sql.ListAsync(connection, """
            SELECT issuer_id, operator_id, sum(gross)::bigint FROM settlement_lines WHERE service_day = $1 AND issuer_id <> 'home' GROUP BY 1, 2 ORDER BY 1, 2
            """, r => (IssuerId: r.GetString(0), OperatorId: r.GetString(1), Gross: r.GetInt64(2)), cancellation, day);
        await Sql.ExecAsync(connection, "DELETE FROM issuer_dues WHERE service_day = $1", cancellation, day);
        foreach (var due in Of(day, pairs, terms, platformFeeBasisPoints))
        {
            await Sql.ExecAsync(connection, """
                INSERT INTO issuer_dues (service_day, issuer_id, operator_id, gross, fee_basis_points, fee, net) VALUES ($1, $2, $3, $4, $5, $6, $7)
                """, cancellation, day, due.IssuerId, due.OperatorId, due.Gross, due.FeeBasisPoints, due.Fee, due.Net);
        }

        await transaction.CommitAsync(cancellation);
    }
}
