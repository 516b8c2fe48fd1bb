using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Transit.Clearing.Database;
using Transit.Clearing.Ingest;
using Transit.Clearing.Trust;
using Transit.RideCodes;

namespace Transit.Clearing.Devices;

/// <summary>What a gate reports about itself (POST /device/v1/status).</summary>
public sealed class DeviceStatusReport
{
    [JsonPropertyName("deviceId")] public string? DeviceId { get; set; }
    [JsonPropertyName("sentAt")] public DateTimeOffset? SentAt { get; set; }
    [JsonPropertyName("keySetVersion")] public long? KeySetVersion { get; set; }
    [JsonPropertyName("denyListVersion")] public long? DenyListVersion { get; set; }
    [JsonPropertyName("configVersion")] public long? ConfigVersion { get; set; }
    [JsonPropertyName("journalBacklog")] public long? JournalBacklog { get; set; }
    [JsonPropertyName("highestSequence")] public long? HighestSequence { get; set; }
    [JsonPropertyName("lastUploadAt")] public DateTimeOffset? LastUploadAt { get; set; }
    [JsonPropertyName("lastSyncAt")] public DateTimeOffset? LastSyncAt { get; set; }
    [JsonPropertyName("clockOffsetMillis")] public long? ClockOffsetMillis { get; set; }
    [JsonPropertyName("taps")] public Dictionary<string, long>? Taps { get; set; }
    [JsonPropertyName("p99LatencyMicros")] public long? P99LatencyMicros { get; set; }
    [JsonPropertyName("softwareVersion")] public string? SoftwareVersion { get; set; }
}

[JsonSerializable(typeof(TapBatch))]
[JsonSerializable(typeof(TapBatchResult))]
[JsonSerializable(typeof(DeviceConfig))]
[JsonSerializable(typeof(DeviceStatusReport))]
internal sealed partial class ClearingJson : JsonSerializerContext;

/// <summary>The device API of docs/device-api.md, served on the mutual-TLS listener.</summary>
public static class DeviceEndpoints
{
    private const string DeviceItem = "transit.device";
    private const string ProblemBase = "https://transit.example/problems/";

