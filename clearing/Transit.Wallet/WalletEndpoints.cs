using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Transit.Wallet;

/// <summary>
/// Serves the riders' wallet (an installable offline web app) from resources embedded at build time: no CDN, no files
/// beside the binary. The files hold no rider data; the wallet talks to <c>/rider/v1</c> with the rider's own token.
/// </summary>
public static class WalletEndpoints
{
    public const string Prefix = "/wallet";

    private static readonly Dictionary<string, string> ContentTypes = new(StringComparer.Ordinal)
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".svg"] = "image/svg+xml",
        [".webmanifest"] = "application/manifest+json",
    };

    /// <summary>The wallet's files (for the service worker's list and the tests).</summary>
    public static IReadOnlyList<string> Files { get; } =
        [.. typeof(WalletEndpoints).Assembly.GetManifestResourceNames().Where(n => n.StartsWith("wallet/", StringComparison.Ordinal)).Select(n => n["wallet/".Length..]).Order(StringComparer.Ordinal)];

    public static IEndpointRouteBuilder MapWallet(this IEndpointRouteBuilder app)
    {
        app.MapGet(Prefix + "/{**path}", (string? path, HttpContext context) =>
        {
            // The catch-all also takes "/wallet" itself, where the page's relative links would miss the folder.
            if (!context.Request.Path.Value!.StartsWith(Prefix + "/", StringComparison.Ordinal))
            {
                return Results.Redirect(Prefix + "/");
            }

            path = string.IsNullOrEmpty(path) ? "index.html" : path;
            if (!Files.Contains(path, StringComparer.Ordinal))
            {
                return Results.NotFound();
            }

            // Revalidated each time: the service worker keeps the offline copy, and a new version must reach it.
            context.Response.Headers.CacheControl = "no-cache";
            context.Response.Headers.XContentTypeOptions = "nosniff";
            context.Response.Headers["Content-Security-Policy"] =
                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; manifest-src 'self'; worker-src 'self'; frame-ancestors 'none'";
            context.Response.Headers["Referrer-Policy"] = "no-referrer";
            var stream = typeof(WalletEndpoints).Assembly.GetManifestResourceStream("wallet/" + path)!;
            return TypedResults.Stream(stream, ContentTypes.GetValueOrDefault(Path.GetExtension(path), "application/octet-stream"));
        }).AllowAnonymous().ExcludeFromDescription();
        return app;
    }
}
