using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Transit.DeviceApi;
using Transit.GateAgent.Configuration;
using Transit.GateAgent.Journal;
using Transit.GateAgent.Pipeline;
using Transit.GateAgent.Status;
using Transit.GateAgent.Trust;

namespace Transit.GateAgent.Clearing;

/// <summary>
/// <c>POST /device/v1/status</c> about once a minute, and the clock offset estimate from its answer:
/// <c>serverTime − (sentAt + receivedAt) / 2</c>.
/// </summary>
internal sealed class HeartbeatService(
    ClearingClient client, GateState state, TapJournal journal, GateMetrics metrics, GateHealth health, ClearingSettings settings, DeviceSettings device,
    TimeProvider time, ILogger<HeartbeatService> logger) : BackgroundService
{
    private static readonly string SoftwareVersion = typeof(HeartbeatService).Assembly.GetName().Version?.ToString(3) ?? "1.0.0";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromSeconds(settings.StatusIntervalSeconds);

        // A new or cleared alarm is reported at once rather than at the next interval.
        var changed = new AsyncSignal();
        health.Changed += changed.Set;
        Task<bool>? changedWait = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            await SendAsync(stoppingToken).ConfigureAwait(false);
            changedWait ??= changed.WaitAsync(Timeout.InfiniteTimeSpan, stoppingToken);
            await Task.WhenAny(changedWait, Task.Delay(interval, time, stoppingToken)).ConfigureAwait(false);
            stoppingToken.ThrowIfCancellationRequested();
            changedWait = changedWait.IsCompleted ? null : changedWait;
        }
    }

    private async Task SendAsync(CancellationToken cancellation)
    {
        var sentAt = time.GetUtcNow();
        var request = new DeviceStatusReport
        {
            DeviceId = device.Id,
            SentAt = sentAt,
            KeySetVersion = state.Trust.KeySet.Version,
            DenyListVersion = state.Trust.DenyList.Version,
            ConfigVersion = state.ConfigVersion,
            JournalBacklog = journal.Backlog,
            HighestSequence = journal.LastSeq,
            LastUploadAt = metrics.LastUploadAt,
            LastSyncAt = metrics.LastSyncAt,
            ClockOffsetMillis = metrics.ClockOffsetMillis,
            Taps = metrics.TapsByReason(),
            P99LatencyMicros = metrics.RecentP99Micros(),
            SoftwareVersion = SoftwareVersion,
            Alarm = health.Amber ? "amber" : null,
            UploadError = health.UploadError,
            SyncError = health.SyncError,
            DiskFreeBytes = health.DiskFreeBytes,
        };
        var response = await client.PostJsonAsync("status", JsonSerializer.SerializeToUtf8Bytes(request, DeviceApiJson.Default.DeviceStatusReport), cancellation).ConfigureAwait(false);
        var receivedAt = time.GetUtcNow();
        if (!response.Ok)
        {
            logger.LogDebug("status heartbeat failed: {Status} {Problem}", DeviceApiStatus.Describe(response.Status), response.Problem);
            return;
        }

        try
        {
            if (JsonSerializer.Deserialize(response.Body, DeviceApiJson.Default.DeviceStatusAnswer)?.ServerTime is { } serverTime)
            {
                var midpoint = sentAt + ((receivedAt - sentAt) / 2);
                var offset = (long)Math.Round((serverTime - midpoint).TotalMilliseconds);
                metrics.RecordClockOffset(offset);
                if (Math.Abs(offset) > 5000)
                {
                    logger.LogWarning("the gate's clock is {Offset} ms off clearing's; freshness checks depend on it (check NTP)", -offset);
                }
            }
        }
        catch (JsonException ex)
        {
            logger.LogDebug("status answer unreadable: {Reason}", ex.Message);
        }
    }
}
