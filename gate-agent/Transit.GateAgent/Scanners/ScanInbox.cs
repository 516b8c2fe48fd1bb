using System.Threading.Channels;
using Transit.GateAgent.Taps;

namespace Transit.GateAgent.Scanners;

/// <summary>
/// Where every scanner input hands over what it read, in the order read; the verify stage is its one reader.
/// Bounded, so a flood of input cannot exhaust memory. Verify and rules are short CPU work, so they continue on the
/// thread that handed the scan over rather than waiting for a pool thread: two fewer thread hops per rider.
/// </summary>
public sealed class ScanInbox
{
    private readonly Channel<ScanRead> _scans = Channel.CreateBounded<ScanRead>(
        new BoundedChannelOptions(10_000) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait, AllowSynchronousContinuations = true });

    /// <summary>Hands a scan over, waiting while the inbox is full.</summary>
    public ValueTask SubmitAsync(ScanRead scan, CancellationToken cancellation) => _scans.Writer.WriteAsync(scan, cancellation);

    /// <summary>Hands a scan over if there is room now.</summary>
    public bool TrySubmit(ScanRead scan) => _scans.Writer.TryWrite(scan);

    /// <summary>The verify stage's end.</summary>
    internal ChannelReader<ScanRead> Reader => _scans.Reader;
}
