using System.Collections.Concurrent;
using System.Device.I2c;
using Microsoft.Extensions.Logging;
using Transit.DeviceApi;
using Transit.GateAgent.Configuration;
using Transit.GateAgent.Status;

namespace Transit.GateAgent.Hardware;

/// <summary>The buzzer.</summary>
public interface IBuzzer : IDisposable
{
    /// <summary>Sounds <paramref name="beep"/> without blocking the caller.</summary>
    void Sound(Beep beep);
}
