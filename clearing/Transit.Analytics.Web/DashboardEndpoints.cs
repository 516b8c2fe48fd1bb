using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Transit.Analytics.Web;

/// <summary>
/// Serves the dashboard's pages, scripts and the charting library from resources embedded at build time, so the
/// dashboard needs no CDN and no files beside the binary. The assets hold no data: every figure comes from the
/// analytics API with the caller's token, so they are served without one.
/// </summary>
public static class DashboardEndpoints
{
    public const string Prefix = "/dashboard";

    private static readonly Dictionary<string, string> ContentTypes = new(StringComparer.Ordinal)
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".svg"] = "image/svg+xml",
    };

    /// <summary>The dashboard's page names (file names without .html).</summary>
    public static IReadOnlyList<string> Pages { get; } = [.. typeof(DashboardEndpoints).Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith("dashboard/", StringComparison.Ordinal) && n.EndsWith(".html", StringComparison.Ordinal))
        .Select(n => n["dashboard/".Length..^".html".Length])
        .Order(StringComparer.Ordinal)];

    public static IEndpointRouteBuilder MapAnalyticsDashboard(this IEndpointRouteBuilder app)
    {
        app.MapGet(Prefix, () => TypedResults.Redirect(Prefix + "/")).ExcludeFromDescription();
        app.MapGet(Prefix + "/{**path}", (string? path, HttpContext context) =>
        {
            var name = "dashboard/" + (string.IsNullOrEmpty(path) ? "index.html" : path);
            var stream = typeof(DashboardEndpoints).Assembly.GetManifestResourceStream(name);
            if (stream is null || name.Contains("..", StringComparison.Ordinal))
            {
                stream?.Dispose();
                return Results.NotFound();
            }

            context.Response.Headers.CacheControl = "no-cache";
            return TypedResults.Stream(stream, ContentTypes.GetValueOrDefault(Path.GetExtension(name), "application/octet-stream"));
        }).AllowAnonymous().ExcludeFromDescription();
        return app;
    }
}
