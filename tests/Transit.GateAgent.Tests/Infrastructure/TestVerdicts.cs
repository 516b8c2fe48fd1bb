using System.Diagnostics;
using Transit.DeviceApi;
using Transit.GateAgent.Configuration;
using Transit.GateAgent.Taps;
using Transit.RideCodes;

namespace Transit.GateAgent.Tests.Infrastructure;

/// <summary>Verdicts as the rules stage hands them to the journal, for tests that write a journal directly.</summary>
internal static class TestVerdicts
{
    /// <summary>A verdict of the test gate (metro entry at S01) on <paramref name="code"/> at <paramref name="at"/>.</summary>
    public static Verdict Of(string code, DateTimeOffset at, bool accepted = true) => new(
        new ScanRead(code, "test", Stopwatch.GetTimestamp()), at, new VerificationResult(accepted ? VerificationReason.Ok : VerificationReason.Stale, null),
        new DeviceContext(GateEnvironment.DeviceId, "metro", TapMode.MetroEntry, "S01", null, null), 1, 1, code, accepted, accepted ? "ok" : "stale");
}
