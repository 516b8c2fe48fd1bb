using Transit.Clearing.Devices;
using Transit.RideCodes;
using Transit.DeviceApi;

namespace Transit.Clearing.Ingest;

/// <summary>
/// What clearing refuses in a tap before it looks at the code: fields it cannot store as sent, and claims the
/// device could not have made. Each answer is a reason code stored in <c>taps.clearing_reason</c>; a refused tap is
/// stored, never billed, and never fails its batch (docs/security/ingest.md).
/// </summary>
public static class TapChecks
{
    /// <summary>The first field of <paramref name="tap"/> that cannot be stored as sent (<c>malformed-code</c>, …), or null.</summary>
    public static string? Malformed(TapRecord tap)
    {
        if (!TapText.IsClean(tap.Code, RideCodeFormat.MaxTextLength))
        {
            return TapReasons.MalformedCode;
        }

        if (!TapReasons.IsGateReason(tap.Reason))
        {
            return TapReasons.MalformedReason;
        }

        if (!TapModes.TryParse(tap.Mode, out _))
        {
            return TapReasons.MalformedMode;
        }

        if (!TapText.IsClean(tap.OperatorId, TapText.MaxIdLength))
        {
            return TapReasons.MalformedOperator;
        }

        return !IsCleanId(tap.StationId) ? TapReasons.MalformedStation
            : !IsCleanId(tap.StopId) ? TapReasons.MalformedStop
            : !IsCleanId(tap.RouteId) ? TapReasons.MalformedRoute
            : null;
    }

    /// <summary>
    /// The first claim of a well-formed <paramref name="tap"/> that its <paramref name="device"/>'s registration
    /// contradicts (<c>device-mismatch-operator</c>, <c>-mode</c>, <c>-station</c>, <c>-route</c>, or
    /// <c>stop-not-on-route</c> when the day's feed says the route does not serve the stop), or null.
    /// </summary>
    /// <param name="routeServes">Whether the day's feed has the route serve the stop; null when the feed does not describe the route.</param>
    public static string? Mismatch(TapRecord tap, RegisteredDevice device, Func<string, string, bool?> routeServes)
    {
        if (tap.OperatorId != device.OperatorId)
        {
            return TapReasons.MismatchOperator;
        }

        if (tap.Mode != device.Mode)
        {
            return TapReasons.MismatchMode;
        }

        if (!TapModes.TryParse(tap.Mode, out var mode) || !mode.OnBus())
        {
            return tap.StationId == device.StationId ? null : TapReasons.MismatchStation;
        }

        if (tap.RouteId != device.RouteId)
        {
            return TapReasons.MismatchRoute;
        }

        // A validator without a GPS fix or driver input sends no stop: nothing to contradict.
        return string.IsNullOrEmpty(tap.StopId) || routeServes(tap.RouteId!, tap.StopId) != false ? null : TapReasons.StopNotOnRoute;
    }

    /// <summary>Ids are optional (null or empty when unknown); when present they must be storable.</summary>
    private static bool IsCleanId(string? id) => string.IsNullOrEmpty(id) || TapText.IsClean(id, TapText.MaxIdLength);
}
