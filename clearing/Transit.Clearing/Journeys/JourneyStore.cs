using Npgsql;
using NpgsqlTypes;
using Transit.Clearing.Database;
using Transit.Clearing.Ingest;
using Transit.Clearing.Pricing;
using Transit.DeviceApi;

namespace Transit.Clearing.Journeys;

/// <summary>A priced journey of one rider's day as <c>journeys</c> stores it.</summary>
public sealed record JourneyRow(string Account, PricedJourney Priced, JourneyFlags Flags);

/// <summary>A leg as <c>journey_legs</c> stores it: its price, the operator it is settled to and its share of the charge.</summary>
public sealed record LegRow(string Account, int JourneyNo, int LegNo, LegInput Leg, LegPrice Price, string OperatorId, long Share, JourneyFlags Flags);

/// <summary>One rider's day as <c>account_days</c> stores it: its revision and totals.</summary>
public sealed record AccountDayRow(string Account, int Revision, long FareTotal, long PricedTotal, int Journeys, int Taps, JourneyFlags Flags);

/// <summary>What a rider's day was priced at by its last revision.</summary>
public readonly record struct PreviousAccountDay(int Revision, long Charged);

/// <summary>
/// The journeys stage's SQL: which account-days of a part are to price, their billable taps, what their last revision
/// charged, the cap window's earlier journeys, and the journeys, legs and account-days written anew. Every call runs in
/// the part's transaction.
/// </summary>
public static class JourneyStore
{
    /// <summary>Takes the part's account-days off <c>dirty_account_days</c> (in the part's transaction), sorted.</summary>
    public static async Task<string[]> TakeDirtyAccountsAsync(NpgsqlConnection connection, DateOnly day, short fromShard, short toShard, CancellationToken cancellation)
    {
        var accounts = (await Sql.ListAsync(connection, """
            DELETE FROM dirty_account_days WHERE service_day = $1 AND shard >= $2 AND shard < $3 RETURNING account
            """, r => r.GetString(0), cancellation, day, fromShard, toShard)).ToArray();
        Array.Sort(accounts, StringComparer.Ordinal);
        return accounts;
    }

    /// <summary>The billable taps of <paramref name="accounts"/> on the day, per account in time order.</summary>
    public static async Task<ILookup<string, AccountTap>> BillableTapsAsync(
        NpgsqlConnection connection, DateOnly day, short fromShard, short toShard, NpgsqlParameter accounts, CancellationToken cancellation) =>
        (await Sql.ListAsync(connection, $"""
            SELECT account, at, mode, operator_id, station_id, stop_id, route_id, category, device_id, seq FROM taps
            WHERE service_day = $1 AND shard >= $2 AND shard < $3 AND account = ANY($4) AND flags & {(int)TapFlags.Billable} <> 0
            ORDER BY account, at, device_id, seq
            """,
            r => (Account: r.GetString(0), Tap: new AccountTap(
                r.GetFieldValue<DateTimeOffset>(1), (TapMode)r.GetInt16(2), r.GetString(3), r.NullableString(4), r.NullableString(5), r.NullableString(6),
                r.NullableString(7), r.GetString(8), r.GetInt64(9))),
            cancellation, day, fromShard, toShard, accounts))
            .ToLookup(t => t.Account, t => t.Tap, StringComparer.Ordinal);

    /// <summary>The revision and charged total of each of <paramref name="accounts"/>' day priced before.</summary>
    public static async Task<Dictionary<string, PreviousAccountDay>> PreviousAsync(
        NpgsqlConnection connection, DateOnly day, NpgsqlParameter accounts, CancellationToken cancellation) =>
        (await Sql.ListAsync(connection, "SELECT account, revision, charged_total FROM account_days WHERE service_day = $1 AND account = ANY($2)",
            r => (Account: r.GetString(0), Previous: new PreviousAccountDay(r.GetInt32(1), r.GetInt64(2))), cancellation, day, accounts))
            .ToDictionary(p => p.Account, p => p.Previous, StringComparer.Ordinal);