    public static IEndpointRouteBuilder MapDeviceEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/device/v1").AddEndpointFilter(AuthenticateDevice);
        group.MapPost("/taps", UploadTaps);
        group.MapGet("/keyset", KeySet);
        group.MapGet("/denylist", DenyList);
        group.MapGet("/config", Config);
        group.MapPost("/status", Status);
        return app;
    }

    private static RegisteredDevice Device(HttpContext http) => (RegisteredDevice)http.Items[DeviceItem]!;

    /// <summary>Only registered, unrevoked certificates of the device CA get through (the TLS handshake already checked the CA).</summary>
    private static async ValueTask<object?> AuthenticateDevice(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var certificate = await http.Connection.GetClientCertificateAsync(http.RequestAborted);
        if (certificate is null)
        {
            return Forbidden("no client certificate: the device API needs the device's certificate (mutual TLS)");
        }

        var registry = http.RequestServices.GetRequiredService<DeviceRegistry>();
        var device = await registry.FindAsync(certificate, http.RequestAborted);
        if (device is null)
        {
            return Forbidden($"certificate '{certificate.Subject}' is not registered");
        }

        if (device.RevokedAt is not null)
        {
            return Forbidden($"device {device.DeviceId} was revoked at {device.RevokedAt:O}");
        }

        http.Items[DeviceItem] = device;
        return await next(context);
    }

    private static IResult Forbidden(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status403Forbidden, title: "The device is not allowed", type: ProblemBase + "device-forbidden");

    private static async Task<IResult> UploadTaps(HttpContext http, IngestService ingest, IngestMetrics metrics, CancellationToken cancellation)
    {
        TapBatch? batch;
        var started = Stopwatch.GetTimestamp();
        byte[]? body = null;
        try
        {
            // The whole body first, then one synchronous parse: cheaper per tap than parsing the stream as it arrives.
            int length;
            (body, length) = await ReadBodyAsync(http.Request, cancellation);
            batch = JsonSerializer.Deserialize(body.AsSpan(0, length), ClearingJson.Default.TapBatch);
        }
        catch (JsonException ex)
        {
            var (field, detail) = Access.ApiProblems.Describe(ex);
            return Invalid($"the body is not a valid tap batch at {field}: {detail}", new Dictionary<string, string[]> { [field] = [detail] });
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TooLarge("the batch is larger than 8 MiB: split it");
        }
        finally
        {
            if (body is not null)
            {
                ArrayPool<byte>.Shared.Return(body);
            }
        }

        metrics.Parsed(Stopwatch.GetElapsedTime(started));
        if (batch is null)
        {
            return Invalid("the body is empty", new Dictionary<string, string[]> { ["body"] = ["a tap batch is required"] });
        }

        return await ingest.IngestAsync(Device(http), batch, cancellation) switch
        {
            IngestOutcome.Stored stored => TypedResults.Ok(stored.Result),
            IngestOutcome.Invalid invalid => Invalid(invalid.Detail, invalid.Errors),
            IngestOutcome.Conflict conflict => TypedResults.Problem(conflict.Detail, statusCode: StatusCodes.Status409Conflict,
                title: "The batch conflicts with stored taps", type: ProblemBase + "tap-conflict"),
            IngestOutcome.Forbidden forbidden => Forbidden(forbidden.Detail),
            IngestOutcome.TooLarge tooLarge => TooLarge(tooLarge.Detail),
            _ => throw new InvalidOperationException("unknown ingest outcome"),
        };
    }

    /// <summary>The request body in a pooled buffer (return it to <see cref="ArrayPool{T}.Shared"/>), and its length.</summary>
    private static async Task<(byte[] Buffer, int Length)> ReadBodyAsync(HttpRequest request, CancellationToken cancellation)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(request.ContentLength is > 0 and <= 8 * 1024 * 1024 ? (int)request.ContentLength.Value + 1 : 64 * 1024);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var read = await request.Body.ReadAsync(buffer.AsMemory(length), cancellation);
                if (read == 0)
                {
                    return (buffer, length);
                }

                length += read;
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    private static IResult Invalid(string detail, IDictionary<string, string[]> errors) =>
        TypedResults.ValidationProblem(errors, detail, title: "The tap batch is invalid", type: ProblemBase + "invalid-batch");

    private static IResult TooLarge(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status413PayloadTooLarge, title: "The batch is too large", type: ProblemBase + "batch-too-large");

    private static async Task<IResult> KeySet(HttpContext http, OperatorKeys keys, TrustHistory trust, CancellationToken cancellation)
    {
        var directory = keys.Open();
        // A newly published key set is recorded before any gate can use it, so taps made under it re-verify.
        await trust.RefreshAsync(cancellation);
        var etag = $"\"keyset-{directory.KeySet.Version}\"";
        if (NotModified(http, etag))
        {
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        }

        return TypedResults.Text(directory.ReadSignedKeySet().ToJson(), "application/json");
    }

    private static IResult DenyList(HttpContext http, OperatorKeys keys, long? since)
    {
        var directory = keys.Open();
        var version = directory.DenyList.Version;
        var etag = $"\"denylist-{version}\"";
        http.Response.Headers.ETag = etag;
        if (since == version || (since is null && http.Request.Headers.IfNoneMatch == etag))
        {
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        }

        var body = new JsonObject { ["version"] = version };
        var deltas = since is > 0 && since < version ? directory.ReadDenyListDeltasAfter(since.Value) : [];
        if (deltas.Count > 0)
        {
            body["deltas"] = new JsonArray([.. deltas.Select(d => JsonNode.Parse(d.ToJson()))]);
        }
        else
        {
            body["snapshot"] = JsonNode.Parse(directory.ReadSignedDenyList().ToJson());
        }

        return TypedResults.Text(body.ToJsonString(), "application/json");
    }

    private static async Task<IResult> Config(HttpContext http, DeviceRegistry registry, CancellationToken cancellation)
    {
        var device = Device(http);
        var etag = $"\"config-{device.ConfigVersion}\"";
        if (NotModified(http, etag))
        {
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        }

        return TypedResults.Text(await registry.ConfigDocumentAsync(device.DeviceId, cancellation), "application/json");
    }

    private static async Task<IResult> Status(HttpContext http, Npgsql.NpgsqlDataSource dataSource, TimeProvider time, CancellationToken cancellation)
    {
        DeviceStatusReport? report;
        try
        {
            report = await JsonSerializer.DeserializeAsync(http.Request.Body, ClearingJson.Default.DeviceStatusReport, cancellation);
        }
        catch (JsonException ex)
        {
            var (field, detail) = Access.ApiProblems.Describe(ex);
            return Invalid($"the body is not a status report at {field}: {detail}", new Dictionary<string, string[]> { [field] = [detail] });
        }

        var device = Device(http);
        if (report is null || report.DeviceId != device.DeviceId)
        {
            return report is null
                ? Invalid("the body is empty", new Dictionary<string, string[]> { ["body"] = ["a status report is required"] })
                : Forbidden($"the report names device '{report.DeviceId}' but the certificate is device '{device.DeviceId}'");
        }

        var now = time.GetUtcNow();
        await Sql.ExecAsync(dataSource, """
            INSERT INTO device_status (device_id, reported_at, sent_at, key_set_version, deny_list_version, config_version, journal_backlog,
              highest_sequence, last_upload_at, last_sync_at, clock_offset_ms, tap_counts, p99_latency_micros, software_version)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, $13, $14)
            ON CONFLICT (device_id) DO UPDATE SET reported_at = EXCLUDED.reported_at, sent_at = EXCLUDED.sent_at,
              key_set_version = EXCLUDED.key_set_version, deny_list_version = EXCLUDED.deny_list_version, config_version = EXCLUDED.config_version,
              journal_backlog = EXCLUDED.journal_backlog, highest_sequence = EXCLUDED.highest_sequence, last_upload_at = EXCLUDED.last_upload_at,
              last_sync_at = EXCLUDED.last_sync_at, clock_offset_ms = EXCLUDED.clock_offset_ms, tap_counts = EXCLUDED.tap_counts,
              p99_latency_micros = EXCLUDED.p99_latency_micros, software_version = EXCLUDED.software_version
            """, cancellation, device.DeviceId, now.UtcDateTime, report.SentAt?.UtcDateTime, report.KeySetVersion, report.DenyListVersion,
            report.ConfigVersion, report.JournalBacklog, report.HighestSequence, report.LastUploadAt?.UtcDateTime, report.LastSyncAt?.UtcDateTime,
            report.ClockOffsetMillis, JsonSerializer.Serialize(report.Taps ?? []), report.P99LatencyMicros, report.SoftwareVersion);
        return TypedResults.Ok(new { serverTime = now });
    }

    private static bool NotModified(HttpContext http, string etag)
    {
        http.Response.Headers.ETag = etag;
        return http.Request.Headers.IfNoneMatch.Any(v => v == etag);
    }
}
