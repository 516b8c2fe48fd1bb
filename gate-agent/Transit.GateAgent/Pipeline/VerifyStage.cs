using Microsoft.Extensions.Hosting;
using Transit.GateAgent.Scanners;
using Transit.GateAgent.Trust;
using Transit.RideCodes;

namespace Transit.GateAgent.Pipeline;

/// <summary>Stage 1: decode and verify the code with the ride-code library.</summary>
internal sealed class VerifyStage(GatePipeline pipeline, GateState state, TimeProvider time) : BackgroundService
{
    /// <summary>A scan with a character no ride code has (a control byte, lower case, …) is not looked at further.</summary>
    private static readonly VerificationResult NotACode = new(VerificationReason.Malformed, null);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var writer = pipeline.Verified.Writer;
        await foreach (var tap in pipeline.Scans.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
        {
            var trust = state.Trust;
            if (tap.At == default)
            {
                tap.At = time.GetUtcNow();
            }

            tap.Context = state.Context;
            tap.KeySetVersion = trust.KeySet.Version;
            tap.DenyListVersion = trust.DenyList.Version;
            tap.Verification = ScanText.InCodeAlphabet(tap.Text) ? (tap.SelfTestVerifier ?? state.Verifier).Verify(tap.Text, tap.At) : NotACode;
            writer.TryWrite(tap);
        }
    }
}
