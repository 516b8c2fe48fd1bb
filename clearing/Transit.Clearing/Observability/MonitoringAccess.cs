using System.Net;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Transit.Clearing.Access;

namespace Transit.Clearing.Observability;

/// <summary>
/// Who may read <c>/health/*</c> and <c>/metrics</c>: any client on this machine (a local scraper or probe needs no
/// token), otherwise only an admin token. The metrics name devices and operators and the readiness report names
/// files, so they are not for the open network (docs/security/access.md).
/// </summary>
public static class MonitoringAccess
{
    /// <summary>The authorization policy's name.</summary>
    public const string Policy = "monitoring";

    public static AuthorizationOptions AddMonitoringPolicy(this AuthorizationOptions options)
    {
        options.AddPolicy(Policy, policy => policy.RequireAssertion(context =>
            (context.Resource is HttpContext http && IsLocal(http.Connection.RemoteIpAddress)) || context.User.IsAdmin()));
        return options;
    }

    internal static bool IsLocal(IPAddress? address) => address is not null && IPAddress.IsLoopback(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);
}
