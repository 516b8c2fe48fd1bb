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

    private static readonly EmbeddedFolder Folder = new(typeof(WalletEndpoints).Assembly, "wallet");

    /// <summary>The wallet's files (for the service worker's list and the tests).</summary>
    public static IReadOnlyList<string> Files => Folder.Files;

    public static IEndpointRouteBuilder MapWallet(this IEndpointRouteBuilder app)
    {
        Folder.Map(
            app, Prefix,
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; manifest-src 'self'; worker-src 'self'; frame-ancestors 'none'")
            .AllowAnonymous().ExcludeFromDescription();
        return app;
    }
}
