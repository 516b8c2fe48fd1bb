using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Transit.GateAgent.Hardware;

namespace Transit.GateAgent.Pipeline;

/// <summary>Stage 4: barrier, lights, buzzer and display, after the commit.</summary>
internal sealed class OutputStage(GatePipeline pipeline, GateController controller, ILogger<OutputStage> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var tap in pipeline.Committed.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                controller.Show(tap.Accepted, tap.Reason);
            }
            catch (Exception ex) when (ex is IOException or InvalidOperationException)
            {
                logger.LogError(ex, "hardware output failed for tap {Seq}", tap.Seq);
            }

            if (logger.IsEnabled(LogLevel.Debug))
            {
                logger.LogDebug(
                    "tap {Seq} {Decision} {Reason} account {Account} via {Source} in {LatencyMs:F2} ms",
                    tap.Seq, tap.Accepted ? "accepted" : "refused", tap.Reason, tap.Verification?.Account, tap.Source, tap.CommittedMillis);
            }
        }
    }
}
