using System.Collections.Concurrent;
using System.Device.I2c;
using Microsoft.Extensions.Logging;
using Transit.GateAgent.Configuration;
using Transit.GateAgent.Status;
using Transit.DeviceApi;

namespace Transit.GateAgent.Hardware;

internal sealed class SimulatedLights(SimulatedHardwareLog log) : IIndicatorLights
{
    public void Show(Light light) => log.Record("light:" + light.ToString().ToLowerInvariant());

    public void Dispose()
    {
    }
}
