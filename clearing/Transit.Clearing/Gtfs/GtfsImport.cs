using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Npgsql;
using Transit.Clearing.Database;
using Transit.FareRules;
using Transit.Clearing.Pricing;

namespace Transit.Clearing.Gtfs;

/// <summary>Builds a pricer from the files of a GTFS feed (name → content).</summary>
public interface IFareEngineFactory
{
    /// <summary>Loads the feed; throws <see cref="GtfsImportException"/> naming the problems when it has errors.</summary>
    IJourneyPricer Create(IReadOnlyDictionary<string, string> files);
}

/// <summary>A feed that cannot be imported.</summary>
public sealed class GtfsImportException(string message) : Exception(message);

/// <summary>What an import stored.</summary>
/// <param name="OperatorIds">The feed's agency ids: the names operators, devices and tokens are registered under.</param>
/// <param name="Warnings">The feed's warnings that concern clearing (fares that need a destination the devices cannot know).</param>
public sealed record GtfsImportResult(
    long FeedId, DateOnly ValidFrom, IReadOnlyList<string> OperatorIds, int Routes, int Stops, IReadOnlyList<string>? Warnings = null);

/// <summary>An imported feed as <c>transit clearing feeds</c> lists it.</summary>
/// <param name="State"><c>in force</c> for the feed that prices today (the newest one valid on it), <c>future</c> for one
/// that applies from a later day, <c>superseded</c> for the older ones (they still price the days they cover).</param>
public sealed record ImportedFeed(long FeedId, DateOnly ValidFrom, DateTimeOffset ImportedAt, string Source, string Sha256, string State);

/// <summary>An operator (GTFS agency) as <c>transit operators</c> lists it.</summary>
public sealed record OperatorInfo(string OperatorId, string Name, string TimeZone, long Devices);

/// <summary>
/// Imports a GTFS feed, versioned by the date it applies from: operators (agencies), routes and stops as tables,
/// and the feed's files themselves, from which every clearing process builds the fare engine of a day.
/// </summary>
public sealed class GtfsImporter(NpgsqlDataSource dataSource, IFareEngineFactory engines, TimeProvider time)
{
    /// <summary>
    /// Imports the feed in <paramref name="directory"/> to apply from <paramref name="validFrom"/>, or when null from
    /// today in the time zone of the feed's first agency (a new feed is meant for the days ahead, never silently for
    /// days already cleared).
    /// </summary>
    public async Task<GtfsImportResult> ImportAsync(string directory, DateOnly? validFrom, CancellationToken cancellation)
    {
        if (!Directory.Exists(directory))
        {
            throw new GtfsImportException($"{directory} is not a folder");
        }

        var files = Directory.GetFiles(directory, "*.txt").OrderBy(f => f, StringComparer.Ordinal)
            .ToDictionary(f => Path.GetFileName(f), f => File.ReadAllText(f), StringComparer.Ordinal);
        foreach (var required in (string[])["agency.txt", "routes.txt", "stops.txt"])
        {
            if (!files.ContainsKey(required))
            {
                throw new GtfsImportException($"{directory}: {required} is missing");
            }
        }

        var feed = FareRulesEngineFactory.Load(files);
        engines.Create(files);
        var agencies = feed.Agencies.Values.OrderBy(a => a.Id, StringComparer.Ordinal).ToList();
        var from = validFrom ?? Today(agencies.Select(a => a.TimeZoneId).FirstOrDefault());
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(string.Concat(files.Select(f => f.Key + "\0" + f.Value + "\0"))));

        await using var connection = await dataSource.OpenConnectionAsync(cancellation);
        await using var transaction = await connection.BeginTransactionAsync(cancellation);
        var feedId = await Sql.ScalarAsync<long>(connection, """
            INSERT INTO gtfs_feeds (valid_from, source, sha256, files) VALUES ($1, $2, $3, $4::jsonb)
            ON CONFLICT (valid_from) DO UPDATE SET source = EXCLUDED.source, sha256 = EXCLUDED.sha256, files = EXCLUDED.files, imported_at = now()
            RETURNING feed_id
            """, cancellation, from, Path.GetFullPath(directory), hash, JsonSerializer.Serialize(files));
        await Sql.ExecAsync(connection, "DELETE FROM routes WHERE feed_id = $1", cancellation, feedId);
        await Sql.ExecAsync(connection, "DELETE FROM stops WHERE feed_id = $1", cancellation, feedId);
        foreach (var (id, name, zone) in agencies.Select(a => (a.Id, a.Name, a.TimeZoneId)))
        {
            await Sql.ExecAsync(connection, """
                INSERT INTO operators (operator_id, name, time_zone) VALUES ($1, $2, $3)
                ON CONFLICT (operator_id) DO UPDATE SET name = EXCLUDED.name, time_zone = EXCLUDED.time_zone, updated_at = now()
                """, cancellation, id, name, zone);
        }

