using System.Text.Json;
using Transit.DeviceApi;

namespace Transit.GateAgent.Clearing;

/// <summary>The outcome of one device API request.</summary>
/// <param name="Status">HTTP status; 0 when no answer came (refused, reset, timeout).</param>
/// <param name="Body">Response body, or the transport error's message.</param>
/// <param name="ETag">The response's ETag, when any.</param>
/// <param name="TransportCause">Kebab-case cause when no answer came: <c>tls-name-mismatch</c>, <c>connection-refused</c>, <c>timeout</c>, …</param>
public sealed record ClearingResponse(int Status, string Body, string? ETag, string? TransportCause = null)
{
    /// <summary>True for 2xx.</summary>
    public bool Ok => Status is >= 200 and < 300;

    /// <summary>Kebab-case cause of a failure: the transport's, or <c>http-NNN</c> for an answer that is not 2xx.</summary>
    public string Cause => TransportCause ?? (Status == 0 ? "network-error" : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"http-{Status}"));

    /// <summary>One line for logs and the heartbeat: the status or transport error and clearing's explanation.</summary>
    public string Describe() => Status == 0 ? Body : $"{DeviceApiStatus.Describe(Status)}: {Problem}";

    /// <summary>The problem details' detail, or the body.</summary>
    public string Problem
    {
        get
        {
            try
            {
                var problem = JsonSerializer.Deserialize(Body, DeviceApiJson.Default.DeviceProblem);
                return problem?.Detail ?? problem?.Title ?? Body;
            }
            catch (JsonException)
            {
                return Body.Length > 300 ? Body[..300] : Body;
            }
        }
    }
}
