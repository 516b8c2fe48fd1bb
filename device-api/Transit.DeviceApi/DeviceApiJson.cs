using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Transit.DeviceApi;

/// <summary>The device API's bodies, serialized without reflection (fast start on a gate, trimmable).</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(TapRecord))]
[JsonSerializable(typeof(TapBatch))]
[JsonSerializable(typeof(TapBatchAnswer))]
[JsonSerializable(typeof(DeviceConfig))]
[JsonSerializable(typeof(DeviceStatusReport))]
[JsonSerializable(typeof(DeviceStatusAnswer))]
[JsonSerializable(typeof(LinkError))]
[JsonSerializable(typeof(DenyListAnswer))]
[JsonSerializable(typeof(IssuerBundleAnswer))]
[JsonSerializable(typeof(DeviceProblem))]
public sealed partial class DeviceApiJson : JsonSerializerContext
{
    /// <summary>
    /// For writing: ride codes are full of <c>+</c>, <c>$</c> and <c>%</c>, which the default encoder turns into
    /// <c>\u002B</c> escapes; this keeps them readable in journals and batches (still valid JSON, the same strings).
    /// </summary>
    public static DeviceApiJson Wire { get; } = new(new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
}
