using System.Net;

namespace Transit.GateAgent.Clearing;

/// <summary>HTTP status helpers for the device API's error table.</summary>
internal static class DeviceApiStatus
{
    public static bool IsRetryable(int status) => status is 0 or 408 or 429 or >= 500;

    public static string Describe(int status) => status == 0 ? "no answer" : $"HTTP {status} {(HttpStatusCode)status}";
}
