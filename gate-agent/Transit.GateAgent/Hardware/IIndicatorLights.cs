using System.Collections.Concurrent;
using System.Device.I2c;
using Microsoft.Extensions.Logging;
using Transit.DeviceApi;
using Transit.GateAgent.Configuration;
using Transit.GateAgent.Status;

namespace Transit.GateAgent.Hardware;

/// <summary>The indicator lights.</summary>
public interface IIndicatorLights : IDisposable
{
    /// <summary>Shows <paramref name="light"/> (and nothing else).</summary>
    void Show(Light light);
}
