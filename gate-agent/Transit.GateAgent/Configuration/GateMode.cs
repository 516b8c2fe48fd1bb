namespace Transit.GateAgent.Configuration;

/// <summary>What kind of validator this device is.</summary>
public enum GateMode
{
    /// <summary>A metro entry gate (<c>metro-entry</c>).</summary>
    MetroEntry,

    /// <summary>A metro exit gate (<c>metro-exit</c>).</summary>
    MetroExit,

    /// <summary>A bus validator (<c>bus</c>).</summary>
    Bus,

    /// <summary>
    /// A bus tap-off validator at the exit door (<c>bus-exit</c>), for networks whose fares depend on where the
    /// rider gets off: clearing pairs it with the boarding on the same route (docs/fare-rules.md).
    /// </summary>
    BusExit,
}

/// <summary>Wire names of <see cref="GateMode"/>, as in the device API.</summary>
public static class GateModes
{
    /// <summary>The wire name.</summary>
    public static string ToName(this GateMode mode) => mode switch
    {
        GateMode.MetroEntry => "metro-entry",
        GateMode.MetroExit => "metro-exit",
        GateMode.Bus => "bus",
        GateMode.BusExit => "bus-exit",
        _ => throw new ArgumentOutOfRangeException(nameof(mode)),
    };

    /// <summary>True for the modes that ride a route rather than stand in a station.</summary>
    public static bool IsBus(this GateMode mode) => mode is GateMode.Bus or GateMode.BusExit;

    /// <summary>Parses a wire name.</summary>
    public static bool TryParse(string? name, out GateMode mode)
    {
        switch (name)
        {
            case "metro-entry":
                mode = GateMode.MetroEntry;
                return true;
            case "metro-exit":
                mode = GateMode.MetroExit;
                return true;
            case "bus":
                mode = GateMode.Bus;
                return true;
            case "bus-exit":
                mode = GateMode.BusExit;
                return true;
            default:
                mode = default;
                return false;
        }
    }
}

/// <summary>
/// Where and as what the device decides right now; stamped on every tap. Replaced whole when the driver console
/// or a synced configuration changes it, so a tap never sees half of a change.
/// </summary>
public sealed record DeviceContext(
    string DeviceId, string OperatorId, GateMode Mode, string? StationId, string? StopId, string? RouteId)
{
    /// <summary>The context configured in <paramref name="settings"/>.</summary>
    public static DeviceContext From(DeviceSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        // The settings loader refused an unknown mode already; this guards a caller that skipped it.
        if (!GateModes.TryParse(settings.Mode, out var mode))
        {
            throw new ArgumentException($"Device:Mode '{settings.Mode}' is not a mode (expected metro-entry, metro-exit, bus or bus-exit)", nameof(settings));
        }

        return new DeviceContext(settings.Id!, settings.OperatorId!, mode, settings.StationId, settings.StopId, settings.RouteId);
    }
}

/// <summary>Standard termios line speeds.</summary>
public static class SerialLineSpeeds
{
    private static readonly Dictionary<int, uint> Speeds = new()
    {
        [1200] = 0x9, [2400] = 0xB, [4800] = 0xC, [9600] = 0xD, [19200] = 0xE, [38400] = 0xF,
        [57600] = 0x1001, [115200] = 0x1002, [230400] = 0x1003, [460800] = 0x1004, [921600] = 0x1007,
    };

    /// <summary>The Linux <c>B*</c> constant for <paramref name="baud"/>.</summary>
    public static bool TryGet(int baud, out uint constant) => Speeds.TryGetValue(baud, out constant);
}
