using Npgsql;
using Transit.Clearing.Database;
using Transit.Clearing.Ingest;
using Transit.Clearing.Journeys;

namespace Transit.Clearing.Reports;

/// <summary>A service day's taps as clearing stored them.</summary>
/// <param name="Billable">Taps that count towards a journey (<see cref="TapFlags.Billable"/>).</param>
public sealed record StoredTaps(long All, long Billable, long RefusedByClearing, long DuplicateUses);

/// <summary>A service day's journeys and legs.</summary>
/// <param name="Incomplete">Journeys missing an entry or an exit tap, priced at the maximum fare.</param>
/// <param name="UnpricedLegs">Legs the fare rules could not price, charged by the unpriced-fare policy.</param>
/// <param name="UnpricedAmount">What those legs were charged, in minor units.</param>
public sealed record JourneyFigures(long All, long Riders, long Legs, long Incomplete, long Capped, long UnpricedLegs, long UnpricedAmount);

/// <summary>One rider's day on which a cap took money off: what was charged and what the cap saved, in minor units.</summary>
public sealed record CappedRiderDay(string? Category, long Charged, long Saved);

/// <summary>A day's charges in one status (pending, submitted, succeeded, declined …), in minor units.</summary>
public sealed record ChargeTotal(string Status, long Count, long Amount);

/// <summary>
/// Read-only figures of one service day for reports (<c>transit sim</c>, <c>transit demo</c>, <c>transit clearing
/// run-day</c>), so that no caller outside clearing reads its tables or knows what the bits of their flags mean.
/// </summary>
public sealed class DayFigures(NpgsqlDataSource dataSource)
{
    public async Task<StoredTaps> TapsAsync(DateOnly day, CancellationToken cancellation) =>
        (await Sql.ListAsync(dataSource, """
            SELECT count(*), count(*) FILTER (WHERE flags & $2 <> 0), count(*) FILTER (WHERE flags & $3 <> 0), count(*) FILTER (WHERE flags & $4 <> 0)
            FROM taps WHERE service_day = $1
            """, r => new StoredTaps(r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3)), cancellation,
            day, (int)TapFlags.Billable, (int)TapFlags.RefusedByClearing, (int)TapFlags.DuplicateUse))[0];

    public async Task<JourneyFigures> JourneysAsync(DateOnly day, CancellationToken cancellation) =>
        (await Sql.ListAsync(dataSource, """
            SELECT count(*), count(DISTINCT account), (SELECT count(*) FROM journey_legs WHERE service_day = $1),
              count(*) FILTER (WHERE flags & $2 <> 0), count(*) FILTER (WHERE flags & $3 <> 0),
              (SELECT count(*) FROM journey_legs WHERE service_day = $1 AND flags & $4 <> 0),
              (SELECT COALESCE(sum(amount + transfer_amount), 0)::bigint FROM journey_legs WHERE service_day = $1 AND flags & $4 <> 0)
            FROM journeys WHERE service_day = $1
            """, r => new JourneyFigures(r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3), r.GetInt64(4), r.GetInt64(5), r.GetInt64(6)), cancellation,
            day, (int)(JourneyFlags.MissingEntry | JourneyFlags.MissingExit), (int)JourneyFlags.Capped, (int)JourneyFlags.Unpriced))[0];

    /// <summary>The currency of the day's charges; empty when there are none.</summary>
    public async Task<string> CurrencyAsync(DateOnly day, CancellationToken cancellation)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellation);
        return await Settlement.Statements.ChargesCurrencyAsync(connection, day, cancellation) ?? "";
    }

    /// <summary>Each rider's day (account and category) on which caps took money off the journeys.</summary>
    public Task<List<CappedRiderDay>> CappedRiderDaysAsync(DateOnly day, CancellationToken cancellation) =>
        Sql.ListAsync(dataSource, """
            SELECT category, sum(charged_amount)::bigint, sum(cap_adjustment)::bigint FROM journeys
            WHERE service_day = $1 GROUP BY account, category HAVING sum(cap_adjustment) > 0
            """, r => new CappedRiderDay(r.NullableString(0), r.GetInt64(1), r.GetInt64(2)), cancellation, day);

    /// <summary>The day's settlement per operator over all issuers (the home issuer's lines and other issuers' dues), by operator id.</summary>
    public Task<List<Settlement.OperatorTotal>> RevenueAsync(DateOnly day, CancellationToken cancellation) =>
        Settlement.Statements.OperatorTotalsAsync(dataSource, day, null, cancellation);

    /// <summary>The day's charges per status, by status.</summary>
    public Task<List<ChargeTotal>> ChargesAsync(DateOnly day, CancellationToken cancellation) =>
        Sql.ListAsync(dataSource, """
            SELECT status, count(*), sum(amount)::bigint FROM charges WHERE service_day = $1 GROUP BY 1 ORDER BY 1
            """, r => new ChargeTotal(r.GetString(0), r.GetInt64(1), r.GetInt64(2)), cancellation, day);

    /// <summary>Accounts clearing blocks now (unpaid charges), whichever day blocked them.</summary>
    public async Task<long> BlockedAccountsAsync(CancellationToken cancellation) =>
        await Sql.ScalarAsync<long>(dataSource, "SELECT count(*) FROM accounts WHERE blocked", cancellation);
}
