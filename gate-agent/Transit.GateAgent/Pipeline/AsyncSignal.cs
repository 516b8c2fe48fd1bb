namespace Transit.GateAgent.Pipeline;

/// <summary>An auto-reset signal: <see cref="Set"/> wakes one waiter, or the next one to wait.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "Its SemaphoreSlim is used only with WaitAsync and Release, which never makes a wait handle: nothing to dispose.")]
public sealed class AsyncSignal
{
    private readonly SemaphoreSlim _semaphore = new(0, 1);

    /// <summary>Signals, unless already signalled.</summary>
    public void Set()
    {
        try
        {
            _semaphore.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled: one wake-up covers any number of sets.
        }
    }

    /// <summary>Waits for the signal or the timeout; true when signalled.</summary>
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellation) => _semaphore.WaitAsync(timeout, cancellation);
}