    /// <summary>
    /// Each account's journeys of the <paramref name="lookbackDays"/> days before <paramref name="day"/> with their
    /// stored prices (in time order), which caps spanning several days count.
    /// </summary>
    public static async Task<ILookup<string, (JourneyInput Journey, JourneyPrice Price)>> PriorJourneysAsync(
        NpgsqlConnection connection, DateOnly day, int lookbackDays, string currency, NpgsqlParameter accounts, CancellationToken cancellation)
    {
        var rows = await Sql.ListAsync(connection, """
            SELECT j.account, j.service_day, j.journey_no, j.category, j.fare_amount, j.flags,
                   l.mode, l.operator_id, l.route_id, l.network_id, l.from_stop, l.to_stop, l.started_at, l.ended_at,
                   l.product_id, l.amount, l.transfer_product_id, l.transfer_amount, l.flags
            FROM journeys j JOIN journey_legs l USING (account, service_day, journey_no)
            WHERE j.account = ANY($1) AND j.service_day >= $2 AND j.service_day < $3
            ORDER BY j.account, j.started_at, j.service_day, j.journey_no, l.leg_no
            """,
            r =>
            {
                var legFlags = (JourneyFlags)r.GetInt32(18);
                var leg = new LegInput(
                    (TapMode)r.GetInt16(6), r.NullableString(7) ?? "", r.NullableString(8), r.NullableString(10), r.NullableString(11),
                    r.GetFieldValue<DateTimeOffset>(12), r.NullableTime(13), legFlags.HasFlag(JourneyFlags.MissingEntry), legFlags.HasFlag(JourneyFlags.MissingExit));
                var legPrice = new LegPrice(
                    r.NullableString(14), r.GetInt64(15), r.NullableString(16), r.GetInt64(17), r.NullableString(9), r.NullableString(7), r.NullableString(8),
                    legFlags.HasFlag(JourneyFlags.Unpriced));
                return (Key: (Account: r.GetString(0), Day: r.GetFieldValue<DateOnly>(1), No: r.GetInt32(2)), Category: r.NullableString(3), Fare: r.GetInt64(4),
                    Flags: (JourneyFlags)r.GetInt32(5), Leg: leg, LegPrice: legPrice);
            },
            cancellation, accounts, day.AddDays(-lookbackDays), day);
        return rows.GroupBy(r => r.Key)
            .Select(g =>
            {
                var first = g.First();
                var journey = new JourneyInput(g.Key.No, first.Category, [.. g.Select(x => x.Leg)]);
                var price = new JourneyPrice(first.Fare, currency, [.. g.Select(x => x.LegPrice)],
                    first.Flags.HasFlag(JourneyFlags.Unpriced), (first.Flags & (JourneyFlags.MissingEntry | JourneyFlags.MissingExit)) != 0);
                return (g.Key.Account, Item: (journey, price));
            })
            .ToLookup(x => x.Account, x => x.Item, StringComparer.Ordinal);
    }

    /// <summary>Deletes the day's journeys, legs and account-days of <paramref name="accounts"/>: they are written anew.</summary>
    public static async Task DeleteAsync(NpgsqlConnection connection, DateOnly day, NpgsqlParameter accounts, CancellationToken cancellation)
    {
        foreach (var table in (string[])["journey_legs", "journeys", "account_days"])
        {
            await Sql.ExecAsync(connection, $"DELETE FROM {table} WHERE service_day = $1 AND account = ANY($2)", cancellation, day, accounts);
        }
    }

    /// <summary>
    /// Marks the account-days within <paramref name="lookbackDays"/> after <paramref name="day"/> to price again: what
    /// this day used of a weekly or monthly cap changes what is left of it for them, so they charge or refund only
    /// their difference.
    /// </summary>
    public static Task MarkLaterDaysAsync(NpgsqlConnection connection, DateOnly day, int lookbackDays, NpgsqlParameter accounts, CancellationToken cancellation) =>
        Sql.ExecAsync(connection, """
            INSERT INTO dirty_account_days (service_day, shard, account)
            SELECT service_day, shard, account FROM account_days WHERE account = ANY($1) AND service_day > $2 AND service_day <= $3
            ORDER BY 1, 2, 3 ON CONFLICT DO NOTHING
            """, cancellation, accounts, day, day.AddDays(lookbackDays));

