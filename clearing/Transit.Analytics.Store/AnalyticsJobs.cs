using System.Globalization;
using Npgsql;
using Transit.Analytics.Chaining;
using Transit.Analytics.Exports;
using Transit.Analytics.Privacy;
using Transit.Analytics.Rollups;

namespace Transit.Analytics.Store;

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
    /// The rider-level input of the admin export (TIDES fare_transactions, GTFS-ride rider_trip) for service days
    /// <paramref name="from"/> to <paramref name="to"/>: every rider-day chained again from its taps, and for each
    /// boarding tap the operator share clearing charged for its leg, whether a fare cap lowered its journey and the
    /// fare product. Rider-level (the rider is its pseudonym): for admins only.
    /// </summary>
    public async Task<RiderLevel> RiderLevelAsync(DateOnly from, DateOnly to, CancellationToken cancellation)
    {
        var options = optionsOf();
        var riderDays = new List<RiderDay>();
        var prices = new Dictionary<(string Device, long Sequence), FarePrice>();
        for (var day = from; day <= to; day = day.AddDays(1))
        {
            var chainer = new TripChainer(await networks.ForDayAsync(day, cancellation), options);
            var service = new AnalyticsRefreshService(dataSource, new RollupRefresher(dataSource, chainer), pseudonyms);
            await using (var command = dataSource.CreateCommand(
                """
                SELECT l.entry_device, l.entry_seq, l.share, j.cap_adjustment <> 0, l.product_id
                FROM journey_legs l
                JOIN journeys j ON j.account = l.account AND j.service_day = l.service_day AND j.journey_no = l.journey_no
                WHERE l.service_day = $1 AND l.entry_device IS NOT NULL
                """))
            {
                command.Parameters.Add(new NpgsqlParameter { Value = day, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Date });
                await using var reader = await command.ExecuteReaderAsync(cancellation);
                while (await reader.ReadAsync(cancellation))
                {
                    prices[(reader.GetString(0), reader.GetInt64(1))] = new FarePrice(reader.GetInt64(2), reader.GetBoolean(3), await reader.IsDBNullAsync(4, cancellation) ? null : reader.GetString(4));
                }
            }

            var currentDay = day;
            riderDays.AddRange((await service.ReadDayAsync(day, cancellation)).Select(r => new RiderDay(r.Key, currentDay, r.Value, chainer.Chain(r.Key, currentDay, r.Value), [])));
        }

        return new RiderLevel(riderDays, t => t.DeviceId is { } device && prices.TryGetValue((device, t.Sequence), out var price) ? price : null);
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
