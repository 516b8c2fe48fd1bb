namespace Transit.Clearing.Ingest;

/// <summary>Bits of <c>taps.flags</c>.</summary>
[Flags]
public enum TapFlags
{
    None = 0,

    /// <summary>The gate accepted the code but clearing's re-verification refused it.</summary>
    RefusedByClearing = 1,

    /// <summary>The code was already accepted at another device (or earlier at this one): a copied code.</summary>
    DuplicateUse = 2,

    /// <summary>The first acceptance of a code that was later used again elsewhere.</summary>
    DuplicateOriginal = 4,

    /// <summary>The gate refused a code that clearing finds valid (e.g. the gate's lists were out of date).</summary>
    RefusedByGateOnly = 8,

    /// <summary>The tap's time is implausible against the server clock; it is filed under the day it was received.</summary>
    ClockSuspect = 16,

    /// <summary>The tap counts towards a journey: accepted, authentic, fresh at its time, not a copied code, taken where the device is.</summary>
    Billable = 32,

    /// <summary>The tap claims an operator, mode, station, route or stop its device is not registered for (<c>clearing_reason</c> says which).</summary>
    DeviceMismatch = 64,

    /// <summary>A field of the tap could not be stored as sent (control bytes, broken UTF-16, too long); it is stored escaped.</summary>
    Malformed = 128,
}
