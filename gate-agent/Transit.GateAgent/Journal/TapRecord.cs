using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Transit.GateAgent.Pipeline;

namespace Transit.GateAgent.Journal;

/// <summary>Serialisation of the gate's own local bodies (the device API's are Transit.DeviceApi's), without reflection.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(TapOutcome))]
public sealed partial class GateJson : JsonSerializerContext
{
    /// <summary>For writing: ride codes stay readable (no <c>\u002B</c> escapes of <c>+</c>, <c>$</c>, <c>%</c>).</summary>
    public static GateJson Wire { get; } = new(new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
}
