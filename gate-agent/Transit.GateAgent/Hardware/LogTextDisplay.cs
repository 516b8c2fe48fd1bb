using Microsoft.Extensions.Logging;

namespace Transit.GateAgent.Hardware;

internal sealed class LogTextDisplay(ILogger logger) : ITextDisplay
{
    public void Show(string text) => logger.LogTrace("display: {Text}", text);

    public void Dispose()
    {
    }
}
