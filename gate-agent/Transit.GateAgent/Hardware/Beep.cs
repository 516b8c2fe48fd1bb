using System.Collections.Concurrent;
using System.Device.I2c;
using Microsoft.Extensions.Logging;
using Transit.DeviceApi;
using Transit.GateAgent.Configuration;
using Transit.GateAgent.Status;

namespace Transit.GateAgent.Hardware;

/// <summary>Buzzer sounds.</summary>
public enum Beep
{
    /// <summary>One short beep.</summary>
    Accept,

    /// <summary>Two short beeps.</summary>
    Refuse,
}
