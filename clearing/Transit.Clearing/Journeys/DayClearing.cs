using System.Globalization;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using Transit.Clearing.Database;
using Transit.Clearing.Ingest;
using Transit.Clearing.Issuers;
using Transit.Clearing.Settlement;
using Transit.RideCodes;
using Transit.Clearing.Pricing;

namespace Transit.Clearing.Journeys;

/// <summary>Counts of one clearing run.</summary>
public sealed record DayClearingResult(DateOnly Day, int Accounts, int Taps, int Journeys, int Charges, long Charged, int UnpricedLegs = 0, long UnpricedAmount = 0)
{
    public static DayClearingResult Empty(DateOnly day) => new(day, 0, 0, 0, 0, 0);

    public DayClearingResult Add(DayClearingResult other) =>
        this with
        {
            Accounts = Accounts + other.Accounts,
            Taps = Taps + other.Taps,
            Journeys = Journeys + other.Journeys,
            Charges = Charges + other.Charges,
            Charged = checked(Charged + other.Charged),
            UnpricedLegs = UnpricedLegs + other.UnpricedLegs,
            UnpricedAmount = checked(UnpricedAmount + other.UnpricedAmount),
        };

    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture, $"{Day:yyyy-MM-dd}: {Accounts} account-days, {Taps} taps, {Journeys} journeys, {Charges} charges, {Charged} charged (minor units), {UnpricedLegs} legs unpriced by the fare rules priced at {UnpricedAmount} by policy");
}

