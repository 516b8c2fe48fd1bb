using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Transit.Clearing.Charging;

/// <summary>What a provider knows of a request.</summary>
public enum PaymentState
{
    Pending,
    Succeeded,
    Declined,

    /// <summary>Voided before it completed (<see cref="IPaymentProvider.CancelAsync"/>): no money moved.</summary>
    Cancelled,
}

/// <summary>One request as the provider's own ledger holds it.</summary>
public sealed record ProviderPayment(string RequestKey, string Reference, long Amount, PaymentState State);

/// <summary>A request to collect (positive amount) or refund (negative amount) money.</summary>
/// <param name="RequestKey">Idempotency key: the provider performs each key at most once and answers repeats with the first result.</param>
public sealed record PaymentRequest(string RequestKey, string Account, long Amount, string Currency);

/// <summary>
/// A card or wallet payment provider. Submission is acknowledged at once; the result comes later (webhooks in real
/// providers, polling here), as with real card networks.
/// </summary>
public interface IPaymentProvider
{
    /// <summary>Submits a request; returns the provider's reference. Repeating a key returns the same reference.</summary>
    Task<string> SubmitAsync(PaymentRequest request, CancellationToken cancellation);

    /// <summary>The state of a submitted request.</summary>
    Task<PaymentState> GetStateAsync(string reference, CancellationToken cancellation);

    /// <summary>
    /// Voids a request that has not completed, and returns its final state: <see cref="PaymentState.Cancelled"/> when
    /// voided, or what it had already become (a card network may answer before the void arrives). Repeating it is
    /// harmless. <see cref="PaymentState.Pending"/> means the provider could not decide yet.
    /// </summary>
    Task<PaymentState> CancelAsync(string reference, CancellationToken cancellation);

    /// <summary>Every request the provider holds for one charge (request keys <c>{chargeKey}/a{attempt}</c>), in key order.</summary>
    Task<IReadOnlyList<ProviderPayment>> PaymentsOfAsync(string chargeKey, CancellationToken cancellation);
}

/// <summary>
/// A provider for tests and the demo: declines a configurable share of charges (chosen by a hash of the request's
/// account and charge, so that retries of one request get one answer and any process decides alike), and answers
/// after a configurable latency. Refunds always succeed. With <see cref="SimulatedPaymentOptions.LedgerFile"/> its
/// ledger outlives the process, as a real provider's does.
/// </summary>
public sealed class SimulatedPaymentProvider(ClearingOptions options, TimeProvider time) : IPaymentProvider
{
    private readonly ConcurrentDictionary<string, (DateTimeOffset ReadyAt, PaymentState Final, PaymentRequest Request)> _requests =
        LoadLedger(options.Payments.LedgerFile);

    private readonly Lock _ledgerLock = new();

    /// <summary>The requests of a ledger file: tab-separated lines, a later line for a reference replacing the earlier one.</summary>
    public static ConcurrentDictionary<string, (DateTimeOffset ReadyAt, PaymentState Final, PaymentRequest Request)> LoadLedger(string? path)
    {
        var requests = new ConcurrentDictionary<string, (DateTimeOffset, PaymentState, PaymentRequest)>(StringComparer.Ordinal);
        if (path is null || !File.Exists(path))
        {
            return requests;
        }

        foreach (var line in File.ReadLines(path))
        {
            var f = line.Split('\t');
            if (f.Length == 7)
            {
                requests[f[0]] = (
                    DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(f[6], CultureInfo.InvariantCulture)),
                    Enum.Parse<PaymentState>(f[5]),
                    new PaymentRequest(f[1], f[2], long.Parse(f[3], CultureInfo.InvariantCulture), f[4]));
            }
        }

        return requests;
    }

    private void Record(string reference, (DateTimeOffset ReadyAt, PaymentState Final, PaymentRequest Request) entry)
    {
        if (options.Payments.LedgerFile is not { } path)
        {
            return;
        }

        lock (_ledgerLock)
        {
            File.AppendAllText(path, string.Create(CultureInfo.InvariantCulture,
                $"{reference}\t{entry.Request.RequestKey}\t{entry.Request.Account}\t{entry.Request.Amount}\t{entry.Request.Currency}\t{entry.Final}\t{entry.ReadyAt.ToUnixTimeMilliseconds()}\n"));
        }
    }

    public Task<string> SubmitAsync(PaymentRequest request, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(request);
        var reference = "sim_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(request.RequestKey)))[..24];
        var outcome = request.Amount <= 0 || !Declines(request) ? PaymentState.Succeeded : PaymentState.Declined;
        var entry = (time.GetUtcNow() + options.Payments.Latency, outcome, request);
        if (_requests.TryAdd(reference, entry))
        {
            Record(reference, entry);
        }

        return Task.FromResult(reference);
    }

    public Task<PaymentState> GetStateAsync(string reference, CancellationToken cancellation)
    {
        // A reference this process never saw was submitted by another process: decide it the same way now.
        if (!_requests.TryGetValue(reference, out var entry))
        {
            return Task.FromResult(PaymentState.Pending);
        }

        return Task.FromResult(time.GetUtcNow() >= entry.ReadyAt ? entry.Final : PaymentState.Pending);
    }

    public Task<PaymentState> CancelAsync(string reference, CancellationToken cancellation)
    {
        while (_requests.TryGetValue(reference, out var entry))
        {
            if (time.GetUtcNow() >= entry.ReadyAt || entry.Final == PaymentState.Cancelled)
            {
                return Task.FromResult(entry.Final);
            }

            var cancelled = entry with { Final = PaymentState.Cancelled };
            if (_requests.TryUpdate(reference, cancelled, entry))
            {
                Record(reference, cancelled);
                return Task.FromResult(PaymentState.Cancelled);
            }
        }

        return Task.FromResult(PaymentState.Pending);
    }

    public Task<IReadOnlyList<ProviderPayment>> PaymentsOfAsync(string chargeKey, CancellationToken cancellation)
    {
        var now = time.GetUtcNow();
        return Task.FromResult<IReadOnlyList<ProviderPayment>>([.. _requests
            .Where(r => r.Value.Request.RequestKey.StartsWith(chargeKey + "/", StringComparison.Ordinal))
            .Select(r => new ProviderPayment(
                r.Value.Request.RequestKey, r.Key, r.Value.Request.Amount,
                now >= r.Value.ReadyAt || r.Value.Final == PaymentState.Cancelled ? r.Value.Final : PaymentState.Pending))
            .OrderBy(p => p.RequestKey, StringComparer.Ordinal)]);
    }

    private bool Declines(PaymentRequest request)
    {
        if (options.Payments.DeclineAccounts.Contains(request.Account))
        {
            return true;
        }

        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(request.RequestKey));
        return BitConverter.ToUInt32(hash) / (double)uint.MaxValue < options.Payments.DeclineRate;
    }
}
