using System.Diagnostics;
using Transit.RideCodes;

namespace Transit.GateAgent.Taps;

/// <summary>
/// The first record of the decision spine: text a scanner input just read. Each later stage makes a record of its
/// own from the one before (<see cref="Verdict"/>, <see cref="JournaledTap"/>, <see cref="TapOutcome"/>), so no
/// stage writes into what another reads.
/// </summary>
/// <param name="Text">The scanned text without its line ending.</param>
/// <param name="Source">Which input read it, e.g. <c>tcp</c> or <c>serial:/dev/ttyACM0</c>.</param>
/// <param name="ReadTimestamp"><see cref="Stopwatch.GetTimestamp"/> when the input finished reading the code.</param>
/// <param name="Reply">Completed once the tap is committed; null for inputs that take no answer (serial, HID).</param>
public sealed record ScanRead(string Text, string Source, long ReadTimestamp, TaskCompletionSource<TapOutcome>? Reply = null)
{
    /// <summary>Longest code text kept in the journal and uploaded (the device API's limit).</summary>
    public const int MaxStoredLength = 512;

    /// <summary>The time an input driven by a simulation clock stamped when reading; null: the gate's clock decides.</summary>
    public DateTimeOffset? At { get; init; }

    /// <summary>
    /// For the warm-up's self-test scans only: the throwaway verifier that checks them instead of the gate's own. A
    /// self-test scan takes every stage's path but is decided on scratch rules, rolled back in the journal, counted
    /// nowhere and never shown on the hardware.
    /// </summary>
    internal RideCodeVerifier? SelfTestVerifier { get; init; }

    /// <summary>Whether this is a warm-up self-test scan (<see cref="SelfTestVerifier"/>).</summary>
    internal bool SelfTest => SelfTestVerifier is not null;

    /// <summary>Microseconds elapsed since the read.</summary>
    public long MicrosSinceRead() => (long)Stopwatch.GetElapsedTime(ReadTimestamp).TotalMicroseconds;
}
