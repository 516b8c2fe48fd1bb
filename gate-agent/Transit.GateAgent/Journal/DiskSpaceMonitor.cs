using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Transit.GateAgent.Configuration;
using Transit.GateAgent.Status;

namespace Transit.GateAgent.Journal;

/// <summary>
/// Watches the free space of the journal's file system: below <c>Journal:MinFreeBytes</c> the gate shows amber and
/// /health turns degraded while commits still succeed, so staff can act before the gate has to refuse riders
/// (docs/gate-install.md). The free space also goes into /health, /metrics and the status heartbeat.
/// </summary>
internal sealed class DiskSpaceMonitor(TapJournal journal, JournalSettings settings, GateHealth health, ILogger<DiskSpaceMonitor> logger) : BackgroundService
{
    private static readonly TimeSpan CheckEvery = TimeSpan.FromSeconds(2);

    private bool _low;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // Checked before any input listens, so the first /health already knows.
        Check();
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(CheckEvery);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            Check();
        }
    }

    private void Check()
    {
        long free;
        try
        {
            free = new DriveInfo(Path.GetDirectoryName(journal.Path)!).AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            logger.LogDebug("free space of the journal's file system unknown: {Reason}", ex.Message);
            return;
        }

        var low = free < settings.MinFreeBytes;
        health.SetDiskFree(free, low ? string.Create(CultureInfo.InvariantCulture, $"free space for the journal is below Journal:MinFreeBytes ({settings.MinFreeBytes:N0} bytes): free some, or the gate will refuse riders once the disk is full") : null);
        if (low != _low)
        {
            _low = low;
            if (low)
            {
                logger.LogWarning(
                    "only {Free:N0} bytes free for the journal {Path}, below Journal:MinFreeBytes {Min:N0}: free disk space before commits fail; amber light on, /health degraded",
                    free, journal.Path, settings.MinFreeBytes);
            }
            else
            {
                logger.LogInformation("{Free:N0} bytes free for the journal again (Journal:MinFreeBytes {Min:N0})", free, settings.MinFreeBytes);
            }
        }
    }
}