/// <summary>
/// Prices the account-days of a service day that have taps not yet priced, and records for each the difference to
/// charge (or refund) with its settlement lines. The day is split into parts by account shard; each part is one
/// transaction under an advisory lock, and takes its account-days off <c>dirty_account_days</c> in that same
/// transaction. So a crash loses at most the part in flight, a rerun finishes exactly what is left, and two
/// processes clearing the same day at once cannot price the same account-day twice.
/// </summary>
public sealed class DayClearing(
    NpgsqlDataSource dataSource, IPricerSource pricers, IssuerRegistry issuers, ClearingOptions options, TimeProvider time, ILogger<DayClearing> logger)
{
    private const int Shards = 256;

    /// <summary>Clears <paramref name="day"/>: every account-day with unpriced taps, in parts.</summary>
    public async Task<DayClearingResult> ClearAsync(DateOnly day, CancellationToken cancellation)
    {
        await Sql.ExecAsync(dataSource, """
            INSERT INTO service_days (service_day, closed_at) VALUES ($1, now())
            ON CONFLICT (service_day) DO UPDATE SET closed_at = COALESCE(service_days.closed_at, now())
            """, cancellation, day);
        var pricer = await pricers.ForDayAsync(day, cancellation);
        // The acceptance terms as they stand when the run starts: the day's dues are settled at them.
        var terms = await issuers.RefreshAsync(cancellation);
        var parts = Math.Clamp(options.ClearingParts, 1, Shards);
        var total = DayClearingResult.Empty(day);
        var totalLock = new Lock();
        var paused = false;
        // A crash test's pause must leave parts undone however many processors the machine has: two workers at most,
        // and no part starts once the pause is reached.
        var parallelism = options.PauseAfterPart is null ? options.ClearingParallelism : Math.Min(2, options.ClearingParallelism);
        // Parts touch disjoint account shards in their own transactions, so they run side by side.
        await Parallel.ForEachAsync(
            Enumerable.Range(0, parts),
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, parallelism), CancellationToken = cancellation },
            async (part, token) =>
            {
                if (Volatile.Read(ref paused))
                {
                    await Task.Delay(Timeout.Infinite, token);
                }

                var result = await ClearPartAsync(day, part, (short)(part * Shards / parts), (short)((part + 1) * Shards / parts), pricer, token);
                lock (totalLock)
                {
                    total = total.Add(result);
                }

                if (options.PauseAfterPart == part)
                {
                    Volatile.Write(ref paused, true);
                    // Crash tests kill the process here, after this part committed.
                    Console.WriteLine($"clearing: part {part} committed; pausing");
                    await Task.Delay(Timeout.Infinite, token);
                }
            });

        await SettleIssuersAsync(day, terms, cancellation);
        await Sql.ExecAsync(dataSource, "UPDATE service_days SET cleared_at = now(), clearing_runs = clearing_runs + 1 WHERE service_day = $1", cancellation, day);

        // A day's clearing can double these tables in minutes, long before autovacuum's next look; on the old
        // statistics the payments, balance check and analytics that follow planned every batch as a scan of the whole
        // table (a fresh installation's first day took the payments from seconds to tens of seconds). Autovacuum's own
        // rule (50 rows plus a tenth of what the statistics know) decides, so the minute's re-run of a few late taps
        // does not sample five large tables again.
        if (total.Journeys > 0 && await Sql.ScalarAsync<bool>(
            dataSource, "SELECT $1 > 50 + 0.1 * GREATEST(reltuples, 0) FROM pg_class WHERE oid = 'journeys'::regclass", cancellation, total.Journeys))
        {
            await Sql.ExecAsync(dataSource, "ANALYZE account_days, journeys, journey_legs, charges, settlement_lines", cancellation);
        }
        logger.LogInformation("cleared {Result}", total);
        return total;
    }

    private async Task<DayClearingResult> ClearPartAsync(
        DateOnly day, int part, short fromShard, short toShard, IJourneyPricer pricer, CancellationToken cancellation)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellation);
        await using var transaction = await connection.BeginTransactionAsync(cancellation);
        await Sql.ExecAsync(connection, "SELECT pg_advisory_xact_lock($1, $2)", cancellation, day.DayNumber, part);
        var accounts = (await Sql.ListAsync(connection, """
            DELETE FROM dirty_account_days WHERE service_day = $1 AND shard >= $2 AND shard < $3 RETURNING account
            """, r => r.GetString(0), cancellation, day, fromShard, toShard)).ToArray();
        if (accounts.Length == 0)
        {
            await transaction.CommitAsync(cancellation);
            return DayClearingResult.Empty(day);
        }

        Array.Sort(accounts, StringComparer.Ordinal);
        var accountParam = Sql.Typed(accounts, NpgsqlDbType.Array | NpgsqlDbType.Text);
        var taps = await Sql.ListAsync(connection, $"""
            SELECT account, at, mode, operator_id, station_id, stop_id, route_id, category, device_id, seq FROM taps
            WHERE service_day = $1 AND shard >= $2 AND shard < $3 AND account = ANY($4) AND flags & {(int)TapFlags.Billable} <> 0
            ORDER BY account, at, device_id, seq
            """,
            r => (Account: r.GetString(0), Tap: new AccountTap(
                r.GetFieldValue<DateTimeOffset>(1), r.GetInt16(2), r.GetString(3), r.NullableString(4), r.NullableString(5), r.NullableString(6),
                r.NullableString(7), r.GetString(8), r.GetInt64(9))),
            cancellation, day, fromShard, toShard, accountParam);
        var previous = (await Sql.ListAsync(connection, "SELECT account, revision, charged_total FROM account_days WHERE service_day = $1 AND account = ANY($2)",
            r => (Account: r.GetString(0), Revision: r.GetInt32(1), Charged: r.GetInt64(2)), cancellation, day, accountParam))
            .ToDictionary(p => p.Account, p => (p.Revision, p.Charged), StringComparer.Ordinal);
        var previousShares = (await Sql.ListAsync(connection, """
            SELECT c.account, l.operator_id, sum(l.gross)::bigint FROM charges c JOIN settlement_lines l ON l.charge_id = c.charge_id
            WHERE c.service_day = $1 AND c.account = ANY($2) GROUP BY 1, 2
            """, r => (Account: r.GetString(0), Operator: r.GetString(1), Gross: r.GetInt64(2)), cancellation, day, accountParam))
            .ToLookup(s => s.Account, StringComparer.Ordinal);
        var prior = pricer.CapLookbackDays > 0
            ? await PriorJourneysAsync(connection, day, pricer, accountParam, cancellation)
            : null;

        var byAccount = taps.ToLookup(t => t.Account, t => t.Tap, StringComparer.Ordinal);
        var outcome = new PartOutcome();
        foreach (var account in accounts)
        {
            PriceAccountDay(
                account, day, [.. byAccount[account]], pricer, previous.GetValueOrDefault(account),
                previousShares[account].ToDictionary(s => s.Operator, s => s.Gross, StringComparer.Ordinal),
                prior?[account].ToList() ?? [], outcome);
        }

        foreach (var table in (string[])["journey_legs", "journeys", "account_days"])
        {
            await Sql.ExecAsync(connection, $"DELETE FROM {table} WHERE service_day = $1 AND account = ANY($2)", cancellation, day, accountParam);
        }
        await WriteAsync(connection, day, outcome, cancellation);
        if (pricer.CapLookbackDays > 0)
        {
            // What this day used of a weekly or monthly cap changes what is left of it for the days after: those
            // already priced in the same window are priced again, charging or refunding only their difference.
            await Sql.ExecAsync(connection, """
                INSERT INTO dirty_account_days (service_day, shard, account)
                SELECT service_day, shard, account FROM account_days WHERE account = ANY($1) AND service_day > $2 AND service_day <= $3
                ORDER BY 1, 2, 3 ON CONFLICT DO NOTHING
                """, cancellation, accountParam, day, day.AddDays(pricer.CapLookbackDays));
        }

        if (options.PauseInsidePart == part)
        {
            // Crash tests kill the process here: every row of the part written, nothing committed.
            Console.WriteLine($"clearing: part {part} written, not committed; pausing");
            await Task.Delay(Timeout.Infinite, cancellation);
        }

        await transaction.CommitAsync(cancellation);
        var unpriced = outcome.Legs.Where(l => l.Flags.HasFlag(JourneyFlags.Unpriced)).ToList();
        return new DayClearingResult(
            day, accounts.Length, taps.Count, outcome.Journeys.Count, outcome.Charges.Count, outcome.Charges.Sum(c => c.Amount),
            unpriced.Count, unpriced.Sum(l => checked(l.Price.Amount + l.Price.TransferAmount)));
    }

    private void PriceAccountDay(
        string account, DateOnly day, List<AccountTap> taps, IJourneyPricer pricer, (int Revision, long Charged) previous,
        Dictionary<string, long> previousShares, List<(JourneyInput, JourneyPrice)> prior, PartOutcome outcome)
    {
        var issuer = IssuerAccounts.IssuerOf(account);
        var window = pricer.TransferWindow > TimeSpan.Zero ? pricer.TransferWindow : options.TransferWindow;
        var journeys = JourneyBuilder.Build(taps, options.MaxJourneyTime, window);
        var priced = journeys.Select(j => (Journey: j, Price: pricer.Price(j))).ToList();
        var capped = pricer.ApplyCaps([.. prior, .. priced]).Skip(prior.Count).ToList();
        var shares = new Dictionary<string, long>(StringComparer.Ordinal);
        long fareTotal = 0, pricedTotal = 0;
        var dayFlags = JourneyFlags.None;
        for (var j = 0; j < priced.Count; j++)
        {
            var (journey, price) = priced[j];
            var charged = capped[j].Charged;
            var flags = JourneyFlags.None;
            var legShares = Apportionment.LargestRemainder(charged, [.. price.Legs.Select(l => checked(l.Amount + l.TransferAmount))]);
            for (var l = 0; l < journey.Legs.Count; l++)
            {
                var leg = journey.Legs[l];
                var legPrice = price.Legs[l];
                var legFlags = (leg.MissingEntry ? JourneyFlags.MissingEntry : 0) | (leg.MissingExit ? JourneyFlags.MissingExit : 0) | (legPrice.Unpriced ? JourneyFlags.Unpriced : 0);
                flags |= legFlags;
                var operatorId = legPrice.OperatorId ?? leg.OperatorId;
                shares[operatorId] = checked(shares.GetValueOrDefault(operatorId) + legShares[l]);
                outcome.Legs.Add(new LegRow(account, journey.JourneyNo, l + 1, leg, legPrice, operatorId, legShares[l], legFlags));
            }

            if (capped[j].CapAdjustment != 0)
            {
                flags |= JourneyFlags.Capped;
            }

            dayFlags |= flags;
            fareTotal = checked(fareTotal + price.Total);
            pricedTotal = checked(pricedTotal + charged);
            outcome.Journeys.Add(new JourneyRow(account, journey, price, capped[j], flags));
        }

        var difference = checked(pricedTotal - previous.Charged);
        var lines = shares.Keys.Union(previousShares.Keys)
            .Select(op => (Operator: op, Delta: checked(shares.GetValueOrDefault(op) - previousShares.GetValueOrDefault(op))))
            .Where(l => l.Delta != 0)
            .OrderBy(l => l.Operator, StringComparer.Ordinal)
            .ToList();
        var revision = previous.Revision;
        if (difference != 0 || lines.Count > 0)
        {
            revision++;
            var charge = new ChargeRow(account, issuer, revision, difference, string.Create(CultureInfo.InvariantCulture, $"charge:{account}:{day:yyyy-MM-dd}:r{revision}"));
            outcome.Charges.Add(charge);
            foreach (var (op, delta) in lines)
            {
                // Another issuer's fee is taken once on the pair's day (SettleIssuersAsync), not per rider.
                var fee = issuer == IssuerIds.Home ? Apportionment.Fee(delta, options.PlatformFeeBasisPoints) : 0;
                outcome.Lines.Add(new LineRow(charge, op, delta, fee, checked(delta - fee)));
            }
        }

        outcome.AccountDays.Add(new AccountDayRow(account, revision, fareTotal, pricedTotal, journeys.Count, taps.Count, (int)dayFlags));
    }

    /// <summary>
    /// Recomputes what each issuer other than the home issuer owes each operator for the day (<c>issuer_dues</c>), from
    /// all its riders' settlement lines: the fee is the pair's rate on the pair's whole day, rounded once
    /// (<see cref="Apportionment.Fee"/>), so it is exactly what the agreement says however many riders there were. The
    /// rate is the acceptance in force that day; a leg the fare rules put on an operator that does not accept the issuer
    /// (its taps were billable at the device's operator) is settled at the platform fee. One transaction under the day's
    /// lock: a crash leaves the previous dues, which the balance check then finds short and the next run replaces.
    /// </summary>
    private async Task SettleIssuersAsync(DateOnly day, IssuerSnapshot terms, CancellationToken cancellation)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellation);
        await using var transaction = await connection.BeginTransactionAsync(cancellation);
        await Sql.ExecAsync(connection, "SELECT pg_advisory_xact_lock($1, -1)", cancellation, day.DayNumber);
        var pairs = await Sql.ListAsync(connection, """
            SELECT issuer_id, operator_id, sum(gross)::bigint FROM settlement_lines WHERE service_day = $1 AND issuer_id <> 'home' GROUP BY 1, 2 ORDER BY 1, 2
            """, r => (Issuer: r.GetString(0), Operator: r.GetString(1), Gross: r.GetInt64(2)), cancellation, day);
        await Sql.ExecAsync(connection, "DELETE FROM issuer_dues WHERE service_day = $1", cancellation, day);
        foreach (var (issuer, op, gross) in pairs)
        {
            var basisPoints = terms.InForce(op, issuer, day)?.FeeBasisPoints ?? options.PlatformFeeBasisPoints;
            var fee = Apportionment.Fee(gross, basisPoints);
            await Sql.ExecAsync(connection, """
                INSERT INTO issuer_dues (service_day, issuer_id, operator_id, gross, fee_basis_points, fee, net) VALUES ($1, $2, $3, $4, $5, $6, $7)
                """, cancellation, day, issuer, op, gross, basisPoints, fee, checked(gross - fee));
        }

        await transaction.CommitAsync(cancellation);
    }

    private static async Task<ILookup<string, (JourneyInput, JourneyPrice)>> PriorJourneysAsync(
        NpgsqlConnection connection, DateOnly day, IJourneyPricer pricer, NpgsqlParameter accounts, CancellationToken cancellation)
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
                    r.GetInt16(6), r.NullableString(7) ?? "", r.NullableString(8), r.NullableString(10), r.NullableString(11),
                    r.GetFieldValue<DateTimeOffset>(12), r.NullableTime(13), legFlags.HasFlag(JourneyFlags.MissingEntry), legFlags.HasFlag(JourneyFlags.MissingExit));
                var legPrice = new LegPrice(
                    r.NullableString(14), r.GetInt64(15), r.NullableString(16), r.GetInt64(17), r.NullableString(9), r.NullableString(7), r.NullableString(8),
                    legFlags.HasFlag(JourneyFlags.Unpriced));
                return (Key: (Account: r.GetString(0), Day: r.GetFieldValue<DateOnly>(1), No: r.GetInt32(2)), Category: r.NullableString(3), Fare: r.GetInt64(4),
                    Flags: (JourneyFlags)r.GetInt32(5), Leg: leg, LegPrice: legPrice);
            },
            cancellation, accounts, day.AddDays(-pricer.CapLookbackDays), day);
        return rows.GroupBy(r => r.Key)
            .Select(g =>
            {
                var first = g.First();
                var journey = new JourneyInput(g.Key.No, first.Category, [.. g.Select(x => x.Leg)]);
                var price = new JourneyPrice(first.Fare, pricer.Currency, [.. g.Select(x => x.LegPrice)],
                    first.Flags.HasFlag(JourneyFlags.Unpriced), (first.Flags & (JourneyFlags.MissingEntry | JourneyFlags.MissingExit)) != 0);
                return (g.Key.Account, Item: (journey, price));
            })
            .ToLookup(x => x.Account, x => x.Item, StringComparer.Ordinal);
    }

    private async Task WriteAsync(NpgsqlConnection connection, DateOnly day, PartOutcome outcome, CancellationToken cancellation)
    {
        var currency = (await pricers.ForDayAsync(day, cancellation)).Currency;
        var now = time.GetUtcNow();
        using (var copy = await connection.BeginBinaryImportAsync(
            "COPY journeys (account, service_day, journey_no, started_at, ended_at, category, fare_amount, cap_adjustment, charged_amount, currency, flags) FROM STDIN (FORMAT BINARY)",
            cancellation))
        {
            foreach (var j in outcome.Journeys)
            {
                copy.StartRow();
                copy.Write(j.Account, NpgsqlDbType.Text);
                copy.Write(day, NpgsqlDbType.Date);
                copy.Write(j.Journey.JourneyNo, NpgsqlDbType.Integer);
                copy.PutTime(j.Journey.Start);
                copy.PutTime(j.Journey.Legs[^1].End);
                copy.PutText(j.Journey.Category);
                copy.Write(j.Price.Total, NpgsqlDbType.Bigint);
                copy.Write(j.Capped.CapAdjustment, NpgsqlDbType.Bigint);
                copy.Write(j.Capped.Charged, NpgsqlDbType.Bigint);
                copy.Write(j.Price.Currency, NpgsqlDbType.Text);
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
            foreach (var l in outcome.Legs)
            {
                copy.StartRow();
                copy.Write(l.Account, NpgsqlDbType.Text);
                copy.Write(day, NpgsqlDbType.Date);
                copy.Write(l.JourneyNo, NpgsqlDbType.Integer);
                copy.Write(l.LegNo, NpgsqlDbType.Integer);
                copy.Write(l.Leg.Mode, NpgsqlDbType.Smallint);
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
            foreach (var a in outcome.AccountDays)
            {
                copy.StartRow();
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
                copy.Write(a.Flags, NpgsqlDbType.Integer);
                copy.PutTime(now);
            }

            await copy.CompleteAsync(cancellation);
        }

        if (outcome.Charges.Count == 0)
        {
            return;
        }

        var ids = await Sql.ListAsync(connection, "SELECT nextval('charges_charge_id_seq') FROM generate_series(1, $1)", r => r.GetInt64(0), cancellation, outcome.Charges.Count);
        for (var i = 0; i < ids.Count; i++)
        {
            outcome.Charges[i].ChargeId = ids[i];
        }

        using (var copy = await connection.BeginBinaryImportAsync(
            "COPY charges (charge_id, account, service_day, revision, amount, currency, idempotency_key, status, issuer_id) FROM STDIN (FORMAT BINARY)", cancellation))
        {
            foreach (var c in outcome.Charges)
            {
                copy.StartRow();
                copy.Write(c.ChargeId, NpgsqlDbType.Bigint);
                copy.Write(c.Account, NpgsqlDbType.Text);
                copy.Write(day, NpgsqlDbType.Date);
                copy.Write(c.Revision, NpgsqlDbType.Integer);
                copy.Write(c.Amount, NpgsqlDbType.Bigint);
                copy.Write(currency, NpgsqlDbType.Text);
                copy.Write(c.IdempotencyKey, NpgsqlDbType.Text);
                // A reallocation between operators moves no money from the rider: nothing to collect. Another issuer's
                // rider is never charged here: the issuer owes the amount through its statement.
                copy.Write(c.Issuer != IssuerIds.Home ? "issuer-billed" : c.Amount == 0 ? "succeeded" : "pending", NpgsqlDbType.Text);
                copy.Write(c.Issuer, NpgsqlDbType.Text);
            }

            await copy.CompleteAsync(cancellation);
        }

        using (var copy = await connection.BeginBinaryImportAsync(
            "COPY settlement_lines (charge_id, operator_id, service_day, gross, fee, net, issuer_id) FROM STDIN (FORMAT BINARY)", cancellation))
        {
            foreach (var l in outcome.Lines)
            {
                copy.StartRow();
                copy.Write(l.Charge.ChargeId, NpgsqlDbType.Bigint);
                copy.Write(l.OperatorId, NpgsqlDbType.Text);
                copy.Write(day, NpgsqlDbType.Date);
                copy.Write(l.Gross, NpgsqlDbType.Bigint);
                copy.Write(l.Fee, NpgsqlDbType.Bigint);
                copy.Write(l.Net, NpgsqlDbType.Bigint);
                copy.Write(l.Charge.Issuer, NpgsqlDbType.Text);
            }

            await copy.CompleteAsync(cancellation);
        }
    }

    private sealed class PartOutcome
    {
        public List<JourneyRow> Journeys { get; } = [];

        public List<LegRow> Legs { get; } = [];

        public List<AccountDayRow> AccountDays { get; } = [];

        public List<ChargeRow> Charges { get; } = [];

        public List<LineRow> Lines { get; } = [];
    }

    private sealed record JourneyRow(string Account, JourneyInput Journey, JourneyPrice Price, CappedPrice Capped, JourneyFlags Flags);

    private sealed record LegRow(string Account, int JourneyNo, int LegNo, LegInput Leg, LegPrice Price, string OperatorId, long Share, JourneyFlags Flags);

    private sealed record AccountDayRow(string Account, int Revision, long FareTotal, long PricedTotal, int Journeys, int Taps, int Flags);

    private sealed record ChargeRow(string Account, string Issuer, int Revision, long Amount, string IdempotencyKey)
    {
        public long ChargeId { get; set; }
    }

    private sealed record LineRow(ChargeRow Charge, string OperatorId, long Gross, long Fee, long Net);
}
