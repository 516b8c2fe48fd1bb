using Transit.RideCodes;

namespace Transit.DeviceApi;

/// <summary>
/// Why a tap was decided as it was: the one list of reason codes. A gate's decision (<see cref="TapRecord.Reason"/>)
/// is a ride-code verifier's reason (<see cref="VerificationReasons"/>) or <see cref="Passback"/>; clearing stores
/// its own refusals of a tap's content (<c>taps.clearing_reason</c>) from <see cref="Clearing"/>.
/// </summary>
public static class TapReasons
{
    /// <summary>The code was accepted here or at a gate of the same station within the pass-back window.</summary>
    public const string Passback = "passback";

    /// <summary>The tap's code text cannot be stored as sent (control bytes, broken UTF-16, too long).</summary>
    public const string MalformedCode = "malformed-code";

    /// <summary>The tap's reason is neither a verifier's reason nor <see cref="Passback"/>.</summary>
    public const string MalformedReason = "malformed-reason";

    /// <summary>The tap's mode is not one of <see cref="TapModes.Names"/>.</summary>
    public const string MalformedMode = "malformed-mode";

    /// <summary>The tap's operator id cannot be stored as sent.</summary>
    public const string MalformedOperator = "malformed-operator";

    /// <summary>The tap's station id cannot be stored as sent.</summary>
    public const string MalformedStation = "malformed-station";

    /// <summary>The tap's stop id cannot be stored as sent.</summary>
    public const string MalformedStop = "malformed-stop";

    /// <summary>The tap's route id cannot be stored as sent.</summary>
    public const string MalformedRoute = "malformed-route";

    /// <summary>The tap names an operator its device is not registered for.</summary>
    public const string MismatchOperator = "device-mismatch-operator";

    /// <summary>The tap names a mode its device is not registered for.</summary>
    public const string MismatchMode = "device-mismatch-mode";

    /// <summary>The tap names a station its device is not at.</summary>
    public const string MismatchStation = "device-mismatch-station";

    /// <summary>The tap names a route its validator is not registered on.</summary>
    public const string MismatchRoute = "device-mismatch-route";

    /// <summary>The day's feed says the validator's route does not serve the tap's stop.</summary>
    public const string StopNotOnRoute = "stop-not-on-route";

    /// <summary>Clearing's own reasons, the <c>taps.clearing_reason</c> of a tap whose content it refuses.</summary>
    public static IReadOnlyList<string> Clearing { get; } =
    [
        MalformedCode, MalformedReason, MalformedMode, MalformedOperator, MalformedStation, MalformedStop, MalformedRoute,
        MismatchOperator, MismatchMode, MismatchStation, MismatchRoute, StopNotOnRoute,
    ];

    /// <summary>Every reason a gate may send: the verifier's, then <see cref="Passback"/>.</summary>
    public static IReadOnlyList<string> Gate { get; } = [.. VerificationReasons.All, Passback];

    /// <summary>Whether <paramref name="reason"/> is one a gate may send.</summary>
    public static bool IsGateReason(string? reason) => reason == Passback || VerificationReasons.TryParse(reason, out _);
}
