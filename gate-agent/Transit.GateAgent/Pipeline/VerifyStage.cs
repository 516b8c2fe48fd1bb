using Microsoft.Extensions.Hosting;
using Transit.GateAgent.Scanners;
using Transit.GateAgent.Taps;
using Transit.GateAgent.Trust;
using Transit.RideCodes;

namespace Transit.GateAgent.Pipeline;

/// <summary>Stage 1: decode and verify the code with the ride-code library; a scan becomes the code's own verdict.</summary>
internal sealed class VerifyStage(GatePipeline pipeline, GateState state, TimeProvider time) : BackgroundService
{
    /// <summary>A scan with a character no ride code has (a control byte, lower case, …) is not looked at further.</summary>
    private static readonly VerificationResult NotACode = new(VerificationReason.Malformed, null);

    private readonly StageLink<ScanRead, Verdict> _link = pipeline.Verify;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var scan in _link.Input.ReadAllAsync(stoppingToken).ConfigureAwait(false))
        {
            _link.Output.TryWrite(Decide(scan));
        }
    }

    private Verdict Decide(ScanRead scan)
    {
        var trust = state.Trust;
        var at = scan.At ?? time.GetUtcNow();
        var verification = ScanText.InCodeAlphabet(scan.Text) ? (scan.SelfTestVerifier ?? state.Verifier).Verify(scan.Text, at) : NotACode;
        return new Verdict(
            scan, at, verification, state.Context, trust.KeySet.Version, trust.DenyList.Version, ScanText.Escape(scan.Text, ScanRead.MaxStoredLength),
            verification.Accepted, verification.ReasonCode);
    }
}
