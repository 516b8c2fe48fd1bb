using Transit.DeviceApi;

namespace Transit.Analytics;

/// <summary>What a tap of each <see cref="TapMode"/> means to analytics: a leg's start or its end.</summary>
internal static class TapModeRoles
{
    /// <summary>
    /// True for the taps that end a leg (a metro exit, a bus tap-off): they start no leg, carry no fare and are never
    /// a transfer, wherever a boarding would.
    /// </summary>
    public static bool IsExit(this TapMode mode) => mode is TapMode.MetroExit or TapMode.BusExit;
}
