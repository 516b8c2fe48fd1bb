using Microsoft.Extensions.Logging;
using Transit.DeviceApi;
using Transit.GateAgent.Status;

namespace Transit.GateAgent.Clearing;

/// <summary>
/// The log lines of a link to clearing that fails again and again, and of its recovery: one warning when the failures
/// become reportable or change cause (not one per retry), one line when it works again.
/// </summary>
internal static class LinkLog
{
    public static void Failing(ILogger logger, string link, LinkError? raised, string consequence)
    {
        if (raised is not null)
        {
            logger.LogWarning(
                "{Link} to clearing failing: {Reason}, {Failures} times since {Since:O}: {Message}; {Consequence}; amber light on, /health degraded",
                link, raised.Reason, raised.Failures, raised.Since, raised.Message, consequence);
        }
    }

    public static void Recovered(ILogger logger, string link, LinkError? cleared)
    {
        if (cleared is not null)
        {
            logger.LogInformation(
                "{Link} to clearing works again after {Failures} failures ({Reason}) since {Since:O}", link, cleared.Failures, cleared.Reason, cleared.Since);
        }
    }
}
