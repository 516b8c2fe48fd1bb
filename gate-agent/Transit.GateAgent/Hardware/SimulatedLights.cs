using System.Collections.Concurrent;
using System.Device.I2c;
using Microsoft.Extensions.Logging;
using Transit.DeviceApi;
using Transit.GateAgent.Configuration;
using Transit.GateAgent.Status;

namespace Transit.GateAgent.Hardware;

internal sealed class SimulatedLights(SimulatedHardwareLog log) : IIndicatorLights
{
    public void Show(Light light) => log.Record("light:" + light.ToString().ToLowerInvariant());

    public void Dispose()
    {
    }
}
