using System.Globalization;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using Transit.Clearing.Charges;
using Transit.Clearing.Database;
using Transit.Clearing.Issuers;
using Transit.Clearing.Journeys;
using Transit.Clearing.Pricing;
using Transit.Clearing.Settlement;

namespace Transit.Clearing.Pipeline;

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
/// The first step of the day's jobs (Jobs/JobScheduler.DayPipeline): prices the account-days of a service day that
/// have taps not yet priced, and records for each the difference to charge (or refund) with its settlement lines. Its
/// stages run in this order, each a pure core beside its store: journeys (Journeys/JourneyBuilder, JourneyStore) →
/// prices and caps (Pricing/DayPricing) → charges (Charges/ChargeRules, ChargeStore) → settlement lines
/// (Settlement/OperatorShares, SettlementStore) → issuer dues (Issuers/IssuerDues); payments and the balance check
/// are the next jobs. The day is split into parts by account shard; each part is one
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

        await IssuerDues.SettleAsync(dataSource, day, terms, options.PlatformFeeBasisPoints, cancellation);
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

    /// <summary>
    /// One part of the day (account shards <paramref name="fromShard"/> to <paramref name="toShard"/>), in one
    /// transaction. The stages in their order: journeys' inputs read, each rider's day through the stages' cores
    /// (<see cref="AccountDayClearing"/>), then each stage's store writes its rows: journeys, charges, settlement lines.
    /// </summary>
    private async Task<DayClearingResult> ClearPartAsync(
        DateOnly day, int part, short fromShard, short toShard, IJourneyPricer pricer, CancellationToken cancellation)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellation);
        await using var transaction = await connection.BeginTransactionAsync(cancellation);
        await Sql.ExecAsync(connection, "SELECT pg_advisory_xact_lock($1, $2)", cancellation, day.DayNumber, part);
        var accounts = await JourneyStore.TakeDirtyAccountsAsync(connection, day, fromShard, toShard, cancellation);
        if (accounts.Length == 0)
        {
            await transaction.CommitAsync(cancellation);
            return DayClearingResult.Empty(day);
        }

        // What the stages need, read once for the part.
        var accountParam = Sql.Typed(accounts, NpgsqlDbType.Array | NpgsqlDbType.Text);
        var taps = await JourneyStore.BillableTapsAsync(connection, day, fromShard, toShard, accountParam, cancellation);
        var previous = await JourneyStore.PreviousAsync(connection, day, accountParam, cancellation);
        var previousShares = await SettlementStore.PreviousSharesAsync(connection, day, accountParam, cancellation);
        var prior = pricer.CapLookbackDays > 0
            ? await JourneyStore.PriorJourneysAsync(connection, day, pricer.CapLookbackDays, pricer.Currency, accountParam, cancellation)
            : null;

        // Each rider's day through journeys → prices and caps → charge → settlement lines, without SQL.
        var rules = new AccountDayRules(pricer, options.MaxJourneyTime, options.TransferWindow, options.PlatformFeeBasisPoints);
        var outcomes = accounts.Select(account => AccountDayClearing.Clear(
                account, day, [.. taps[account]], rules, previous.GetValueOrDefault(account),
                previousShares[account].ToDictionary(s => s.OperatorId, s => s.Gross, StringComparer.Ordinal),
                prior?[account].ToList() ?? []))
            .ToList();

        // Each stage's store, in the same order; all in the part's transaction.
        await JourneyStore.DeleteAsync(connection, day, accountParam, cancellation);
        await JourneyStore.WriteAsync(
            connection, day, pricer.Currency, time.GetUtcNow(),
            [.. outcomes.SelectMany(o => o.Journeys)], [.. outcomes.SelectMany(o => o.Legs)], [.. outcomes.Select(o => o.AccountDay)], cancellation);
        var charges = outcomes.Where(o => o.Charge is not null).Select(o => o.Charge!).ToList();
        await ChargeStore.WriteAsync(connection, day, pricer.Currency, charges, cancellation);
        await SettlementStore.WriteAsync(connection, day, [.. outcomes.SelectMany(o => o.Lines)], cancellation);
        if (pricer.CapLookbackDays > 0)
        {
            await JourneyStore.MarkLaterDaysAsync(connection, day, pricer.CapLookbackDays, accountParam, cancellation);
        }

        if (options.PauseInsidePart == part)
        {
            // Crash tests kill the process here: every row of the part written, nothing committed.
            Console.WriteLine($"clearing: part {part} written, not committed; pausing");
            await Task.Delay(Timeout.Infinite, cancellation);
        }

        await transaction.CommitAsync(cancellation);
        var unpriced = outcomes.SelectMany(o => o.Legs).Where(l => l.Flags.HasFlag(JourneyFlags.Unpriced)).ToList();
        return new DayClearingResult(
            day, accounts.Length, outcomes.Sum(o => o.AccountDay.Taps), outcomes.Sum(o => o.Journeys.Count), charges.Count, charges.Sum(c => c.Amount),
            unpriced.Count, unpriced.Sum(l => checked(l.Price.Amount + l.Price.TransferAmount)));
    }
}
