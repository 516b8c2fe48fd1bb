using System.Text;
using Npgsql;
using Transit.Analytics.Exports;
using Transit.Clearing.Database;
using Transit.Clearing.Pricing;

namespace Transit.Clearing.Settlement;

/// <summary>One line of an operator's statement: what one kind of charge brought the operator that day.</summary>
public sealed record StatementLine(string Kind, long Charges, long Gross, long Fee, long Net);

/// <summary>An operator's gross, platform fee and net of a day, over all issuers.</summary>
public sealed record OperatorTotal(string OperatorId, long Gross, long Fee, long Net);

/// <summary>
/// What one issuer's riders brought the operator that day (the home issuer's: the operator's own riders): their
/// settlement lines, the fee (home: per line at the platform fee; another issuer: at the agreed rate on the day's gross).
/// </summary>
public sealed record IssuerShare(string IssuerId, long Charges, long Gross, long Fee, long Net);

/// <summary>
/// An operator's statement for one service day. <paramref name="UnpricedLegs"/> of its legs no fare rule priced; the
/// unpriced-fare policy charged <paramref name="UnpricedAmount"/> for them (part of the gross, so the operator sees how
/// much of its revenue is estimated).
/// </summary>
public sealed record OperatorStatement(
    string OperatorId, DateOnly Day, string? Currency, int FeeBasisPoints, long Gross, long Fee, long Net, long Journeys, long Legs,
    IReadOnlyList<StatementLine> Lines, long UnpricedLegs = 0, long UnpricedAmount = 0, IReadOnlyList<IssuerShare>? Issuers = null)
{
    /// <summary>
    /// The statement as CSV (one row per line and a total row), amounts in minor units (refunds negative); the journeys
    /// and legs the operator carried that day are on the total row (they are not split by kind of charge).
    /// </summary>
    public string ToCsv()
    {
        var csv = Csv.Append(new StringBuilder(), ["operator_id", "service_day", "currency", "kind", "charges", "gross", "fee", "net", "journeys", "legs"]);
        foreach (var l in Lines)
        {
            Csv.Append(csv, [OperatorId, Day, Currency, l.Kind, l.Charges, l.Gross, l.Fee, l.Net, null, null]);
        }

        // Shares by issuer only once another issuer's riders rode: an operator of the home issuer alone reads what it always did.
        if (Issuers is { } issuers && issuers.Any(i => i.IssuerId != Transit.RideCodes.IssuerIds.Home))
        {
            foreach (var i in issuers)
            {
                Csv.Append(csv, [OperatorId, Day, Currency, "issuer:" + i.IssuerId, i.Charges, i.Gross, i.Fee, i.Net, null, null]);
            }
        }

        Csv.Append(csv, [OperatorId, Day, Currency, "total", Lines.Sum(l => l.Charges), Gross, Fee, Net, Journeys, Legs]);
        return csv.ToString();
    }
}