        using (var copy = await connection.BeginBinaryImportAsync(
            "COPY routes (feed_id, route_id, operator_id, network_id, route_type, short_name, long_name) FROM STDIN (FORMAT BINARY)", cancellation))
        {
            foreach (var r in feed.Routes.Values)
            {
                await copy.StartRowAsync(cancellation);
                copy.Write(feedId, NpgsqlTypes.NpgsqlDbType.Bigint);
                copy.Write(r.Id, NpgsqlTypes.NpgsqlDbType.Text);
                copy.Write(r.AgencyId, NpgsqlTypes.NpgsqlDbType.Text);
                copy.PutText(r.NetworkId);
                copy.Write(r.RouteType, NpgsqlTypes.NpgsqlDbType.Integer);
                copy.PutText(r.ShortName);
                copy.PutText(r.LongName);
            }

            await copy.CompleteAsync(cancellation);
        }

        using (var copy = await connection.BeginBinaryImportAsync(
            "COPY stops (feed_id, stop_id, name, location_type, parent_station) FROM STDIN (FORMAT BINARY)", cancellation))
        {
            foreach (var stop in feed.Stops.Values)
            {
                await copy.StartRowAsync(cancellation);
                copy.Write(feedId, NpgsqlTypes.NpgsqlDbType.Bigint);
                copy.Write(stop.Id, NpgsqlTypes.NpgsqlDbType.Text);
                copy.PutText(stop.Name);
                copy.Write(stop.LocationType, NpgsqlTypes.NpgsqlDbType.Integer);
                copy.PutText(stop.ParentStationId);
            }

            await copy.CompleteAsync(cancellation);
        }

        await transaction.CommitAsync(cancellation);
        return new GtfsImportResult(
            feedId, from, [.. agencies.Select(a => a.Id)], feed.Routes.Count, feed.Stops.Count,
            [.. feed.Report.Notices.Where(n => n.Code == NoticeCodes.FareNeedsDestinationWithoutTapOut).Select(n => n.ToString())]);
    }

    /// <summary>Every imported feed, oldest first, marking the one in force today (in the operators' time zone).</summary>
    public async Task<List<ImportedFeed>> ListAsync(CancellationToken cancellation)
    {
        var zone = await Sql.ScalarAsync<string>(dataSource, "SELECT time_zone FROM operators ORDER BY operator_id LIMIT 1", cancellation);
        var today = Today(zone);
        var feeds = await Sql.ListAsync(dataSource, """
            SELECT feed_id, valid_from, imported_at, source, encode(sha256, 'hex') FROM gtfs_feeds ORDER BY valid_from
            """, r => new ImportedFeed(r.GetInt64(0), r.GetFieldValue<DateOnly>(1), r.GetFieldValue<DateTimeOffset>(2), r.GetString(3), r.GetString(4), "superseded"), cancellation);
        var inForce = feeds.LastOrDefault(f => f.ValidFrom <= today);
        return [.. feeds.Select(f => f == inForce ? f with { State = "in force" } : f.ValidFrom > today ? f with { State = "future" } : f)];
    }

    /// <summary>The operators of the imported feeds with the number of devices registered to each.</summary>
    public Task<List<OperatorInfo>> OperatorsAsync(CancellationToken cancellation) =>
        Sql.ListAsync(dataSource, """
            SELECT o.operator_id, o.name, o.time_zone, (SELECT count(*) FROM devices d WHERE d.operator_id = o.operator_id AND d.revoked_at IS NULL)
            FROM operators o ORDER BY o.operator_id
            """, r => new OperatorInfo(r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt64(3)), cancellation);

    private DateOnly Today(string? timeZoneId)
    {
        var zone = timeZoneId is not null && TimeZoneInfo.TryFindSystemTimeZoneById(timeZoneId, out var found) ? found : TimeZoneInfo.Utc;
        return DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(time.GetUtcNow(), zone).DateTime);
    }
}

/// <summary>The pricer of each service day: built from the feed valid on that day, once per feed and process.</summary>
public sealed class FeedPricerSource(NpgsqlDataSource dataSource, IFareEngineFactory engines) : IPricerSource
{
    private readonly ConcurrentDictionary<long, Lazy<IJourneyPricer>> _pricers = new();

    public async Task<IJourneyPricer> ForDayAsync(DateOnly day, CancellationToken cancellation)
    {
        var feed = (await Sql.ListAsync(dataSource, """
            SELECT feed_id, sha256 FROM gtfs_feeds WHERE valid_from <= $1 ORDER BY valid_from DESC LIMIT 1
            """, r => (Id: r.GetInt64(0), Hash: r.GetFieldValue<byte[]>(1)), cancellation, day)).FirstOrDefault();
        if (feed.Hash is null)
        {
            throw new GtfsImportException($"no GTFS feed is valid on {day:yyyy-MM-dd}: import one with 'transit clearing import-gtfs'");
        }

        var key = BitConverter.ToInt64(feed.Hash) ^ feed.Id;
        if (_pricers.TryGetValue(key, out var cached))
        {
            return cached.Value;
        }

        var json = await Sql.ScalarAsync<string>(dataSource, "SELECT files::text FROM gtfs_feeds WHERE feed_id = $1", cancellation, feed.Id);
        var files = JsonSerializer.Deserialize<Dictionary<string, string>>(json!)!;
        return _pricers.GetOrAdd(key, _ => new Lazy<IJourneyPricer>(() => engines.Create(files))).Value;
    }
}
