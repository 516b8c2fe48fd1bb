using System.Text;
using Npgsql;
using Transit.Analytics.Exports;
using Transit.Clearing.Database;
using Transit.Clearing.Settlement;
using Transit.RideCodes;

namespace Transit.Clearing.Issuers;

/// <summary>One priced journey of an issuer's rider; <paramref name="Operators"/> are the operators its legs were on, '+'-joined.</summary>
public sealed record IssuerJourney(
    string Account, int JourneyNo, DateTimeOffset StartedAt, DateTimeOffset? EndedAt, string? Category, long Fare, long CapAdjustment, long Charged,
    string? Operators);

/// <summary>What an issuer owes one operator for a day: its riders' fares there, less the fee at the agreed rate.</summary>
public sealed record IssuerDue(string OperatorId, int FeeBasisPoints, long Gross, long Fee, long Net);

/// <summary>
/// An issuer's daily statement: its riders' priced journeys and what it owes — <paramref name="Due"/> in all,
/// <paramref name="Net"/> of it to the operators and <paramref name="Fee"/> to the platform. For another issuer clearing
/// charges no rider: the issuer collects from its riders and pays this. For the home issuer it is what riders were charged.
/// </summary>
public sealed record IssuerStatement(
    string IssuerId, string Name, DateOnly Day, string? Currency, long Due, long Fee, long Net, IReadOnlyList<IssuerDue> Operators,
    IReadOnlyList<IssuerJourney> Journeys)
{
    /// <summary>
    /// The statement as CSV: a row per journey (its charged amount as gross), a row per operator owed (kind <c>due</c>)
    /// and a total row; amounts in minor units.
    /// </summary>
    public string ToCsv()
    {
        var csv = Csv.Append(new StringBuilder(), ["issuer_id", "service_day", "currency", "kind", "operator_id", "account", "journey_no", "gross", "fee_basis_points", "fee", "net"]);
        foreach (var j in Journeys)
        {
            Csv.Append(csv, [IssuerId, Day, Currency, "journey", j.Operators, j.Account, j.JourneyNo, j.Charged, null, null, null]);
        }

        foreach (var o in Operators)
        {
            Csv.Append(csv, [IssuerId, Day, Currency, "due", o.OperatorId, null, null, o.Gross, o.FeeBasisPoints, o.Fee, o.Net]);
        }

        Csv.Append(csv, [IssuerId, Day, Currency, "total", null, null, null, Due, null, Fee, Net]);
        return csv.ToString();
    }
}

/// <summary>Issuers' daily statements, from the charges, settlement lines and journeys of their riders.</summary>
public sealed class IssuerStatements(NpgsqlDataSource dataSource, Statements statements, ClearingOptions options)
{
    /// <summary>The issuer's statement for the day; null when the issuer is neither registered nor the home issuer.</summary>
    public async Task<IssuerStatement?> ForAsync(string issuerId, DateOnly day, CancellationToken cancellation)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellation);
        // One snapshot: the day may be being cleared meanwhile, and the journeys, dues and total must agree.
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellation);
        var name = issuerId == IssuerIds.Home
            ? "the operator's own issuer"
            : await Sql.ScalarAsync<string>(connection, "SELECT name FROM issuers WHERE issuer_id = $1", cancellation, issuerId);
        if (name is null)
        {
            return null;
        }

        // The home issuer's fee is taken per settlement line at the platform fee; another's once per operator and day.
        static IssuerDue Read(NpgsqlDataReader r) => new(r.GetString(0), r.GetInt32(1), r.GetInt64(2), r.GetInt64(3), r.GetInt64(4));
        var dues = issuerId == IssuerIds.Home
            ? await Sql.ListAsync(connection, """
                SELECT operator_id, $2::int, sum(gross)::bigint, sum(fee)::bigint, sum(net)::bigint FROM settlement_lines
                WHERE service_day = $1 AND issuer_id = 'home' GROUP BY 1 ORDER BY 1
                """, Read, cancellation, day, options.PlatformFeeBasisPoints)
            : await Sql.ListAsync(connection, """
                SELECT operator_id, fee_basis_points, gross, fee, net FROM issuer_dues WHERE service_day = $1 AND issuer_id = $2 ORDER BY 1
                """, Read, cancellation, day, issuerId);
        var due = await Sql.ScalarAsync<long>(connection, "SELECT COALESCE(sum(amount), 0)::bigint FROM charges WHERE service_day = $1 AND issuer_id = $2", cancellation, day, issuerId);
        // Account keys: another issuer's riders are '<issuer> <account>', the home issuer's have no space (IssuerAccounts).
        var journeys = await Sql.ListAsync(connection, """
            SELECT j.account, j.journey_no, j.started_at, j.ended_at, j.category, j.fare_amount, j.cap_adjustment, j.charged_amount,
              (SELECT string_agg(DISTINCT l.operator_id, '+' ORDER BY l.operator_id) FROM journey_legs l
               WHERE l.account = j.account AND l.service_day = j.service_day AND l.journey_no = j.journey_no)
            FROM journeys j
            WHERE j.service_day = $1 AND CASE WHEN $2 = 'home' THEN strpos(j.account, ' ') = 0 ELSE starts_with(j.account, $2 || ' ') END
            ORDER BY j.account, j.journey_no
            """,
            r => new IssuerJourney(
                IssuerAccounts.AccountOf(r.GetString(0)), r.GetInt32(1), r.GetFieldValue<DateTimeOffset>(2), r.NullableTime(3), r.NullableString(4),
                r.GetInt64(5), r.GetInt64(6), r.GetInt64(7), r.NullableString(8)),
            cancellation, day, issuerId);
        var currency = await statements.CurrencyAsync(connection, day, cancellation);
        return new IssuerStatement(issuerId, name, day, currency, due, dues.Sum(d => d.Fee), dues.Sum(d => d.Net), dues, journeys);
    }
}