    /// <summary>Writes the part's journeys, legs and account-days.</summary>
    public static async Task WriteAsync(
        NpgsqlConnection connection, DateOnly day, string currency, DateTimeOffset pricedAt,
        IReadOnlyList<JourneyRow> journeys, IReadOnlyList<LegRow> legs, IReadOnlyList<AccountDayRow> accountDays, CancellationToken cancellation)
    {
        using (var copy = await connection.BeginBinaryImportAsync(
            "COPY journeys (account, service_day, journey_no, started_at, ended_at, category, fare_amount, cap_adjustment, charged_amount, currency, flags) FROM STDIN (FORMAT BINARY)",
            cancellation))
        {
            foreach (var j in journeys)
            {
                var (journey, price, capped) = (j.Priced.Journey, j.Priced.Price, j.Priced.Capped);
                await copy.StartRowAsync(cancellation);
                copy.Write(j.Account, NpgsqlDbType.Text);
                copy.Write(day, NpgsqlDbType.Date);
                copy.Write(journey.JourneyNo, NpgsqlDbType.Integer);
                copy.PutTime(journey.Start);
                copy.PutTime(journey.Legs[^1].End);
                copy.PutText(journey.Category);
                copy.Write(price.Total, NpgsqlDbType.Bigint);
                copy.Write(capped.CapAdjustment, NpgsqlDbType.Bigint);
                copy.Write(capped.Charged, NpgsqlDbType.Bigint);
                copy.Write(price.Currency, NpgsqlDbType.Text);
                copy.Write((int)j.Flags, NpgsqlDbType.Integer);
            }

            await copy.CompleteAsync(cancellation);
        }

        using (var copy = await connection.BeginBinaryImportAsync(
            """
            COPY journey_legs (account, service_day, journey_no, leg_no, mode, operator_id, route_id, network_id, from_stop, to_stop, started_at,
              ended_at, product_id, amount, transfer_product_id, transfer_amount, share, entry_device, entry_seq, exit_device, exit_seq, flags)
            FROM STDIN (FORMAT BINARY)
            """, cancellation))
        {
            foreach (var l in legs)
            {
                await copy.StartRowAsync(cancellation);
                copy.Write(l.Account, NpgsqlDbType.Text);
                copy.Write(day, NpgsqlDbType.Date);
                copy.Write(l.JourneyNo, NpgsqlDbType.Integer);
                copy.Write(l.LegNo, NpgsqlDbType.Integer);
                copy.Write((short)l.Leg.Mode, NpgsqlDbType.Smallint);
                copy.PutText(l.OperatorId);
                copy.PutText(l.Price.RouteId ?? l.Leg.RouteId);
                copy.PutText(l.Price.NetworkId);
                copy.PutText(l.Leg.FromStopId);
                copy.PutText(l.Leg.ToStopId);
                copy.PutTime(l.Leg.Start);
                copy.PutTime(l.Leg.End);
                copy.PutText(l.Price.ProductId);
                copy.Write(l.Price.Amount, NpgsqlDbType.Bigint);
                copy.PutText(l.Price.TransferProductId);
                copy.Write(l.Price.TransferAmount, NpgsqlDbType.Bigint);
                copy.Write(l.Share, NpgsqlDbType.Bigint);
                copy.PutText(l.Leg.EntryTap?.Device);
                copy.PutLong(l.Leg.EntryTap?.Seq);
                copy.PutText(l.Leg.ExitTap?.Device);
                copy.PutLong(l.Leg.ExitTap?.Seq);
                copy.Write((int)l.Flags, NpgsqlDbType.Integer);
            }

            await copy.CompleteAsync(cancellation);
        }

        using (var copy = await connection.BeginBinaryImportAsync(
            "COPY account_days (account, service_day, shard, revision, currency, fare_total, priced_total, charged_total, journeys, taps, flags, priced_at) FROM STDIN (FORMAT BINARY)",
            cancellation))
        {
            foreach (var a in accountDays)
            {
                await copy.StartRowAsync(cancellation);
                copy.Write(a.Account, NpgsqlDbType.Text);
                copy.Write(day, NpgsqlDbType.Date);
                copy.Write(ServiceCalendar.Shard(a.Account), NpgsqlDbType.Smallint);
                copy.Write(a.Revision, NpgsqlDbType.Integer);
                copy.Write(currency, NpgsqlDbType.Text);
                copy.Write(a.FareTotal, NpgsqlDbType.Bigint);
                copy.Write(a.PricedTotal, NpgsqlDbType.Bigint);
                copy.Write(a.PricedTotal, NpgsqlDbType.Bigint);
                copy.Write(a.Journeys, NpgsqlDbType.Integer);
                copy.Write(a.Taps, NpgsqlDbType.Integer);
                copy.Write((int)a.Flags, NpgsqlDbType.Integer);
                copy.PutTime(pricedAt);
            }

            await copy.CompleteAsync(cancellation);
        }
    }
}
