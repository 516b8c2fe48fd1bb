using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using Transit.DeviceApi;
using Transit.GateAgent.Clearing;
using Transit.GateAgent.Configuration;
using Transit.GateAgent.Hardware;
using Transit.GateAgent.Journal;
using Transit.GateAgent.Scanners;
using Transit.GateAgent.Status;
using Transit.GateAgent.Trust;

namespace Transit.GateAgent.Loopback;

/// <summary>
/// The loopback status endpoint: <c>GET /health</c>, <c>GET /metrics</c> (Prometheus text), <c>GET /hardware</c>
/// (simulated hardware's actions), and the local controls <c>POST /control/route</c> (driver console),
/// <c>POST /control/sync</c> and <c>POST /control/upload</c>. A small HTTP/1.1 server on a socket keeps ASP.NET out
/// of the gate (start time and memory); one request per connection.
/// </summary>
internal sealed class StatusServer(
    int port, GateState state, TapJournal journal, GateMetrics metrics, GateHealth health, GateEndpoints endpoints, SimulatedHardwareLog hardwareLog,
    IServiceProvider services, ILogger<StatusServer> logger) : LoopbackListenerService(port, "Status:Port")
{
    private const int MaxRequest = 64 * 1024;

    protected override void OnBound(int boundPort)
    {
        endpoints.StatusPort = boundPort;
        foreach (var (name, help, read) in Gauges())
        {
            metrics.AddGauge(name, help, read);
        }
    }

    protected override async Task ServeAsync(TcpClient client, CancellationToken stopping)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            var stream = client.GetStream();
            var (method, path, body) = await ReadRequestAsync(stream, timeout.Token).ConfigureAwait(false);
            var (status, contentType, content) = await RouteAsync(method, path, body, timeout.Token).ConfigureAwait(false);
            var bytes = Encoding.UTF8.GetBytes(content);
            var head = string.Create(
                CultureInfo.InvariantCulture,
                $"HTTP/1.1 {status} {(HttpStatusCode)status}\r\nContent-Type: {contentType}\r\nContent-Length: {bytes.Length}\r\nConnection: close\r\n\r\n");
            await stream.WriteAsync(Encoding.ASCII.GetBytes(head), timeout.Token).ConfigureAwait(false);
            await stream.WriteAsync(bytes, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidDataException or ObjectDisposedException or FormatException or OverflowException)
        {
            logger.LogDebug("status request failed: {Reason}", ex.Message);
        }
    }

    private async Task<(int Status, string ContentType, string Body)> RouteAsync(string method, string path, string body, CancellationToken cancellation)
    {
        const string Json = "application/json; charset=utf-8";
        var route = path.Split('?', 2)[0];
        switch (method, route)
        {
            case ("GET", "/health"):
                return (200, Json, JsonSerializer.Serialize(Health(null), LoopbackJson.Default.HealthReport));
            case ("GET", "/metrics"):
                using (var text = new MemoryStream())
                {
                    await metrics.WritePrometheusAsync(text, cancellation).ConfigureAwait(false);
                    return (200, "text/plain; version=0.0.4; charset=utf-8", Encoding.UTF8.GetString(text.GetBuffer(), 0, (int)text.Length));
                }

            case ("GET", "/hardware"):
                return (200, "text/plain; charset=utf-8", string.Join('\n', hardwareLog.Actions) + "\n");
            case ("POST", "/control/route"):
                RouteChange? change;
                try
                {
                    change = JsonSerializer.Deserialize(body, LoopbackJson.Default.RouteChange);
                }
                catch (JsonException ex)
                {
                    return (400, "text/plain; charset=utf-8", $"body must be {{\"routeId\":\"…\",\"stopId\":\"…\"}}: {ex.Message}\n");
                }

                if (change is null || (change.RouteId is null && change.StopId is null))
                {
                    return (400, "text/plain; charset=utf-8", "give routeId, stopId or both\n");
                }

                state.ChangeRoute(change.RouteId, change.StopId);
                return (200, Json, JsonSerializer.Serialize(Health(null), LoopbackJson.Default.HealthReport));
            case ("POST", "/control/sync"):
                if (services.GetService(typeof(SyncService)) is not SyncService sync)
                {
                    return (409, "text/plain; charset=utf-8", "no Clearing:Url is configured\n");
                }

                var result = await sync.SyncNowAsync(cancellation).ConfigureAwait(false);
                return (result.Complete ? 200 : 503, Json, JsonSerializer.Serialize(Health(result.Refused), LoopbackJson.Default.HealthReport));
            case ("POST", "/control/upload"):
                (services.GetService(typeof(UploadService)) as UploadService)?.Trigger();
                return (202, "text/plain; charset=utf-8", "upload triggered\n");
            default:
                return (404, "text/plain; charset=utf-8", "not found: GET /health, GET /metrics, GET /hardware, POST /control/route, POST /control/sync, POST /control/upload\n");
        }
    }

    private HealthReport Health(IReadOnlyList<string>? refused)
    {
        var context = state.Context;
        var gps = (services.GetService(typeof(Gps.GpsTracker)) as Gps.GpsTracker)?.Health();
        return new HealthReport(
            health.Status == "ok" && gps?.Status is { } gpsStatus ? gpsStatus : health.Status,
            context.DeviceId,
            context.OperatorId,
            context.Mode.Name(),
            context.StationId,
            context.StopId,
            context.RouteId,
            state.Trust.KeySet.Version,
            state.Trust.DenyList.Version,
            state.ConfigVersion,
            journal.LastSeq,
            journal.AckedThrough,
            journal.Backlog,
            metrics.LastUploadAt,
            metrics.LastSyncAt,
            metrics.ClockOffsetMillis,
            health.Refusal,
            refused,
            health.UploadError,
            health.SyncError,
            health.DiskFreeBytes,
            health.Problems(),
            gps);
    }

    // Named without the meter's prefix: they come out as transit_gate_<name>.
    private IEnumerable<(string, string, Func<double>)> Gauges()
    {
        yield return ("journal_backlog", "Taps committed but not yet acknowledged by clearing.", () => journal.Backlog);
        yield return ("journal_highest_sequence", "Highest committed sequence number.", () => journal.LastSeq);
        yield return ("last_upload_timestamp_seconds", "Unix time of the last acknowledged upload (0: none).", () => metrics.LastUploadUnixMs / 1000.0);
        yield return ("last_sync_timestamp_seconds", "Unix time of the last complete sync (0: none).", () => metrics.LastSyncUnixMs / 1000.0);
        yield return ("keyset_version", "Key set version in force.", () => state.Trust.KeySet.Version);
        yield return ("denylist_version", "Deny-list version in force.", () => state.Trust.DenyList.Version);
        yield return ("config_version", "Device configuration version from clearing (0: local settings).", () => state.ConfigVersion);
        yield return ("clock_offset_seconds", "Clearing's clock minus the gate's, from the last heartbeat.", () => (metrics.ClockOffsetMillis ?? 0) / 1000.0);
        yield return ("upload_alarm", "1 while clearing refuses the device or reports a conflict.", () => health.Refusal is null ? 0 : 1);
        yield return ("alarm", "1 while the amber light shows a problem (/health lists them).", () => health.Amber ? 1 : 0);
        yield return ("disk_free_bytes", "Free bytes in the journal's file system (-1 before the first check).", () => health.DiskFreeBytes);
        yield return ("verifier_unexpected_errors", "Exceptions caught inside verification (should stay 0).", () => state.Verifier.UnexpectedErrors);
    }

    private static async Task<(string Method, string Path, string Body)> ReadRequestAsync(NetworkStream stream, CancellationToken cancellation)
    {
        var buffer = new byte[MaxRequest];
        var length = 0;
        var headerEnd = -1;
        while (headerEnd < 0)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(length), cancellation).ConfigureAwait(false);
            if (n == 0)
            {
                throw new InvalidDataException("connection closed before the request ended");
            }

            length += n;
            headerEnd = buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8);
            if (headerEnd < 0 && length == buffer.Length)
            {
                throw new InvalidDataException("request headers too large");
            }
        }

        var head = Encoding.ASCII.GetString(buffer, 0, headerEnd).Split("\r\n");
        var requestLine = head[0].Split(' ');
        if (requestLine.Length < 2)
        {
            throw new InvalidDataException("bad request line");
        }

        var contentLength = 0;
        foreach (var header in head.Skip(1))
        {
            var colon = header.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && header.AsSpan(0, colon).Trim().Equals("content-length", StringComparison.OrdinalIgnoreCase))
            {
                contentLength = int.Parse(header.AsSpan(colon + 1).Trim(), CultureInfo.InvariantCulture);
            }
        }

        var bodyStart = headerEnd + 4;
        if (contentLength < 0 || bodyStart + contentLength > buffer.Length)
        {
            throw new InvalidDataException("request body too large");
        }

        while (length < bodyStart + contentLength)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(length), cancellation).ConfigureAwait(false);
            if (n == 0)
            {
                throw new InvalidDataException("connection closed inside the body");
            }

            length += n;
        }

        return (requestLine[0], requestLine[1], Encoding.UTF8.GetString(buffer, bodyStart, contentLength));
    }
}
