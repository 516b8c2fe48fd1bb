using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Console;

namespace Transit.Clearing.Observability;

/// <summary>
/// Console logs as a log shipper wants them: one JSON object a line (UTC timestamp, level, category, event id, message
/// and its fields), and no line per request (ASP.NET Core at Warning; <c>/metrics</c> counts requests). In the
/// Development environment the plain single-line text instead. These are defaults only: they go in below every other
/// configuration source, so <c>Logging:Console:FormatterName</c> (<c>simple</c> or <c>json</c>) and
/// <c>Logging:LogLevel:*</c> from appsettings, the environment or the command line still decide.
/// </summary>
public static class ClearingLogging
{
    public static WebApplicationBuilder AddClearingLoggingDefaults(this WebApplicationBuilder builder)
    {
        var development = builder.Environment.IsDevelopment();
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource
        {
            InitialData = new Dictionary<string, string?>
            {
                ["Logging:LogLevel:Default"] = "Information",
                ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
                ["Logging:Console:FormatterName"] = development ? ConsoleFormatterNames.Simple : ConsoleFormatterNames.Json,
                ["Logging:Console:FormatterOptions:SingleLine"] = "true",
                ["Logging:Console:FormatterOptions:UseUtcTimestamp"] = "true",
                // The simple formatter writes the level right after the timestamp.
                ["Logging:Console:FormatterOptions:TimestampFormat"] = development ? "HH:mm:ss " : "yyyy-MM-ddTHH:mm:ss.fffZ",
            },
        });
        return builder;
    }
}
