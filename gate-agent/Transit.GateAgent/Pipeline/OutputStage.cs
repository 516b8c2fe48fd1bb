using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Transit.GateAgent.Hardware;
using Transit.GateAgent.Taps;

namespace Transit.GateAgent.Pipeline;

/// <summary>Stage 4: barrier, lights, buzzer and display, after the commit.</summary>
internal sealed class OutputStage(GatePipeline pipeline, GateController controller, ILogger<OutputStage> logger) : BackgroundService
{
    private readonly ChannelReader<JournaledTap> _input = pipeline.Committed;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var tap in _input.ReadAllAsync(stoppingToken).ConfigureAwait(false))
        {
            var verdict = tap.Verdict;
            try
            {
                controller.Show(verdict.Accepted, verdict.Reason);
            }
            catch (Exception ex) when (ex is IOException or InvalidOperationException)
            {
                logger.LogError(ex, "hardware output failed for tap {Seq}", tap.Seq);
            }

            if (logger.IsEnabled(LogLevel.Debug))
            {
                logger.LogDebug(
                    "tap {Seq} {Decision} {Reason} account {Account} via {Source}, decision latency {DecisionLatencyMs:F2} ms",
                    tap.Seq, verdict.Accepted ? "accepted" : "refused", verdict.Reason, verdict.Verification.Account, verdict.Scan.Source, tap.DecisionLatency.TotalMilliseconds);
            }
        }
    }
}
