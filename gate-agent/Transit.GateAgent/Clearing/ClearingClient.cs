using System.IO.Compression;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Transit.GateAgent.Configuration;

namespace Transit.GateAgent.Clearing;

/// <summary>
/// HTTPS client of the device API (docs/device-api.md) authenticating with the device's X.509 client certificate.
/// Never throws for transport failures: they come back as status 0 so callers back off uniformly.
/// </summary>
public sealed class ClearingClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly X509Certificate2 _certificate;
    private readonly X509Certificate2? _serverCa;
    private TlsProblem? _lastTlsProblem;

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
                RemoteCertificateValidationCallback = ValidateServer,
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
                var (cause, message) = Classify(ex);
                return new ClearingResponse(ex.StatusCode is { } code ? (int)code : 0, $"{_http.BaseAddress}: {message}", null, cause);
            }
            catch (TaskCanceledException ex) when (!cancellation.IsCancellationRequested)
            {
                return new ClearingResponse(0, $"{_http.BaseAddress}: no answer within {_http.Timeout.TotalSeconds:F0} s ({ex.Message})", null, "timeout");
            }
        }
    }

    /// <summary>
    /// Names why no answer came, in the words an installer can act on: a certificate that does not name the host or
    /// that no trusted CA signed, a refused connection, a name that does not resolve.
    /// </summary>
    private (string Cause, string Message) Classify(HttpRequestException ex)
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case AuthenticationException authentication:
                    return Volatile.Read(ref _lastTlsProblem) is { } tls ? (tls.Cause, tls.Message) : ("tls-failed", authentication.Message);
                case SocketException socket:
                    return (socket.SocketErrorCode switch
                    {
                        SocketError.ConnectionRefused => "connection-refused",
                        SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => "host-not-found",
                        SocketError.TimedOut => "timeout",
                        SocketError.NetworkUnreachable or SocketError.HostUnreachable or SocketError.NetworkDown => "network-unreachable",
                        SocketError.ConnectionReset or SocketError.ConnectionAborted => "connection-reset",
                        _ => "network-error",
                    }, socket.Message);
            }
        }

        var innermost = ex.GetBaseException().Message;
        return (ex.HttpRequestError switch
        {
            HttpRequestError.NameResolutionError => "host-not-found",
            HttpRequestError.SecureConnectionError => "tls-failed",
            HttpRequestError.InvalidResponse or HttpRequestError.ResponseEnded => "bad-answer",
            _ => "network-error",
        }, innermost);
    }

    /// <summary>
    /// Checks the server's certificate (against <c>Clearing:ServerCaCertificate</c> when set, else the system's
    /// roots) and remembers why one was refused, since the handshake error itself only says "rejected".
    /// </summary>
    private bool ValidateServer(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        var problem = CheckServer(certificate, chain, errors);
        if (problem is not null)
        {
            Volatile.Write(ref _lastTlsProblem, problem);
        }

        return problem is null;
    }

    private TlsProblem? CheckServer(X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null)
        {
            return new TlsProblem("tls-no-certificate", "the server sent no certificate");
        }

        using var server = new X509Certificate2(certificate);
        var host = _http.BaseAddress!.IdnHost;
        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            return new TlsProblem(
                "tls-name-mismatch",
                $"the server's certificate names {Names(server)}, not {host}: set Clearing:Url to a name the certificate holds, or give the server a certificate for {host}");
        }

        X509ChainStatus[] statuses;
        if (_serverCa is null)
        {
            if ((errors & SslPolicyErrors.RemoteCertificateChainErrors) == 0)
            {
                return null;
            }

            statuses = chain?.ChainStatus ?? [];
        }
        else
        {
            using var custom = new X509Chain();
            custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            custom.ChainPolicy.CustomTrustStore.Add(_serverCa);
            custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            if (custom.Build(server))
            {
                return null;
            }

            statuses = custom.ChainStatus;
        }

        var why = string.Join("; ", statuses.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct());
        var expired = statuses.Any(s => s.Status.HasFlag(X509ChainStatusFlags.NotTimeValid));
        return new TlsProblem(
            expired ? "tls-expired" : "tls-untrusted",
            $"the server's certificate ({server.Subject}, valid {server.NotBefore:yyyy-MM-dd} to {server.NotAfter:yyyy-MM-dd}) is not trusted{(_serverCa is null ? " by the system's roots" : $" by Clearing:ServerCaCertificate ({_serverCa.Subject})")}: {why}");
    }

    private static string Names(X509Certificate2 certificate)
    {
        var names = new List<string>();
        foreach (var extension in certificate.Extensions.Where(e => e.Oid?.Value == "2.5.29.17"))
        {
            var san = extension as X509SubjectAlternativeNameExtension ?? new X509SubjectAlternativeNameExtension(extension.RawData, extension.Critical);
            names.AddRange(san.EnumerateDnsNames());
            names.AddRange(san.EnumerateIPAddresses().Select(a => a.ToString()));
        }

        return names.Count > 0 ? string.Join(", ", names) : $"only {certificate.GetNameInfo(X509NameType.SimpleName, false)} (no subject alternative names)";
    }

    private sealed record TlsProblem(string Cause, string Message);

    private static X509Certificate2 LoadClientCertificate(string certificatePath, string keyPath)
    {
        using var ephemeral = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);

        // OpenSSL-backed TLS wants a key it can hand to the handshake; a PKCS#12 round trip gives one on every platform.
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
    }
}
