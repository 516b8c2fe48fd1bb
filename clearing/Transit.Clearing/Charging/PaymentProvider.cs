using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace Transit.Clearing.Charging;

/// <summary>What a provider knows of a request.</summary>
public enum PaymentState
{
    Pending,
    Succeeded,
    Declined,
}

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
}

/// <summary>
/// A provider for tests and the demo: declines a configurable share of charges (chosen by a hash of the request's
/// account and charge, so that retries of one request get one answer and any process decides alike), and answers
/// after a configurable latency. Refunds always succeed.
/// </summary>
public sealed class SimulatedPaymentProvider(ClearingOptions options, TimeProvider time) : IPaymentProvider
{
    private readonly ConcurrentDictionary<string, (DateTimeOffset ReadyAt, PaymentState Final)> _requests = new();

    public Task<string> SubmitAsync(PaymentRequest request, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(request);
        var reference = "sim_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(request.RequestKey)))[..24];
        var outcome = request.Amount <= 0 || !Declines(request) ? PaymentState.Succeeded : PaymentState.Declined;
        _requests.TryAdd(reference, (time.GetUtcNow() + options.Payments.Latency, outcome));
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
