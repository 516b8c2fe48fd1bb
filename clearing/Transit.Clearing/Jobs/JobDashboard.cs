using Hangfire;
using Hangfire.Dashboard;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Transit.Clearing.Access;

namespace Transit.Clearing.Jobs;

/// <summary>Hangfire's dashboard at <c>/jobs</c>, for admin tokens only.</summary>
public static class JobDashboard
{
    public const string Path = "/jobs";

    /// <summary>
    /// Maps the dashboard behind the admin role: ASP.NET Core's authorization answers 401 without a token and 403 for
    /// other roles before Hangfire sees the request, so Hangfire's own filters (local requests only, by default) are off.
    /// </summary>
    public static IEndpointConventionBuilder MapJobDashboard(this IEndpointRouteBuilder app) =>
        app.MapHangfireDashboardWithNoAuthorizationFilters(
                Path,
                new DashboardOptions { DashboardTitle = "Transit clearing jobs", AppPath = null, DisplayStorageConnectionString = false },
                app.ServiceProvider.GetRequiredService<JobStorage>())
            .RequireAuthorization(p => p.RequireRole(Roles.Admin));
}
