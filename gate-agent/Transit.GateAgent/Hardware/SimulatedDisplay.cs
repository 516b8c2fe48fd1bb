using System.Collections.Concurrent;
using System.Device.I2c;
using Microsoft.Extensions.Logging;
using Transit.DeviceApi;
using Transit.GateAgent.Configuration;
using Transit.GateAgent.Status;

namespace Transit.GateAgent.Hardware;

internal sealed class SimulatedDisplay(SimulatedHardwareLog log, ITextDisplay inner) : ITextDisplay
{
    public void Show(string text)
    {
        log.Record("display:" + text);
        inner.Show(text);
    }

    public void Dispose() => inner.Dispose();
}
