using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Serialization;
using Transit.GateAgent.Configuration;
using Transit.GateAgent.Journal;

namespace Transit.GateAgent.Clearing;

/// <summary>Answer of <c>GET /device/v1/denylist</c>: deltas or a snapshot, each a signed envelope.</summary>
public sealed record DenyListResponse(
    [property: JsonPropertyName("version")] long Version,
    [property: JsonPropertyName("deltas")] List<JsonElement>? Deltas,
    [property: JsonPropertyName("snapshot")] JsonElement? Snapshot);

/// <summary>Payload of the signed device configuration.</summary>
public sealed record DeviceConfigPayload(
    [property: JsonPropertyName("version")] long Version,
    [property: JsonPropertyName("deviceId")] string? DeviceId,
    [property: JsonPropertyName("operatorId")] string? OperatorId,
    [property: JsonPropertyName("mode")] string? Mode,
    [property: JsonPropertyName("stationId")] string? StationId,
    [property: JsonPropertyName("routeId")] string? RouteId,
    [property: JsonPropertyName("maxAgeSeconds")] int MaxAgeSeconds,
    [property: JsonPropertyName("maxAheadSeconds")] int MaxAheadSeconds,
    [property: JsonPropertyName("passbackSeconds")] int PassbackSeconds,
    [property: JsonPropertyName("issuedAt")] DateTimeOffset IssuedAt);

/// <summary>The outcome of one device API request.</summary>
/// <param name="Status">HTTP status; 0 when no answer came (refused, reset, timeout).</param>
/// <param name="Body">Response body, or the transport error's message.</param>
/// <param name="ETag">The response's ETag, when any.</param>
public sealed record ClearingResponse(int Status, string Body, string? ETag)
{
    /// <summary>True for 2xx.</summary>
    public bool Ok => Status is >= 200 and < 300;

    /// <summary>The problem details' detail, or the body.</summary>
    public string Problem
    {
        get
        {
            try
            {
                var problem = JsonSerializer.Deserialize(Body, GateJson.Default.ProblemDetails);
                return problem?.Detail ?? problem?.Title ?? Body;
            }
            catch (JsonException)
            {
                return Body.Length > 300 ? Body[..300] : Body;
            }
        }
    }
}

/// <summary>
/// HTTPS client of the device API (docs/device-api.md) authenticating with the device's X.509 client certificate.
/// Never throws for transport failures: they come back as status 0 so callers back off uniformly.
/// </summary>
public sealed class ClearingClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly X509Certificate2 _certificate;
    private readonly X509Certificate2? _serverCa;

    /// <summary>Creates the client from the <c>Clearing</c> settings.</summary>
    public ClearingClient(ClearingSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _certificate = LoadClientCertificate(settings.ClientCertificate!, settings.ClientKey!);
        _serverCa = settings.ServerCaCertificate is { Length: > 0 } ca ? X509CertificateLoader.LoadCertificateFromFile(ca) : null;
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(Math.Min(10, settings.RequestTimeoutSeconds)),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = [_certificate],
                LocalCertificateSelectionCallback = (_, _, _, _, _) => _certificate,
                RemoteCertificateValidationCallback = _serverCa is null ? null : ValidateServer,
            },
        };
        _http = new HttpClient(handler)
        {
            BaseAddress = new Uri(settings.Url!),
            Timeout = TimeSpan.FromSeconds(settings.RequestTimeoutSeconds),
        };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("transit-gate", typeof(ClearingClient).Assembly.GetName().Version?.ToString(3) ?? "1.0.0"));
    }

    /// <summary>The device certificate's subject CN.</summary>
    public string CertificateSubject => _certificate.GetNameInfo(X509NameType.SimpleName, false);

    /// <summary>GET <paramref name="path"/> (relative to the base URL), with <c>If-None-Match</c> when given.</summary>
    public Task<ClearingResponse> GetAsync(string path, string? etag, CancellationToken cancellation)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (etag is not null)
        {
            request.Headers.TryAddWithoutValidation("If-None-Match", etag);
        }

        return SendAsync(request, cancellation);
    }

    /// <summary>POST a JSON body to <paramref name="path"/>.</summary>
    public Task<ClearingResponse> PostJsonAsync(string path, byte[] json, CancellationToken cancellation, bool gzip = false)
    {
        var content = new ByteArrayContent(gzip ? Gzip(json) : json);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        if (gzip)
        {
            content.Headers.ContentEncoding.Add("gzip");
        }

        return SendAsync(new HttpRequestMessage(HttpMethod.Post, path) { Content = content }, cancellation);
    }

    private static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream(data.Length / 2);
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(data);
        }

        return output.ToArray();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _http.Dispose();
        _certificate.Dispose();
        _serverCa?.Dispose();
    }

    private async Task<ClearingResponse> SendAsync(HttpRequestMessage request, CancellationToken cancellation)
    {
        using (request)
        {
            try
            {
                using var response = await _http.SendAsync(request, cancellation).ConfigureAwait(false);
                var body = await response.Content.ReadAsStringAsync(cancellation).ConfigureAwait(false);
                return new ClearingResponse((int)response.StatusCode, body, response.Headers.ETag?.ToString());
            }
            catch (HttpRequestException ex)
            {
                return new ClearingResponse(ex.StatusCode is { } code ? (int)code : 0, ex.InnerException?.Message ?? ex.Message, null);
            }
            catch (TaskCanceledException ex) when (!cancellation.IsCancellationRequested)
            {
                return new ClearingResponse(0, $"timed out: {ex.Message}", null);
            }
        }
    }

    private bool ValidateServer(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            return false;
        }

        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.Add(_serverCa!);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var server = new X509Certificate2(certificate);
        return custom.Build(server);
    }

    private static X509Certificate2 LoadClientCertificate(string certificatePath, string keyPath)
    {
        using var ephemeral = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);

        // OpenSSL-backed TLS wants a key it can hand to the handshake; a PKCS#12 round trip gives one on every platform.
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
    }
}

/// <summary>Exponential backoff with full jitter.</summary>
public sealed class Backoff(TimeSpan initial, TimeSpan max)
{
    private int _failures;

    /// <summary>Consecutive failures so far.</summary>
    public int Failures => _failures;

    /// <summary>The wait before the next try: uniform in [initial/2, min(max, initial × 2^failures)].</summary>
    public TimeSpan Next()
    {
        var exponent = Math.Min(_failures, 30);
        _failures++;
        var ceiling = Math.Min(max.TotalMilliseconds, initial.TotalMilliseconds * Math.Pow(2, exponent));
        var floor = Math.Min(initial.TotalMilliseconds / 2, ceiling);
        return TimeSpan.FromMilliseconds(floor + (Random.Shared.NextDouble() * (ceiling - floor)));
    }

    /// <summary>Forgets the failures after a success.</summary>
    public void Reset() => _failures = 0;
}

/// <summary>HTTP status helpers for the device API's error table.</summary>
internal static class DeviceApiStatus
{
    public static bool IsRetryable(int status) => status is 0 or 408 or 429 or >= 500;

    public static string Describe(int status) => status == 0 ? "no answer" : $"HTTP {status} {(HttpStatusCode)status}";
}
