using System.Collections.Concurrent;
using System.Device.I2c;
using Microsoft.Extensions.Logging;
using Transit.DeviceApi;
using Transit.GateAgent.Configuration;
using Transit.GateAgent.Status;

namespace Transit.GateAgent.Hardware;

internal sealed class LogTextDisplay(ILogger logger) : ITextDisplay
{
    public void Show(string text) => logger.LogTrace("display: {Text}", text);

    public void Dispose()
    {
    }
}
