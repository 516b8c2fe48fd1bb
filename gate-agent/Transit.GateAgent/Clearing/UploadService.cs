using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Transit.DeviceApi;
using Transit.GateAgent.Configuration;
using Transit.GateAgent.Journal;
using Transit.GateAgent.Pipeline;
using Transit.GateAgent.Status;

namespace Transit.GateAgent.Clearing;

/// <summary>
/// Store and forward: sends the journal to clearing in contiguous sequence ranges, in order, and advances only on
/// clearing's acknowledgement (<c>highestContiguousSequence</c>). Offline it backs off with jitter and the journal
/// keeps buffering; taps are never dropped for an upload error.
/// </summary>
internal sealed class UploadService(
    ClearingClient client, TapJournal journal, GatePipeline pipeline, GateMetrics metrics, GateHealth health, ClearingSettings settings, DeviceSettings device,
    TimeProvider time, ILogger<UploadService> logger) : BackgroundService
{
    private readonly Backoff _backoff = new(TimeSpan.FromMilliseconds(settings.BackoffInitialMillis), TimeSpan.FromMilliseconds(settings.BackoffMaxMillis));
    private int _batchSize = settings.UploadBatchSize;

    /// <summary>Wakes the uploader now (for operators and tests).</summary>
    public void Trigger() => pipeline.TapsCommitted.Set();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            if (journal.Backlog == 0)
            {
                await pipeline.TapsCommitted.WaitAsync(TimeSpan.FromSeconds(5), stoppingToken).ConfigureAwait(false);
                continue;
            }

            if (journal.Backlog < _batchSize && settings.UploadDelayMillis > 0)
            {
                // Let a few more taps join the batch rather than sending one request per rider.
                await Task.Delay(settings.UploadDelayMillis, stoppingToken).ConfigureAwait(false);
            }

            var wait = await UploadOnceAsync(stoppingToken).ConfigureAwait(false);
            if (wait > TimeSpan.Zero)
            {
                await pipeline.TapsCommitted.WaitAsync(TimeSpan.Zero, stoppingToken).ConfigureAwait(false);
                await Task.Delay(wait, stoppingToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Sends one batch; returns how long to wait before the next try (zero after a success).</summary>
    private async Task<TimeSpan> UploadOnceAsync(CancellationToken stopping)
    {
        var from = journal.AckedThrough + 1;
        var taps = journal.ReadFrom(from, _batchSize);
        if (taps.Count == 0)
        {
            return TimeSpan.Zero;
        }

        if (taps[0].Seq != from)
        {
            logger.LogError("taps {From}..{To} are no longer in the journal (pruned); uploading from {First}", from, taps[0].Seq - 1, taps[0].Seq);
        }

        var body = JsonSerializer.SerializeToUtf8Bytes(new TapBatch(device.Id!, taps), DeviceApiJson.Wire.TapBatch);
        var response = await client.PostJsonAsync("taps", body, stopping, settings.CompressUploads).ConfigureAwait(false);
        var last = taps[^1].Seq;
        if (response.Ok)
        {
            TapBatchAnswer? ack;
            try
            {
                ack = JsonSerializer.Deserialize(response.Body, DeviceApiJson.Default.TapBatchAnswer);
            }
            catch (JsonException ex)
            {
                logger.LogError("clearing acknowledged taps {From}..{To} with an unreadable body: {Reason}", taps[0].Seq, last, ex.Message);
                metrics.RecordUploadFailure("bad-ack");
                Failing("bad-answer", $"unreadable acknowledgement of taps {taps[0].Seq}..{last}: {ex.Message}");
                return _backoff.Next();
            }

            try
            {
                return Acknowledged(ack, taps, from);
            }
            catch (Microsoft.Data.Sqlite.SqliteException ex)
            {
                // A full disk must not stop the uploader: the taps are sent again and clearing counts them as duplicates.
                logger.LogWarning("clearing stored taps {From}..{To} but the journal could not record it: {Reason}; they will be sent again", taps[0].Seq, last, ex.Message);
                return _backoff.Next();
            }
        }

        metrics.RecordUploadFailure(response.Status == 0 ? "network" : response.Status.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (response.Status != 413 || _batchSize == 1)
        {
            Failing(response.Cause, response.Describe());
        }

        switch (response.Status)
        {
            case 413 when _batchSize > 1:
                _batchSize = Math.Max(1, _batchSize / 2);
                logger.LogWarning("clearing refused a batch of {Count} taps as too large; batches are now {Size}", taps.Count, _batchSize);
                return TimeSpan.Zero;
            case 403:
                health.SetRefusal($"clearing refuses this device (403): {response.Problem}");
                logger.LogError("upload refused: {Alarm}; buffering until it is resolved", health.Refusal);
                return _backoff.Next();
            case 409:
                health.SetRefusal($"clearing reports conflicting taps in {taps[0].Seq}..{last} (409): {response.Problem}");
                logger.LogCritical("{Alarm}; the journal or the server holds a forged or corrupted tap", health.Refusal);
                return _backoff.Next();
            case 400:
                logger.LogError("clearing refused taps {From}..{To} as malformed (400): {Problem}; keeping them and retrying", taps[0].Seq, last, response.Problem);
                return _backoff.Next();
            default:
                var wait = _backoff.Next();
                logger.Log(
                    _backoff.Failures == 1 ? LogLevel.Warning : LogLevel.Debug,
                    "upload of taps {From}..{To} failed ({Cause}: {Problem}); backlog {Backlog}, retrying in {Wait:F1} s",
                    taps[0].Seq, last, response.Cause, response.Describe(), journal.Backlog, wait.TotalSeconds);
                return wait;
        }
    }

    private void Failing(string cause, string message) =>
        LinkLog.Failing(logger, "uploads", health.UploadFailed(cause, message, time.GetUtcNow()), $"taps stay in the journal (backlog {journal.Backlog})");

    /// <summary>Advances the journal to clearing's acknowledgement.</summary>
    private TimeSpan Acknowledged(TapBatchAnswer? ack, List<TapRecord> taps, long from)
    {
        var last = taps[^1].Seq;
        var acknowledged = Math.Min(ack?.HighestContiguousSequence ?? 0, last);
        if (acknowledged >= taps[0].Seq - 1)
        {
            journal.MarkUploaded(acknowledged);
        }
        else if (taps[0].Seq == from)
        {
            // Clearing is missing taps below this batch (restored from a backup?): send again from its gap.
            logger.LogWarning("clearing holds taps only up to {Acked}; re-sending from {Next}", acknowledged, acknowledged + 1);
            journal.RewindUploaded(acknowledged);
        }
        else
        {
            // The gap lies in taps this gate already pruned: nothing can fill it, so move on rather than loop.
            logger.LogCritical("clearing lacks taps {From}..{To}, which this gate no longer holds", acknowledged + 1, taps[0].Seq - 1);
            journal.MarkUploaded(last);
        }

        health.SetRefusal(null);
        LinkLog.Recovered(logger, "uploads", health.UploadSucceeded());
        metrics.RecordUpload(taps.Count, time.GetUtcNow());
        _backoff.Reset();
        logger.LogDebug("uploaded taps {From}..{To}: stored {Stored}, duplicates {Duplicates}, acknowledged through {Acked}", taps[0].Seq, last, ack?.Stored, ack?.Duplicates, acknowledged);
        return TimeSpan.Zero;
    }
}
