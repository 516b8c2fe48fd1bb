using Npgsql;
using Transit.Clearing.Database;

namespace Transit.Clearing.Access;

/// <summary>A name given by an operator (operator, station, route, stop) that the imported GTFS feeds do not know.</summary>
public sealed class UnknownReferenceException(string message) : Exception(message);

/// <summary>
/// Checks operator, station, route and stop ids against the imported GTFS feeds before a token or a device is made
/// for them: a device registered for a stop no feed has would upload taps that no fare rule can price, and a token
/// for a misspelt operator would read nothing and look like a quiet day.
/// </summary>
public static class FeedReferences
{
    /// <summary>Throws <see cref="UnknownReferenceException"/> unless an imported feed has the operator.</summary>
    public static async Task CheckOperatorAsync(NpgsqlDataSource dataSource, string operatorId, CancellationToken cancellation)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellation);
        await CheckOperatorAsync(connection, operatorId, cancellation);
    }

    /// <summary>Throws <see cref="UnknownReferenceException"/> unless the operator, station, route and stop are in an imported feed, the route the operator's.</summary>
    public static async Task CheckDeviceAsync(
        NpgsqlDataSource dataSource, string operatorId, string? stationId, string? routeId, string? stopId, CancellationToken cancellation)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellation);
        await CheckOperatorAsync(connection, operatorId, cancellation);
        foreach (var (option, stop) in new[] { ("--station", stationId), ("--stop", stopId) })
        {
            if (stop is not null && !await ExistsAsync(connection, "SELECT EXISTS (SELECT 1 FROM stops WHERE stop_id = $1)", cancellation, stop))
            {
                throw new UnknownReferenceException($"{option} '{stop}' is not a stop_id of the imported GTFS feed");
            }
        }

        if (routeId is not null)
        {
            var owners = await Sql.ListAsync(connection, "SELECT DISTINCT operator_id FROM routes WHERE route_id = $1", r => r.GetString(0), cancellation, routeId);
            if (owners.Count == 0)
            {
                throw new UnknownReferenceException($"--route '{routeId}' is not a route_id of the imported GTFS feed");
            }

            if (!owners.Contains(operatorId))
            {
                throw new UnknownReferenceException($"--route '{routeId}' belongs to operator {string.Join(", ", owners)}, not to --operator '{operatorId}'");
            }
        }
    }

    /// <summary>Whether an imported feed has the operator (statements of an unknown operator are an error, not zeros).</summary>
    public static async Task<bool> OperatorExistsAsync(NpgsqlConnection connection, string operatorId, CancellationToken cancellation) =>
        await ExistsAsync(connection, "SELECT EXISTS (SELECT 1 FROM operators WHERE operator_id = $1)", cancellation, operatorId);

    private static async Task CheckOperatorAsync(NpgsqlConnection connection, string operatorId, CancellationToken cancellation)
    {
        if (!await ExistsAsync(connection, "SELECT EXISTS (SELECT 1 FROM gtfs_feeds)", cancellation))
        {
            throw new UnknownReferenceException("no GTFS feed is imported yet: run 'transit clearing import-gtfs --feed DIR' first");
        }

        if (!await OperatorExistsAsync(connection, operatorId, cancellation))
        {
            var known = await Sql.ListAsync(connection, "SELECT operator_id FROM operators ORDER BY 1 LIMIT 20", r => r.GetString(0), cancellation);
            throw new UnknownReferenceException($"--operator '{operatorId}' is not an agency_id of the imported GTFS feed (known: {string.Join(", ", known)})");
        }
    }

    private static async Task<bool> ExistsAsync(NpgsqlConnection connection, string sql, CancellationToken cancellation, params object?[] parameters) =>
        await Sql.ScalarAsync<bool>(connection, sql, cancellation, parameters);
}
