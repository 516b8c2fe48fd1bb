using System.Collections.Concurrent;
using System.Device.I2c;
using Microsoft.Extensions.Logging;
using Transit.DeviceApi;
using Transit.GateAgent.Configuration;
using Transit.GateAgent.Status;

namespace Transit.GateAgent.Hardware;

internal sealed class SimulatedBuzzer(SimulatedHardwareLog log) : IBuzzer
{
    public void Sound(Beep beep) => log.Record("buzzer:" + beep.ToString().ToLowerInvariant());

    public void Dispose()
    {
    }
}
