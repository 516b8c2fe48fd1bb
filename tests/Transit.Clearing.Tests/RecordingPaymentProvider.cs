using System.Collections.Concurrent;
using Transit.Clearing.Charging;

namespace Transit.Clearing.Tests;

/// <summary>
/// A payment provider that keeps its own ledger, as a real one does: every request with its state, and what it
/// actually collected. Accounts in <see cref="Declining"/> are declined; other requests stay pending until
/// <see cref="CompleteAll"/> (a card network answering later). <see cref="HoldNextSubmission"/> makes the next
/// submission block inside <see cref="SubmitAsync"/> until released, so a test can run something else while a
/// payment batch is mid-submission with its charges claimed.
/// </summary>
public sealed class RecordingPaymentProvider : IPaymentProvider
{
    private readonly ConcurrentDictionary<string, Request> _byReference = new();
    private readonly Lock _lock = new();
    private TaskCompletionSource? _hold;
    private TaskCompletionSource? _held;
    private TaskCompletionSource? _holding;

    public HashSet<string> Declining { get; } = new(StringComparer.Ordinal);

    /// <summary>Every request key submitted, in order, repeats included.</summary>
    public ConcurrentQueue<string> Submitted { get; } = new();

    /// <summary>Requests answer at once (succeeded or declined) instead of staying pending.</summary>
    public bool Immediate { get; set; } = true;

    /// <summary>A cancel finds the request already answered by the card network (it collected just before).</summary>
    public bool CollectsBeforeCancel { get; set; }

    /// <summary>Money the provider took from (positive) or gave back to (negative) each account's card.</summary>
    public long CollectedFrom(string account) =>
        _byReference.Values.Where(r => r.Payment.Account == account && r.State == PaymentState.Succeeded).Sum(r => r.Payment.Amount);

    /// <summary>The next <see cref="SubmitAsync"/> blocks until <see cref="Release"/>; the task completes when it has started blocking.</summary>
    public Task HoldNextSubmission()
    {
        lock (_lock)
        {
            _hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _held.Task;
        }
    }

    public void Release()
    {
        lock (_lock)
        {
            (_hold ?? _holding)?.TrySetResult();
        }
    }

    /// <summary>The card network answers every pending request.</summary>
    public void CompleteAll()
    {
        foreach (var request in _byReference.Values)
        {
            lock (request)
            {
                if (request.State == PaymentState.Pending)
                {
                    request.State = Outcome(request.Payment);
                }
            }
        }
    }

    public async Task<string> SubmitAsync(PaymentRequest request, CancellationToken cancellation)
    {
        Task? hold = null;
        lock (_lock)
        {
            if (_hold is { } h)
            {
                hold = h.Task;
                _held!.TrySetResult();
                _holding = h;
                _hold = null;
            }
        }

        if (hold is not null)
        {
            await hold.WaitAsync(cancellation);
        }

        Submitted.Enqueue(request.RequestKey);
        var reference = "rec_" + request.RequestKey;
        _byReference.GetOrAdd(reference, _ => new Request(request) { State = Immediate ? Outcome(request) : PaymentState.Pending });
        return reference;
    }

    public Task<PaymentState> GetStateAsync(string reference, CancellationToken cancellation) =>
        Task.FromResult(_byReference.TryGetValue(reference, out var r) ? r.State : throw new InvalidOperationException($"unknown reference {reference}"));

    public Task<PaymentState> CancelAsync(string reference, CancellationToken cancellation)
    {
        var request = _byReference[reference];
        lock (request)
        {
            if (request.State == PaymentState.Pending)
            {
                request.State = CollectsBeforeCancel ? Outcome(request.Payment) : PaymentState.Cancelled;
            }

            return Task.FromResult(request.State);
        }
    }

    public Task<IReadOnlyList<ProviderPayment>> PaymentsOfAsync(string chargeKey, CancellationToken cancellation) =>
        Task.FromResult<IReadOnlyList<ProviderPayment>>([.. _byReference
            .Where(r => r.Value.Payment.RequestKey.StartsWith(chargeKey + "/", StringComparison.Ordinal))
            .OrderBy(r => r.Value.Payment.RequestKey, StringComparer.Ordinal)
            .Select(r => new ProviderPayment(r.Value.Payment.RequestKey, r.Key, r.Value.Payment.Amount, r.Value.State))]);

    private PaymentState Outcome(PaymentRequest request) =>
        request.Amount > 0 && Declining.Contains(request.Account) ? PaymentState.Declined : PaymentState.Succeeded;

    private sealed class Request(PaymentRequest payment)
    {
        public PaymentRequest Payment { get; } = payment;

        public PaymentState State { get; set; }
    }
}
