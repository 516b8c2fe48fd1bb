using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Transit.Wallet;

/// <summary>
/// A folder of static files embedded in an assembly at build time (pages, scripts, a library from npm), served under
/// one path with a strict Content-Security-Policy: no CDN, no files beside the binary. Used by the wallet and by the
/// demo's gate scanner page.
/// </summary>
/// <param name="assembly">The assembly holding the files as resources named <c>FOLDER/…</c>.</param>
/// <param name="folder">The resource folder, without a slash.</param>
public sealed class EmbeddedFolder(Assembly assembly, string folder)
{
    private static readonly Dictionary<string, string> ContentTypes = new(StringComparer.Ordinal)
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".svg"] = "image/svg+xml",
        [".webmanifest"] = "application/manifest+json",
    };

    private static readonly Dictionary<string, string> EmptyHeaders = [];

    /// <summary>The folder's files, relative to it, in ordinal order.</summary>
    public IReadOnlyList<string> Files { get; } =
        [.. assembly.GetManifestResourceNames().Where(n => n.StartsWith(folder + "/", StringComparison.Ordinal)).Select(n => n[(folder.Length + 1)..]).Order(StringComparer.Ordinal)];

    /// <summary>
    /// Maps <c>PREFIX/{**path}</c> (and <c>PREFIX</c> itself, redirected to <c>PREFIX/</c>) to the folder's files, each
    /// with <paramref name="contentSecurityPolicy"/> and the <paramref name="headers"/> given; anything else is a 404.
    /// </summary>
    public RouteHandlerBuilder Map(IEndpointRouteBuilder app, string prefix, string contentSecurityPolicy, IReadOnlyDictionary<string, string>? headers = null) =>
        app.MapGet(prefix + "/{**path}", (string? path, HttpContext context) =>
        {
            // The catch-all also takes the folder without its slash, where the page's relative links would miss it.
            if (string.IsNullOrEmpty(path) && !context.Request.Path.Value!.EndsWith('/'))
            {
                return Results.Redirect(context.Request.PathBase + context.Request.Path + "/");
            }

            path = string.IsNullOrEmpty(path) ? "index.html" : path;
            if (!Files.Contains(path, StringComparer.Ordinal))
            {
                return Results.NotFound();
            }

            // Revalidated each time: a service worker keeps the offline copy, and a new version must reach it.
            context.Response.Headers.CacheControl = "no-cache";
            context.Response.Headers.XContentTypeOptions = "nosniff";
            context.Response.Headers["Content-Security-Policy"] = contentSecurityPolicy;
            context.Response.Headers["Referrer-Policy"] = "no-referrer";
            foreach (var (name, value) in headers ?? EmptyHeaders)
            {
                context.Response.Headers[name] = value;
            }

            var stream = assembly.GetManifestResourceStream(folder + "/" + path)!;
            return TypedResults.Stream(stream, ContentTypes.GetValueOrDefault(Path.GetExtension(path), "application/octet-stream"));
        });
}
