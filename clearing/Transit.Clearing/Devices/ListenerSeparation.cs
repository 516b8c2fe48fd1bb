using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Transit.Clearing.Devices;

/// <summary>
/// Keeps the two listeners apart: the mutual-TLS device listener serves <c>/device/v1</c> and nothing else, and the
/// operators' listener never serves the device API. Any device certificate gets through the device handshake, so the
/// operators' API and dashboard there would answer every gate (and whoever took one); the device API on the operators'
/// listener would only ever answer 403, but has no business there either.
/// </summary>
public static class ListenerSeparation
{
    /// <summary>The path prefix of the device API.</summary>
    public const string DevicePrefix = "/device/v1";

    /// <summary>Marks connections accepted by the device listener (call before <c>UseHttps</c>).</summary>
    public static ListenOptions MarkDeviceListener(this ListenOptions listener)
    {
        listener.Use(next => connection =>
        {
            connection.Features.Set(DeviceListenerFeature.Instance);
            return next(connection);
        });
        return listener;
    }

    /// <summary>Answers 404 to a request that arrived on the wrong listener.</summary>
    public static IApplicationBuilder UseListenerSeparation(this IApplicationBuilder app) =>
        app.Use(async (http, next) =>
        {
            var onDeviceListener = http.Features.Get<DeviceListenerFeature>() is not null;
            if (onDeviceListener == http.Request.Path.StartsWithSegments(DevicePrefix))
            {
                await next(http);
                return;
            }

            var detail = onDeviceListener
                ? $"the device listener serves {DevicePrefix} only"
                : $"{DevicePrefix} is served on the device listener (mutual TLS) only";
            await TypedResults.Problem(detail, statusCode: StatusCodes.Status404NotFound, title: "Not served on this listener",
                type: "https://transit.example/problems/wrong-listener").ExecuteAsync(http);
        });

    /// <summary>Present on a connection of the device listener.</summary>
    private sealed class DeviceListenerFeature
    {
        public static readonly DeviceListenerFeature Instance = new();
    }
}
