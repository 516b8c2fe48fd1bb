namespace Transit.GateAgent.Hardware;

/// <summary>What the indicator lights show.</summary>
public enum Light
{
    /// <summary>Idle: waiting for a code.</summary>
    Off,

    /// <summary>Accepted: go.</summary>
    Green,

    /// <summary>Refused: stop.</summary>
    Red,

    /// <summary>Idle with a fault that staff should look at (clearing refuses the device, journal conflict).</summary>
    Amber,
}
