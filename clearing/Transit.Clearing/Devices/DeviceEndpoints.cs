using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Transit.Clearing.Database;
using Transit.Clearing.Issuers;
using Transit.Clearing.Trust;
using Transit.DeviceApi;
using Transit.RideCodes;

namespace Transit.Clearing.Devices;

/// <summary>The device API of docs/device-api.md, served on the mutual-TLS listener.</summary>
public static class DeviceEndpoints
{
    private const string DeviceItem = "transit.device";
    internal const string ProblemBase = "https://transit.example/problems/";

    /// <summary>
    /// The device API's group: every request is authenticated as a registered device first. The tap upload is
    /// ingest's (<c>MapTapUploadEndpoints</c>), mapped on the group this returns.
    /// </summary>
    public static RouteGroupBuilder MapDeviceEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/device/v1").AddEndpointFilter(AuthenticateDevice);
        group.MapGet("/keyset", KeySet);
        group.MapGet("/denylist", DenyList);
        group.MapGet("/config", Config);
        group.MapGet("/issuers", Issuers);
        group.MapPost("/status", Status);
        return group;
    }

    /// <summary>The device the request was authenticated as.</summary>
    internal static RegisteredDevice Device(HttpContext http) => (RegisteredDevice)http.Items[DeviceItem]!;

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

    internal static IResult Forbidden(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status403Forbidden, title: "The device is not allowed", type: ProblemBase + "device-forbidden");

    /// <summary>
    /// The request body in a pooled buffer (return it to <see cref="ArrayPool{T}.Shared"/>), and its length. At most
    /// <paramref name="maxBytes"/> are read, counted after decompression, so a small gzip body that inflates to
    /// gigabytes costs no more than the limit: one byte more is a 413.
    /// </summary>
    internal static async Task<(byte[] Buffer, int Length)> ReadBodyAsync(HttpRequest request, int maxBytes, CancellationToken cancellation)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(request.ContentLength is > 0 && request.ContentLength <= maxBytes ? (int)request.ContentLength.Value + 1 : Math.Min(64 * 1024, maxBytes + 1));
        var length = 0;
        try
        {
            while (true)
            {
                if (length > maxBytes)
                {
                    throw new BadHttpRequestException("the body is over the limit", StatusCodes.Status413PayloadTooLarge);
                }

                if (length == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(buffer.Length * 2L, maxBytes + 1L));
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

    internal static IResult Invalid(string detail, IDictionary<string, string[]> errors, string title = "The tap batch is invalid", string type = "invalid-batch") =>
        TypedResults.ValidationProblem(errors, detail, title: title, type: ProblemBase + type);

    /// <summary>
    /// A body the serializer could not read, in the API's own words: the field by its JSON path and where it is. The
    /// serializer's message names .NET types, which tell a gate's developer nothing about the contract.
    /// </summary>
    internal static IResult NotJson(JsonException ex, string what, string title, string type)
    {
        var field = string.IsNullOrEmpty(ex.Path) || ex.Path == "$" ? "body" : ex.Path.TrimStart('$', '.');
        var where = ex.LineNumber is { } line ? string.Create(CultureInfo.InvariantCulture, $" (line {line + 1}, byte {ex.BytePositionInLine + 1})") : "";
        return Invalid(
            $"the body is not a valid {what}: {field} is not JSON of the type docs/device-api.md gives it{where}",
            new Dictionary<string, string[]> { [field] = ["not valid JSON of this field's type"] }, title, type);
    }

    internal static IResult TooLarge(string detail, string title = "The batch is too large", string type = "batch-too-large") =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status413PayloadTooLarge, title: title, type: ProblemBase + type);

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

        var deltas = since is > 0 && since < version ? directory.ReadDenyListDeltasAfter(since.Value) : [];
        var answer = deltas.Count > 0
            ? new DenyListAnswer(version, [.. deltas.Select(d => JsonElement.Parse(d.ToJson()))], null)
            : new DenyListAnswer(version, null, JsonElement.Parse(directory.ReadSignedDenyList().ToJson()));
        return TypedResults.Text(JsonSerializer.Serialize(answer, DeviceApiJson.Default.DenyListAnswer), "application/json");
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

    /// <summary>
    /// The device's operator's signed acceptance list with each accepted issuer's key set and deny list; 404 while the
    /// operator has never accepted another issuer (the gate keeps its configured ones).
    /// </summary>
    private static async Task<IResult> Issuers(HttpContext http, IssuerAcceptancePublisher publisher, CancellationToken cancellation)
    {
        // The operator comes from the device's registration, never from the request: a gate gets its own operator's list.
        if (await publisher.CurrentAsync(Device(http).OperatorId, cancellation) is not { } bundle)
        {
            return TypedResults.Problem(
                $"operator '{Device(http).OperatorId}' accepts no other issuers", statusCode: StatusCodes.Status404NotFound, title: "No acceptance list",
                type: ProblemBase + "no-acceptance-list");
        }

        if (NotModified(http, $"\"issuers-{bundle.Version}\""))
        {
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        }

        return TypedResults.Text(bundle.Json, "application/json");
    }

    private static async Task<IResult> Status(HttpContext http, Npgsql.NpgsqlDataSource dataSource, TimeProvider time, CancellationToken cancellation)
    {
        const string Title = "The status report is invalid";
        const string Type = "invalid-status";
        DeviceStatusReport? report;
        byte[]? body = null;
        try
        {
            int length;
            (body, length) = await ReadBodyAsync(http.Request, DeviceStatusBounds.MaxBodyBytes, cancellation);
            report = JsonSerializer.Deserialize(body.AsSpan(0, length), DeviceApiJson.Default.DeviceStatusReport);
        }
        catch (JsonException ex)
        {
            return NotJson(ex, "status report", Title, Type);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TooLarge($"the status report is larger than {DeviceStatusBounds.MaxBodyBytes / 1024} KiB", "The status report is too large", "status-too-large");
        }
        finally
        {
            if (body is not null)
            {
                ArrayPool<byte>.Shared.Return(body);
            }
        }

        var device = Device(http);
        if (report is null)
        {
            return Invalid("the body is empty", new Dictionary<string, string[]> { ["body"] = ["a status report is required"] }, Title, Type);
        }

        if (report.DeviceId != device.DeviceId)
        {
            return Forbidden($"the report names device '{report.DeviceId}' but the certificate is device '{device.DeviceId}'");
        }

        if (DeviceStatusBounds.Check(report) is { Count: > 0 } errors)
        {
            return Invalid($"the status report is out of bounds at {string.Join(", ", errors.Keys)}", errors, Title, Type);
        }

        var now = time.GetUtcNow();
        await Sql.ExecAsync(dataSource, """
            INSERT INTO device_status (device_id, reported_at, sent_at, key_set_version, deny_list_version, config_version, journal_backlog,
              highest_sequence, last_upload_at, last_sync_at, clock_offset_ms, tap_counts, p99_latency_micros, software_version,
              alarm, upload_error, sync_error, disk_free_bytes)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, $13, $14, $15, $16::jsonb, $17::jsonb, $18)
            ON CONFLICT (device_id) DO UPDATE SET reported_at = EXCLUDED.reported_at, sent_at = EXCLUDED.sent_at,
              key_set_version = EXCLUDED.key_set_version, deny_list_version = EXCLUDED.deny_list_version, config_version = EXCLUDED.config_version,
              journal_backlog = EXCLUDED.journal_backlog, highest_sequence = EXCLUDED.highest_sequence, last_upload_at = EXCLUDED.last_upload_at,
              last_sync_at = EXCLUDED.last_sync_at, clock_offset_ms = EXCLUDED.clock_offset_ms, tap_counts = EXCLUDED.tap_counts,
              p99_latency_micros = EXCLUDED.p99_latency_micros, software_version = EXCLUDED.software_version,
              alarm = EXCLUDED.alarm, upload_error = EXCLUDED.upload_error, sync_error = EXCLUDED.sync_error, disk_free_bytes = EXCLUDED.disk_free_bytes
            """, cancellation, device.DeviceId, now.UtcDateTime, report.SentAt?.UtcDateTime, report.KeySetVersion, report.DenyListVersion,
            report.ConfigVersion, report.JournalBacklog, report.HighestSequence, report.LastUploadAt?.UtcDateTime, report.LastSyncAt?.UtcDateTime,
            report.ClockOffsetMillis, JsonSerializer.Serialize(report.Taps ?? new Dictionary<string, long>(), DeviceApiJson.Default.IReadOnlyDictionaryStringInt64), report.P99LatencyMicros,
            report.SoftwareVersion, report.Alarm, ErrorJson(report.UploadError), ErrorJson(report.SyncError), report.DiskFreeBytes);
        return TypedResults.Ok(new DeviceStatusAnswer(now));

        static string? ErrorJson(LinkError? error) =>
            DeviceStatusBounds.Stored(error) is { } stored ? JsonSerializer.Serialize(stored, DeviceApiJson.Default.LinkError) : null;
    }

    private static bool NotModified(HttpContext http, string etag)
    {
        http.Response.Headers.ETag = etag;
        return http.Request.Headers.IfNoneMatch.Any(v => v == etag);
    }
}
