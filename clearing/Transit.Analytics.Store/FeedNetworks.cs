using System.Collections.Concurrent;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Transit.Analytics.Gtfs;

namespace Transit.Analytics.Store;

/// <summary>
/// The transit network of a service day, from the GTFS feed clearing imported for it (<c>gtfs_feeds.files</c>,
/// valid from a date on), loaded once per feed.
/// </summary>
public sealed class FeedNetworks(NpgsqlDataSource dataSource)
{
    private readonly ConcurrentDictionary<long, Lazy<Task<TransitNetwork>>> _byFeed = new();

    public async Task<TransitNetwork> ForDayAsync(DateOnly day, CancellationToken cancellation)
    {
        await using var command = dataSource.CreateCommand("SELECT feed_id FROM gtfs_feeds WHERE valid_from <= $1 ORDER BY valid_from DESC LIMIT 1");
        command.Parameters.Add(new NpgsqlParameter { Value = day, NpgsqlDbType = NpgsqlDbType.Date });
        var feedId = await command.ExecuteScalarAsync(cancellation) as long?
            ?? throw new InvalidOperationException($"no GTFS feed is imported for {day:yyyy-MM-dd} (transit clearing import-gtfs)");
        return await _byFeed.GetOrAdd(feedId, id => new Lazy<Task<TransitNetwork>>(() => LoadAsync(id))).Value;
    }

    private async Task<TransitNetwork> LoadAsync(long feedId)
    {
        await using var command = dataSource.CreateCommand("SELECT files::text FROM gtfs_feeds WHERE feed_id = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = feedId, NpgsqlDbType = NpgsqlDbType.Bigint });
        var json = (string)(await command.ExecuteScalarAsync())!;
        return TransitNetwork.FromFiles(JsonSerializer.Deserialize<Dictionary<string, string>>(json)!);
    }
}
