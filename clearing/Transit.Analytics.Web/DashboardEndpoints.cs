using System.Net;
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
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".svg"] = "image/svg+xml",
    };

    /// <summary>The dashboard's pages (served as NAME.html) and their titles; app.js draws each from the API.</summary>
    public static IReadOnlyDictionary<string, string> Pages { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["index"] = "Overview",
        ["hourly"] = "Boardings by hour",
        ["busiest"] = "Busiest stations and routes",
        ["od"] = "Origin–destination",
        ["transfers"] = "Transfer flows",
        ["statements"] = "Settlement statements",
    };

    private static readonly Lazy<string> Shell = new(() =>
    {
        using var stream = typeof(DashboardEndpoints).Assembly.GetManifestResourceStream("dashboard/shell.html")!;
        return new StreamReader(stream).ReadToEnd();
    });

    public static IEndpointRouteBuilder MapAnalyticsDashboard(this IEndpointRouteBuilder app)
    {
        // Routing matches "/dashboard/" to the bare route as well, so neither may redirect to the other (a browser
        // would loop): both serve the overview, whose <base> makes its relative links resolve under the folder.
        app.MapGet(Prefix, (HttpContext context) => Page("index", context)).AllowAnonymous().ExcludeFromDescription();
        app.MapGet(Prefix + "/{**path}", (string? path, HttpContext context) =>
        {
            path = string.IsNullOrEmpty(path) ? "index.html" : path;
            if (path.EndsWith(".html", StringComparison.Ordinal))
            {
                return Page(path[..^".html".Length], context);
            }

            var name = "dashboard/" + path;
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

    private static IResult Page(string page, HttpContext context)
    {
        if (!Pages.TryGetValue(page, out var title))
        {
            return Results.NotFound();
        }

        context.Response.Headers.CacheControl = "no-cache";
        var folder = WebUtility.HtmlEncode(context.Request.PathBase.Add(Prefix + "/").ToUriComponent());
        return TypedResults.Content(
            Shell.Value.Replace("{{base}}", folder, StringComparison.Ordinal).Replace("{{page}}", page, StringComparison.Ordinal).Replace("{{title}}", title, StringComparison.Ordinal),
            "text/html; charset=utf-8");
    }
}
