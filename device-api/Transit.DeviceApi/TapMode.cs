namespace Transit.DeviceApi;

/// <summary>
/// What kind of validator took a tap. The numbers are the ones clearing stores (<c>taps.mode</c>, a smallint); the
/// device API carries the names (<see cref="TapModes.Name"/>).
/// </summary>
public enum TapMode : short
{
    /// <summary>A metro entry gate (<c>metro-entry</c>).</summary>
    MetroEntry = 1,

    /// <summary>A metro exit gate (<c>metro-exit</c>).</summary>
    MetroExit = 2,

    /// <summary>A bus validator at boarding (<c>bus</c>).</summary>
    Bus = 3,

    /// <summary>
    /// A bus tap-off (<c>bus-exit</c>): a validator at the exit door, or the boarding validator tapped again when
    /// leaving, for networks whose fares depend on where the rider gets off.
    /// </summary>
    BusExit = 4,
}

/// <summary>The device API's names of <see cref="TapMode"/>.</summary>
public static class TapModes
{
    // The names in the enum's order, from 1: the one spelling of each that naming and parsing both read.
    private static readonly string[] Spellings = ["metro-entry", "metro-exit", "bus", "bus-exit"];

    /// <summary>Every mode's name, in the enum's order.</summary>
    public static IReadOnlyList<string> Names => Spellings;

    /// <summary>The wire name, e.g. <c>metro-entry</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">For a value that is not a mode.</exception>
    public static string Name(this TapMode mode) =>
        // Unchecked: the project checks arithmetic, and 0 or a negative value must read as out of range, not overflow.
        unchecked((uint)((int)mode - 1)) < (uint)Spellings.Length
            ? Spellings[(int)mode - 1]
            : throw new ArgumentOutOfRangeException(nameof(mode), mode, "not a tap mode");

    /// <summary>
    /// True for the taps that end a leg (a metro exit, a bus tap-off): they pair with the rider's open entry or
    /// boarding, and alone start nothing.
    /// </summary>
    public static bool IsExit(this TapMode mode) => mode is TapMode.MetroExit or TapMode.BusExit;

    /// <summary>True for the validators that ride a route (they have a route and stop, no station).</summary>
    public static bool OnBus(this TapMode mode) => mode is TapMode.Bus or TapMode.BusExit;

    /// <summary>Parses a wire name; false (and <c>default</c>) for anything else, including null.</summary>
    public static bool TryParse(string? name, out TapMode mode)
    {
        var index = Array.IndexOf(Spellings, name);
        mode = (TapMode)(index + 1);
        return index >= 0;
    }
}
