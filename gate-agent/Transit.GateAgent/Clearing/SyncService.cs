using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Transit.DeviceApi;
using Transit.GateAgent.Configuration;
using Transit.GateAgent.Journal;
using Transit.GateAgent.Status;
using Transit.GateAgent.Trust;
using Transit.RideCodes;

namespace Transit.GateAgent.Clearing;

/// <summary>What one sync round did.</summary>
/// <param name="Complete">Every document was fetched (whether or not it changed or was refused).</param>
/// <param name="Refused">Documents refused this round: bad signature, tampered, older, out of order, another device's.</param>
public sealed record SyncResult(bool Complete, IReadOnlyList<string> Refused);

/// <summary>
/// Fetches key set, deny-list deltas, device configuration and the issuer acceptance list (ETag/version based); the key set is checked against
/// the root key, the others against the root or an online key the held key set certifies for them, before use; a bad
/// or older one is refused and the last good one kept. The verifier sees new trust on
/// the next tap.
/// </summary>
public sealed class SyncService(
    ClearingClient client, GateState state, GateMetrics metrics, GateHealth health, ClearingSettings settings, TimeProvider time, ILogger<SyncService> logger) : BackgroundService
{
    private readonly SemaphoreSlim _round = new(1, 1);
    private readonly Backoff _backoff = new(TimeSpan.FromMilliseconds(settings.BackoffInitialMillis), TimeSpan.FromMilliseconds(settings.BackoffMaxMillis));
    private (string Cause, string Message)? _failure;

    /// <summary>Runs one sync round now (the status endpoint's <c>POST /control/sync</c>).</summary>
    public async Task<SyncResult> SyncNowAsync(CancellationToken cancellation)
    {
        await _round.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            var refused = new List<string>();
            _failure = null;
            var complete = await SyncKeySetAsync(refused, cancellation).ConfigureAwait(false);
            complete &= await SyncDenyListAsync(refused, cancellation).ConfigureAwait(false);
            complete &= await SyncConfigAsync(refused, cancellation).ConfigureAwait(false);
            complete &= await SyncIssuersAsync(refused, cancellation).ConfigureAwait(false);
            if (complete)
            {
                metrics.RecordSync(time.GetUtcNow());
                LinkLog.Recovered(logger, "sync", health.SyncSucceeded());
            }
            else if (_failure is { } failure)
            {
                LinkLog.Failing(logger, "sync", health.SyncFailed(failure.Cause, failure.Message, time.GetUtcNow()), "the gate decides with the trust it holds");
            }

            return new SyncResult(complete, refused);
        }
        finally
        {
            _round.Release();
        }
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        _round.Dispose();
        base.Dispose();
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromSeconds(settings.SyncIntervalSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            var result = await SyncNowAsync(stoppingToken).ConfigureAwait(false);
            TimeSpan wait;
            if (result.Complete)
            {
                _backoff.Reset();
                wait = interval;
            }
            else
            {
                var next = _backoff.Next();
                wait = next < interval ? next : interval;
            }

            await Task.Delay(wait, time, stoppingToken).ConfigureAwait(false);
        }
    }

    private async Task<bool> SyncKeySetAsync(List<string> refused, CancellationToken cancellation)
    {
        var held = state.Trust.KeySet.Version;
        var response = await client.GetAsync("keyset", $"\"keyset-{held.ToString(CultureInfo.InvariantCulture)}\"", cancellation).ConfigureAwait(false);
        if (response.Status == 304)
        {
            return true;
        }

        if (!response.Ok)
        {
            return Failed("key set", response);
        }

        Install("keyset", refused, () => state.InstallKeySet(response.Body));
        return true;
    }

    private async Task<bool> SyncDenyListAsync(List<string> refused, CancellationToken cancellation)
    {
        var held = state.Trust.DenyList.Version;
        var v = held.ToString(CultureInfo.InvariantCulture);
        var response = await client.GetAsync($"denylist?since={v}", $"\"denylist-{v}\"", cancellation).ConfigureAwait(false);
        if (response.Status == 304)
        {
            return true;
        }

        if (!response.Ok)
        {
            return Failed("deny list", response);
        }

        DenyListAnswer? body;
        try
        {
            body = JsonSerializer.Deserialize(response.Body, DeviceApiJson.Default.DenyListAnswer);
        }
        catch (JsonException ex)
        {
            Refuse("denylist", refused, $"unreadable answer: {ex.Message}");
            return true;
        }

        if (body?.Snapshot is { ValueKind: JsonValueKind.Object } snapshot)
        {
            Install("denylist", refused, () => state.InstallDenyList(snapshot.GetRawText()));
        }

        foreach (var delta in body?.Deltas ?? [])
        {
            // Deltas apply strictly in order: after a bad one the rest cannot apply; the next sync asks again.
            if (!Install("denylist-delta", refused, () =>
            {
                var json = delta.GetRawText();
                if (DenyListDelta.Open(SignedDocument.Parse(json), state.Trust.RootKey, state.Trust.KeySet).Version <= state.Trust.DenyList.Version)
                {
                    return false;
                }

                state.ApplyDenyListDelta(json);
                return true;
            }))
            {
                break;
            }
        }

        return true;
    }

    private async Task<bool> SyncConfigAsync(List<string> refused, CancellationToken cancellation)
    {
        var held = state.ConfigVersion;
        var response = await client.GetAsync("config", $"\"config-{held.ToString(CultureInfo.InvariantCulture)}\"", cancellation).ConfigureAwait(false);
        if (response.Status is 304 or 404)
        {
            // 404: clearing keeps no configuration for this device; the local settings stay in force.
            return true;
        }

        if (!response.Ok)
        {
            return Failed("device configuration", response);
        }

        Install("config", refused, () => state.InstallConfig(response.Body));
        return true;
    }

    /// <summary>
    /// The operator's issuer acceptance list with the accepted issuers' key sets and deny lists, after the operator's
    /// own key set (which certifies the key that signs the list). One document, one version: an issuer's new key set
    /// or deny list comes as a new version of the whole.
    /// </summary>
    private async Task<bool> SyncIssuersAsync(List<string> refused, CancellationToken cancellation)
    {
        var held = state.Acceptance?.Version ?? 0;
        var response = await client.GetAsync("issuers", $"\"issuers-{held.ToString(CultureInfo.InvariantCulture)}\"", cancellation).ConfigureAwait(false);
        if (response.Status is 304 or 404)
        {
            // 404: the operator accepts no other issuers (or an older clearing); the configured Trust:Issuers stay.
            return true;
        }

        if (!response.Ok)
        {
            return Failed("issuers", response);
        }

        Install("issuers", refused, () => state.InstallIssuers(response.Body));
        return true;
    }

    private bool Install(string document, List<string> refused, Func<bool> install)
    {
        try
        {
            install();
            return true;
        }
        catch (TrustDocumentException ex)
        {
            Refuse(document, refused, ex.Message);
            return false;
        }
        catch (Microsoft.Data.Sqlite.SqliteException ex)
        {
            // In force in memory; only a restart before the next sync would fall back to the stored one (disk full).
            logger.LogWarning("the {Document} from clearing is in force but could not be stored in the journal: {Reason}", document, ex.Message);
            return true;
        }
    }

    private void Refuse(string document, List<string> refused, string reason)
    {
        refused.Add(document);
        metrics.RecordSyncRefusal(document);
        logger.LogWarning("sync refused the {Document} from clearing, keeping the last good one: {Reason}", document, reason);
    }

    private bool Failed(string what, ClearingResponse response)
    {
        _failure ??= (response.Cause, $"{what}: {response.Describe()}");
        logger.LogDebug("sync of the {What} failed: {Status} {Problem}", what, DeviceApiStatus.Describe(response.Status), response.Problem);
        return false;
    }
}
