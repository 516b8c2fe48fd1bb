using System.Globalization;
using Npgsql;
using Transit.Analytics.Chaining;
using Transit.Analytics.Exports;
using Transit.Analytics.Privacy;
using Transit.Analytics.Rollups;

namespace Transit.Analytics.Web.Store;

/// <summary>
/// The analytics jobs of the clearing job queue. <see cref="Refresh"/> runs while taps arrive (queued by ingest or
/// on a timer); <see cref="CloseDay"/> after a day's clearing run: a full refresh and the revenue from its prices.
/// Both are keyed by the day, so the queue runs at most one per day at a time.
/// </summary>
/// <param name="optionsOf">The analytics options as they stand when a job runs (the service time zone is known only once the database is read).</param>
public sealed class AnalyticsJobs(NpgsqlDataSource dataSource, FeedNetworks networks, Pseudonymizer pseudonyms, Func<AnalyticsOptions> optionsOf)
{
    public const string Refresh = "analytics-refresh";
    public const string CloseDay = "analytics-close-day";

    public static bool Handles(string kind) => kind is Refresh or CloseDay;

    /// <summary>
    /// The TIDES fare transactions of a day: every accepted tap, boardings that continue a journey marked as transfer
    /// entrances, each boarding with the operator share clearing priced for its leg. Rider-level (the token is the
    /// pseudonym): for admins only.
    /// </summary>
    public async Task<List<FareTransaction>> FareTransactionsAsync(DateOnly day, CancellationToken cancellation)
    {
        var options = optionsOf();
        var chainer = new TripChainer(await networks.ForDayAsync(day, cancellation), options);
        var service = new AnalyticsRefreshService(dataSource, new RollupRefresher(dataSource, chainer), pseudonyms);
        var shares = new Dictionary<(string, long), long>();
        await using (var command = dataSource.CreateCommand("SELECT entry_device, entry_seq, share FROM journey_legs WHERE service_day = $1 AND entry_device IS NOT NULL"))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = day, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Date });
            await using var reader = await command.ExecuteReaderAsync(cancellation);
            while (await reader.ReadAsync(cancellation))
            {
                shares[(reader.GetString(0), reader.GetInt64(1))] = reader.GetInt64(2);
            }
        }

        return [.. (await service.ReadDayAsync(day, cancellation))
            .SelectMany(r => StandardExports.TransactionsOf(new RiderDay(r.Key, day, r.Value, chainer.Chain(r.Key, day, r.Value), []), t => shares.GetValueOrDefault((t.DeviceId ?? "", t.Sequence))))];
    }

    /// <summary>Runs a job; returns the result line the job queue records.</summary>
    public async Task<string> ExecuteAsync(string kind, string key, CancellationToken cancellation)
    {
        var day = DateOnly.ParseExact(key, "yyyy-MM-dd", CultureInfo.InvariantCulture);
        var chainer = new TripChainer(await networks.ForDayAsync(day, cancellation), optionsOf());
        var service = new AnalyticsRefreshService(dataSource, new RollupRefresher(dataSource, chainer), pseudonyms);
        switch (kind)
        {
            case Refresh:
                return (await service.RefreshDayAsync(day, full: false, cancellation)).ToString();
            case CloseDay:
                var result = await service.RefreshDayAsync(day, full: true, cancellation);
                var revenue = await new RevenueRefresh(dataSource, pseudonyms).RefreshDayAsync(day, cancellation);
                return $"{result}; {revenue} revenue cells";
            default:
                throw new InvalidOperationException($"'{kind}' is not an analytics job");
        }
    }
}
