using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Npgsql;
using Transit.Clearing.Database;
using Transit.Clearing.Journeys;

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
public sealed record GtfsImportResult(long FeedId, DateOnly ValidFrom, int Operators, int Routes, int Stops);

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

        engines.Create(files);
        var agencies = Rows(files["agency.txt"]).Select(r => (Id: r.GetValueOrDefault("agency_id") ?? "", Name: r.GetValueOrDefault("agency_name") ?? "", Zone: r.GetValueOrDefault("agency_timezone") ?? "UTC")).ToList();
        var defaultAgency = agencies.Count == 1 ? agencies[0].Id : "";
        var routes = Rows(files["routes.txt"]).ToList();
        var stops = Rows(files["stops.txt"]).ToList();
        var networks = files.TryGetValue("route_networks.txt", out var routeNetworks)
            ? Rows(routeNetworks).Where(r => r.ContainsKey("route_id")).ToDictionary(r => r["route_id"]!, r => r.GetValueOrDefault("network_id"), StringComparer.Ordinal)
            : [];
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
        foreach (var (id, name, zone) in agencies)
        {
            await Sql.ExecAsync(connection, """
                INSERT INTO operators (operator_id, name, time_zone) VALUES ($1, $2, $3)
                ON CONFLICT (operator_id) DO UPDATE SET name = EXCLUDED.name, time_zone = EXCLUDED.time_zone, updated_at = now()
                """, cancellation, id, name, zone);
        }

        using (var copy = await connection.BeginBinaryImportAsync(
            "COPY routes (feed_id, route_id, operator_id, network_id, route_type, short_name, long_name) FROM STDIN (FORMAT BINARY)", cancellation))
        {
            foreach (var r in routes)
            {
                var routeId = r.GetValueOrDefault("route_id") ?? throw new GtfsImportException("routes.txt: a route has no route_id");
                copy.StartRow();
                copy.Write(feedId, NpgsqlTypes.NpgsqlDbType.Bigint);
                copy.Write(routeId, NpgsqlTypes.NpgsqlDbType.Text);
                copy.Write(r.GetValueOrDefault("agency_id") is { Length: > 0 } agency ? agency : defaultAgency, NpgsqlTypes.NpgsqlDbType.Text);
                copy.PutText(r.GetValueOrDefault("network_id") is { Length: > 0 } network ? network : networks.GetValueOrDefault(routeId));
                copy.Write(int.TryParse(r.GetValueOrDefault("route_type"), CultureInfo.InvariantCulture, out var type) ? type : 3, NpgsqlTypes.NpgsqlDbType.Integer);
                copy.PutText(r.GetValueOrDefault("route_short_name"));
                copy.PutText(r.GetValueOrDefault("route_long_name"));
            }

            await copy.CompleteAsync(cancellation);
        }

        using (var copy = await connection.BeginBinaryImportAsync(
            "COPY stops (feed_id, stop_id, name, location_type, parent_station) FROM STDIN (FORMAT BINARY)", cancellation))
        {
            foreach (var s in stops)
            {
                copy.StartRow();
                copy.Write(feedId, NpgsqlTypes.NpgsqlDbType.Bigint);
                copy.Write(s.GetValueOrDefault("stop_id") ?? throw new GtfsImportException("stops.txt: a stop has no stop_id"), NpgsqlTypes.NpgsqlDbType.Text);
                copy.PutText(s.GetValueOrDefault("stop_name"));
                copy.Write(int.TryParse(s.GetValueOrDefault("location_type"), CultureInfo.InvariantCulture, out var type) ? type : 0, NpgsqlTypes.NpgsqlDbType.Integer);
                copy.PutText(s.GetValueOrDefault("parent_station") is { Length: > 0 } parent ? parent : null);
            }

            await copy.CompleteAsync(cancellation);
        }

        await transaction.CommitAsync(cancellation);
        return new GtfsImportResult(feedId, validFrom, agencies.Count, routes.Count, stops.Count);
    }

    private static IEnumerable<Dictionary<string, string?>> Rows(string text)
    {
        using var reader = new StringReader(text.TrimStart('\uFEFF'));
        var header = Fields(reader);
        while (header is not null && Fields(reader) is { } fields)
        {
            var row = new Dictionary<string, string?>(StringComparer.Ordinal);
            for (var i = 0; i < header.Count && i < fields.Count; i++)
            {
                row[header[i].Trim()] = fields[i].Length == 0 ? null : fields[i];
            }

            yield return row;
        }
    }

    /// <summary>One CSV record (RFC 4180 quoting), or null at the end.</summary>
    private static List<string>? Fields(StringReader reader)
    {
        if (reader.Peek() < 0)
        {
            return null;
        }

        var fields = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        while (true)
        {
            var c = reader.Read();
            if (c < 0 || (!quoted && c == '\n'))
            {
                fields.Add(field.ToString().TrimEnd('\r'));
                return fields;
            }

            if (quoted && c == '"' && reader.Peek() == '"')
            {
                field.Append('"');
                reader.Read();
            }
            else if (c == '"')
            {
                quoted = !quoted;
            }
            else if (!quoted && c == ',')
            {
                fields.Add(field.ToString());
                field.Clear();
            }
            else
            {
                field.Append((char)c);
            }
        }
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
