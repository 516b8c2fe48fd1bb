using System.Collections.Concurrent;
using System.Device.I2c;
using Microsoft.Extensions.Logging;
using Transit.DeviceApi;
using Transit.GateAgent.Configuration;
using Transit.GateAgent.Status;

namespace Transit.GateAgent.Hardware;

internal sealed class SimulatedBarrier(SimulatedHardwareLog log) : IBarrier
{
    public void Open() => log.Record("barrier:open");

    public void Close() => log.Record("barrier:close");

    public void Dispose()
    {
    }
}
