using System.Collections.Concurrent;
using System.Device.I2c;
using Microsoft.Extensions.Logging;
using Transit.DeviceApi;
using Transit.GateAgent.Configuration;
using Transit.GateAgent.Status;

namespace Transit.GateAgent.Hardware;

/// <summary>A one-line text display for riders.</summary>
public interface ITextDisplay : IDisposable
{
    /// <summary>Shows <paramref name="text"/>.</summary>
    void Show(string text);
}
