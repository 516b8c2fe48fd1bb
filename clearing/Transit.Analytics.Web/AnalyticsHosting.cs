using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Transit.Analytics.Privacy;
using Transit.Analytics.Rollups;
using Transit.Analytics.Store;

namespace Transit.Analytics.Web;

/// <summary>Registers analytics in a host that already provides an <see cref="NpgsqlDataSource"/> (the clearing backend).</summary>
public static class AnalyticsHosting
{
    /// <summary>
    /// Adds the PostgreSQL rollup reader, the refresh jobs and their dependencies. <paramref name="pseudonymSecret"/>
    /// is the deployment's secret for the keyed pseudonyms (hex or base64, at least 16 bytes).
    /// </summary>
    /// <param name="options">The analytics options when a job runs or a request is answered (the host may learn its time zone late).</param>
    public static IServiceCollection AddAnalytics(this IServiceCollection services, Func<IServiceProvider, AnalyticsWebOptions> options, string pseudonymSecret)
    {
        services.AddSingleton(Pseudonymizer.FromText(pseudonymSecret));
        services.AddSingleton<FeedNetworks>();
        services.AddSingleton(provider => new AnalyticsJobs(
            provider.GetRequiredService<NpgsqlDataSource>(), provider.GetRequiredService<FeedNetworks>(), provider.GetRequiredService<Pseudonymizer>(),
            () => options(provider).Analytics));
        services.AddSingleton<IRollupReader>(provider => new PostgresRollupReader(provider.GetRequiredService<NpgsqlDataSource>()));
        return services;
    }
}
