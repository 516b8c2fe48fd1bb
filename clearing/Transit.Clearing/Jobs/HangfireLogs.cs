using Hangfire;
using Microsoft.Extensions.Logging;
using HangfireLevel = Hangfire.Logging.LogLevel;

namespace Transit.Clearing.Jobs;

/// <summary>
/// Hangfire's log provider for clearing. Hangfire keeps one provider for the process, and many of its classes keep the
/// logger they got first in a static field; bound to one host's <see cref="ILoggerFactory"/>, they would outlive it
/// (several hosts in one process, as in the tests, or a command that builds services twice) and throw once it is
/// disposed. These loggers ask the factory of the host that started last at each line instead.
/// </summary>
public sealed class HangfireLogs : Hangfire.Logging.ILogProvider
{
    private static readonly HangfireLogs Instance = new();
    private static ILoggerFactory? _factory;

    private HangfireLogs()
    {
    }

    /// <summary>Sends Hangfire's logs to <paramref name="factory"/> from now on.</summary>
    public static void Use(IGlobalConfiguration configuration, ILoggerFactory? factory)
    {
        _factory = factory;
        configuration.UseLogProvider(Instance);
    }

    public Hangfire.Logging.ILog GetLogger(string name) => new Logger(name);

    private sealed class Logger(string name) : Hangfire.Logging.ILog
    {
        public bool Log(HangfireLevel logLevel, Func<string>? messageFunc, Exception? exception = null)
        {
            try
            {
                if (_factory?.CreateLogger(name) is not { } logger)
                {
                    return false;
                }

                var level = logLevel switch
                {
                    HangfireLevel.Trace => LogLevel.Trace,
                    HangfireLevel.Debug => LogLevel.Debug,
                    HangfireLevel.Info => LogLevel.Information,
                    HangfireLevel.Warn => LogLevel.Warning,
                    HangfireLevel.Error => LogLevel.Error,
                    _ => LogLevel.Critical,
                };
                if (!logger.IsEnabled(level) || messageFunc is null)
                {
                    return logger.IsEnabled(level);
                }

                logger.Log(level, exception, "{Message}", messageFunc());
                return true;
            }
            catch (ObjectDisposedException)
            {
                // The host that owned the factory has stopped.
                return false;
            }
        }
    }
}
