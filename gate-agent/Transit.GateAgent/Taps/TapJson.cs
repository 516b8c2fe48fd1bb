using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Transit.GateAgent.Taps;

/// <summary>The answer to a scan (<see cref="TapOutcome"/>), serialized without reflection.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(TapOutcome))]
public sealed partial class TapJson : JsonSerializerContext
{
    /// <summary>For writing: ride codes stay readable (no <c>\u002B</c> escapes of <c>+</c>, <c>$</c>, <c>%</c>).</summary>
    public static TapJson Wire { get; } = new(new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
}
