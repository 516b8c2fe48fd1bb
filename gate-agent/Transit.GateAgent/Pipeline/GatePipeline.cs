using System.Threading.Channels;

namespace Transit.GateAgent.Pipeline;

/// <summary>
/// The channels between the stages: scanners → verify → rules → journal → output. Each channel has one reader,
/// so taps keep their scan order from the first stage to the journal's sequence numbers.
/// </summary>
public sealed class GatePipeline
{
    /// <summary>
    /// Scans waiting for verification; bounded so a flood of input cannot exhaust memory. Verify and rules are short
    /// CPU work, so they continue on the thread that handed the tap over rather than waiting for a pool thread: two
    /// fewer thread hops per rider. The journal stage stays asynchronous so that taps arriving during a commit
    /// gather for the next one.
    /// </summary>
    internal Channel<Tap> Scans { get; } = Channel.CreateBounded<Tap>(
        new BoundedChannelOptions(10_000) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait, AllowSynchronousContinuations = true });

    internal Channel<Tap> Verified { get; } = Channel.CreateUnbounded<Tap>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = true, AllowSynchronousContinuations = true });

    internal Channel<Tap> Decided { get; } = Channel.CreateUnbounded<Tap>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });

    internal Channel<Tap> Committed { get; } = Channel.CreateUnbounded<Tap>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });

    /// <summary>Set whenever taps were committed; the uploader waits on it.</summary>
    public AsyncSignal TapsCommitted { get; } = new();

    /// <summary>
    /// Set every <see cref="CheckpointAfterTaps"/> committed taps. A checkpointed WAL is rewritten from its start, so
    /// commits overwrite blocks the file already has; a WAL that keeps growing makes every commit's fsync also write
    /// the file's new size, which on the development machine's disk cost 270 µs per commit instead of 155 µs.
    /// </summary>
    public AsyncSignal CheckpointWanted { get; } = new();

    /// <summary>Committed taps between checkpoints (WAL frames of about 4 KiB each, so the WAL stays near 1 MiB).</summary>
    internal const int CheckpointAfterTaps = 256;

    /// <summary>Hands a scan to the pipeline.</summary>
    public ValueTask SubmitAsync(Tap tap, CancellationToken cancellation) => Scans.Writer.WriteAsync(tap, cancellation);
}
