using Transit.DeviceApi;

namespace Transit.GateAgent.Configuration;

/// <summary>
/// Where and as what the device decides right now; stamped on every tap. Replaced whole when the driver console
/// or a synced configuration changes it, so a tap never sees half of a change.
/// </summary>
public sealed record DeviceContext(
    string DeviceId, string OperatorId, TapMode Mode, string? StationId, string? StopId, string? RouteId)
{
    /// <summary>The context configured in <paramref name="settings"/>.</summary>
    public static DeviceContext From(DeviceSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        // The settings loader refused an unknown mode already; this guards a caller that skipped it.
        if (!TapModes.TryParse(settings.Mode, out var mode))
        {
            throw new ArgumentException($"Device:Mode '{settings.Mode}' is not a mode (expected metro-entry, metro-exit, bus or bus-exit)", nameof(settings));
        }

        return new DeviceContext(settings.Id!, settings.OperatorId!, mode, settings.StationId, settings.StopId, settings.RouteId);
    }
}