/// <summary>Statements per operator and service day, from the settlement lines.</summary>
public sealed class Statements(NpgsqlDataSource dataSource, ClearingOptions options, IPricerSource pricers)
{
    /// <summary>The operator's statement for the day; null when the operator is not in the imported feed (not a day of zeros).</summary>
    public async Task<OperatorStatement?> ForAsync(string operatorId, DateOnly day, CancellationToken cancellation)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellation);
        if (!await Access.FeedReferences.OperatorExistsAsync(connection, operatorId, cancellation))
        {
            return null;
        }

        var lines = await Sql.ListAsync(connection, """
            SELECT CASE WHEN c.revision = 1 THEN 'day-charges' WHEN c.amount < 0 THEN 'refunds' ELSE 'late-adjustments' END AS kind,
              count(*), sum(l.gross)::bigint, sum(l.fee)::bigint, sum(l.net)::bigint
            FROM settlement_lines l JOIN charges c ON c.charge_id = l.charge_id
            WHERE l.service_day = $1 AND l.operator_id = $2 AND l.issuer_id = 'home' GROUP BY 1 ORDER BY 1
            """, r => new StatementLine(r.GetString(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3), r.GetInt64(4)), cancellation, day, operatorId);
        // The home issuer's share with its fee per line; another issuer's with the fee taken on the pair's day (issuer_dues).
        var issuers = await Sql.ListAsync(connection, """
            SELECT l.issuer_id, count(*), sum(l.gross)::bigint,
              CASE WHEN l.issuer_id = 'home' THEN sum(l.fee)::bigint ELSE COALESCE(max(d.fee), 0) END
            FROM settlement_lines l
            LEFT JOIN issuer_dues d ON d.service_day = l.service_day AND d.issuer_id = l.issuer_id AND d.operator_id = l.operator_id
            WHERE l.service_day = $1 AND l.operator_id = $2 GROUP BY 1 ORDER BY 1
            """, r => new IssuerShare(r.GetString(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3), checked(r.GetInt64(2) - r.GetInt64(3))), cancellation, day, operatorId);
        var currency = await CurrencyAsync(connection, day, cancellation);
        var counts = await Sql.ListAsync(connection, """
            SELECT count(DISTINCT (account, journey_no)), count(*), count(*) FILTER (WHERE flags & $3 <> 0),
              COALESCE(sum(amount + transfer_amount) FILTER (WHERE flags & $3 <> 0), 0)::bigint
            FROM journey_legs WHERE service_day = $1 AND operator_id = $2
            """, r => (Journeys: r.GetInt64(0), Legs: r.GetInt64(1), Unpriced: r.GetInt64(2), UnpricedAmount: r.GetInt64(3)),
            cancellation, day, operatorId, (int)Journeys.JourneyFlags.Unpriced);
        return new OperatorStatement(
            operatorId, day, currency, options.PlatformFeeBasisPoints, issuers.Sum(i => i.Gross), issuers.Sum(i => i.Fee), issuers.Sum(i => i.Net),
            counts[0].Journeys, counts[0].Legs, lines, counts[0].Unpriced, counts[0].UnpricedAmount, issuers);
    }

    /// <summary>
    /// Each operator's gross, fee and net of the day over all issuers (one operator's with <paramref name="operatorId"/>):
    /// the home issuer's settlement lines with their fees, and other issuers' dues with the fee taken on the pair's day.
    /// </summary>
    public static Task<List<OperatorTotal>> OperatorTotalsAsync(NpgsqlDataSource dataSource, DateOnly day, string? operatorId, CancellationToken cancellation) =>
        Sql.ListAsync(dataSource, """
            SELECT operator_id, sum(gross)::bigint, sum(fee)::bigint, sum(net)::bigint FROM (
              SELECT operator_id, gross, fee, net FROM settlement_lines WHERE service_day = $1 AND issuer_id = 'home'
              UNION ALL
              SELECT operator_id, gross, fee, net FROM issuer_dues WHERE service_day = $1) s
            WHERE $2::text IS NULL OR operator_id = $2 GROUP BY 1 ORDER BY 1
            """, r => new OperatorTotal(r.GetString(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3)), cancellation, day, Sql.Typed(operatorId, NpgsqlTypes.NpgsqlDbType.Text));

    /// <summary>The day's currency: its charges', or for a day without charges (no riders yet, or not cleared) the feed's.</summary>
    public async Task<string?> CurrencyAsync(NpgsqlConnection connection, DateOnly day, CancellationToken cancellation) =>
        await ChargesCurrencyAsync(connection, day, cancellation) ?? await FeedCurrencyAsync(day, cancellation);

    /// <summary>The currency of the day's charges; null when the day has none.</summary>
    public static Task<string?> ChargesCurrencyAsync(NpgsqlConnection connection, DateOnly day, CancellationToken cancellation) =>
        Sql.ScalarAsync<string>(connection, "SELECT currency FROM charges WHERE service_day = $1 LIMIT 1", cancellation, day);

    private async Task<string?> FeedCurrencyAsync(DateOnly day, CancellationToken cancellation)
    {
        try
        {
            return (await pricers.ForDayAsync(day, cancellation)).Currency;
        }
        catch (Gtfs.GtfsImportException)
        {
            return null;
        }
    }
}
