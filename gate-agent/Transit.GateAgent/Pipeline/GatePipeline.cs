using System.Threading.Channels;
using Transit.GateAgent.Scanners;
using Transit.GateAgent.Taps;

namespace Transit.GateAgent.Pipeline;

/// <summary>
/// The channels between the stages: scanners → verify → rules → journal → output. Each stage is given its own reader
/// and writer (<see cref="StageLink{TIn, TOut}"/>) and sees no other; each channel has one reader, so taps keep their
/// scan order from the first stage to the journal's sequence numbers.
/// </summary>
public sealed class GatePipeline(ScanInbox scans)
{
    private readonly Channel<Verdict> _verified = Channel.CreateUnbounded<Verdict>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = true, AllowSynchronousContinuations = true });

    // The journal stage stays asynchronous so that verdicts arriving during a commit gather for the next one.
    private readonly Channel<Verdict> _decided = Channel.CreateUnbounded<Verdict>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });

    private readonly Channel<JournaledTap> _committed = Channel.CreateUnbounded<JournaledTap>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });

    /// <summary>Set whenever taps were committed; the uploader waits on it.</summary>
    public AsyncSignal TapsCommitted { get; } = new();

    /// <summary>
    /// Set every <see cref="CheckpointAfterTaps"/> committed taps. A checkpointed WAL is rewritten from its start, so
    /// commits overwrite blocks the file already has; a WAL that keeps growing makes every commit's fsync also write
    /// the file's new size (docs/benchmarks.md, the gate's commit).
    /// </summary>
    public AsyncSignal CheckpointWanted { get; } = new();

    /// <summary>Committed taps between checkpoints (WAL frames of about 4 KiB each, so the WAL stays near 1 MiB).</summary>
    internal const int CheckpointAfterTaps = 256;

    /// <summary>Scans in, the code's own verdicts out.</summary>
    internal StageLink<ScanRead, Verdict> Verify => new(scans.Reader, _verified.Writer);

    /// <summary>The code's verdicts in, verdicts with replay and pass-back out.</summary>
    internal StageLink<Verdict, Verdict> Rules => new(_verified.Reader, _decided.Writer);

    /// <summary>Verdicts in, durable taps out.</summary>
    internal StageLink<Verdict, JournaledTap> Journal => new(_decided.Reader, _committed.Writer);

    /// <summary>The output stage's end: durable taps, to show.</summary>
    internal ChannelReader<JournaledTap> Committed => _committed.Reader;

    /// <summary>Hands a scan to the pipeline.</summary>
    public ValueTask SubmitAsync(ScanRead scan, CancellationToken cancellation) => scans.SubmitAsync(scan, cancellation);
}
