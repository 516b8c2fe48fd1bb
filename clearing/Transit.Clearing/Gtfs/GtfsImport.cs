using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Npgsql;
using Transit.Clearing.Database;
using Transit.Clearing.Journeys;
using Transit.FareRules;

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
/// <param name="Warnings">The feed's warnings that concern clearing (fares that need a destination the devices cannot know).</param>
public sealed record GtfsImportResult(long FeedId, DateOnly ValidFrom, int Operators, int Routes, int Stops, IReadOnlyList<string>? Warnings = null);

/// <summary>
/// Imports a GTFS feed, versioned by the date it applies from: operators (agencies), routes and stops as tables,
/// and the feed's files themselves, from which every clearing process builds the fare engine of a day.
/// </summary>
public sealed class GtfsImporter(NpgsqlDataSource dataSource, IFareEngineFactory engines)
{
    public async Task<GtfsImportResult> ImportAsync(string directory, DateOnly validFrom, CancellationToken cancellation)
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
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(string.Concat(files.Select(f => f.Key + "\0" + f.Value + "\0"))));

        await using var connection = await dataSource.OpenConnectionAsync(cancellation);
        await using var transaction = await connection.BeginTransactionAsync(cancellation);
        var feedId = await Sql.ScalarAsync<long>(connection, """
            INSERT INTO gtfs_feeds (valid_from, source, sha256, files) VALUES ($1, $2, $3, $4::jsonb)
            ON CONFLICT (valid_from) DO UPDATE SET source = EXCLUDED.source, sha256 = EXCLUDED.sha256, files = EXCLUDED.files, imported_at = now()
            RETURNING feed_id
            """, cancellation, validFrom, Path.GetFullPath(directory), hash, JsonSerializer.Serialize(files));
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
                copy.StartRow();
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
                copy.StartRow();
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
            feedId, validFrom, agencies.Count, feed.Routes.Count, feed.Stops.Count,
            [.. feed.Report.Notices.Where(n => n.Code == NoticeCodes.FareNeedsDestinationWithoutTapOut).Select(n => n.ToString())]);
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
