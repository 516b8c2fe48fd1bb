using System.Threading.Channels;

namespace Transit.GateAgent.Pipeline;

/// <summary>One stage's two ends of the pipeline: the records it takes and where it hands its own on.</summary>
/// <param name="Input">The stage's one reader of the previous stage's records.</param>
/// <param name="Output">The stage's one writer for the next.</param>
internal readonly record struct StageLink<TIn, TOut>(ChannelReader<TIn> Input, ChannelWriter<TOut> Output);
