using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Transit.Clearing.Devices;
using Transit.DeviceApi;

namespace Transit.Clearing.Ingest;

/// <summary><c>POST /device/v1/taps</c> (docs/device-api.md): a device's journal, uploaded in batches.</summary>
public static class TapUploadEndpoints
{
    /// <summary>Largest tap batch body, after decompression.</summary>
    private const int MaxBatchBytes = 8 * 1024 * 1024;

    /// <summary>Maps the upload on the device API's authenticated group (<see cref="DeviceEndpoints.MapDeviceEndpoints"/>).</summary>
    public static RouteGroupBuilder MapTapUploadEndpoints(this RouteGroupBuilder deviceApi)
    {
        deviceApi.MapPost("/taps", UploadTaps);
        return deviceApi;
    }

    private static async Task<IResult> UploadTaps(HttpContext http, IngestService ingest, IngestMetrics metrics, CancellationToken cancellation)
    {
        TapBatch? batch;
        var started = Stopwatch.GetTimestamp();
        byte[]? body = null;
        var length = 0;
        try
        {
            // The whole body first, then one synchronous parse: cheaper per tap than parsing the stream as it arrives.
            (body, length) = await DeviceEndpoints.ReadBodyAsync(http.Request, MaxBatchBytes, cancellation);
            batch = JsonSerializer.Deserialize(body.AsSpan(0, length), AsSentJson.TapBatch);
        }
        catch (JsonException ex)
        {
            return body is not null && TapBatch.MissingField(body.AsMemory(0, length), ex.Path) is { } missing
                ? DeviceEndpoints.Invalid($"{missing} is missing", new Dictionary<string, string[]> { [missing] = ["required"] })
                : DeviceEndpoints.NotJson(ex, "tap batch", "The tap batch is invalid", "invalid-batch");
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return DeviceEndpoints.TooLarge("the batch is larger than 8 MiB: split it");
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
            return DeviceEndpoints.Invalid("the body is empty", new Dictionary<string, string[]> { ["body"] = ["a tap batch is required"] });
        }

        return await ingest.IngestAsync(DeviceEndpoints.Device(http), batch, cancellation) switch
        {
            IngestOutcome.Stored stored => TypedResults.Ok(stored.Result),
            IngestOutcome.Invalid invalid => DeviceEndpoints.Invalid(invalid.Detail, invalid.Errors),
            IngestOutcome.Conflict conflict => TypedResults.Problem(conflict.Detail, statusCode: StatusCodes.Status409Conflict,
                title: "The batch conflicts with stored taps", type: DeviceEndpoints.ProblemBase + "tap-conflict"),
            IngestOutcome.Forbidden forbidden => DeviceEndpoints.Forbidden(forbidden.Detail),
            IngestOutcome.TooLarge tooLarge => DeviceEndpoints.TooLarge(tooLarge.Detail),
            _ => throw new InvalidOperationException("unknown ingest outcome"),
        };
    }
}
