using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Transit.RideCodes;
using Transit.RideCodes.KeyStore;
using Transit.DeviceApi;

namespace Transit.GateAgent.Tests.Infrastructure;

/// <summary>
/// A clearing server's device API as docs/device-api.md specifies it, for the gate's tests: real TLS on loopback,
/// a client certificate from the operator's device CA required, idempotent tap storage by (device, seq) with the
/// highest-contiguous acknowledgement, and key set / deny list / configuration served from the key directory.
/// It can be stopped and started again on the same port to play an outage.
/// </summary>
public sealed class TestClearingServer : IAsyncDisposable
{
    private readonly OperatorKeyDirectory _keys;
    private readonly X509Certificate2 _serverCertificate;
    private readonly DeviceCertificateAuthority _ca;
    private readonly ConcurrentDictionary<long, string> _taps = new();
    private readonly ConcurrentQueue<long> _storedOrder = new();
    private readonly Lock _storeLock = new();
    private WebApplication? _app;

    /// <param name="keys">The operator's key directory.</param>
    /// <param name="certificateNames">
    /// When given, the server presents a certificate from the same CA naming only these hosts (e.g. one that does
    /// not name 127.0.0.1, as a gate configured with the wrong address meets); otherwise the key directory's.
    /// </param>
    public TestClearingServer(OperatorKeyDirectory keys, IEnumerable<string>? certificateNames = null)
    {
        _keys = keys;
        _ca = keys.OpenDeviceAuthority();
        if (certificateNames is null)
        {
            using var pem = X509Certificate2.CreateFromPemFile(keys.ServerCertificatePath, keys.ServerKeyPath);
            _serverCertificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }
        else
        {
            using var issued = _ca.IssueServerCertificate(certificateNames, DateTimeOffset.UtcNow);
            _serverCertificate = X509CertificateLoader.LoadPkcs12(issued.Export(X509ContentType.Pkcs12), null);
        }

        Port = FreePort();
    }

    public int Port { get; }

    public string Url => $"https://127.0.0.1:{Port}/device/v1/";

    /// <summary>When set, served by GET keyset instead of the key directory's key set (e.g. a tampered one).</summary>
    public string? KeySetOverride { get; set; }

    /// <summary>When set, deny-list deltas are served with a payload changed after signing (a forged delta).</summary>
    public bool TamperDeltas { get; set; }

    /// <summary>Signed device configuration served by GET config; 404 when null.</summary>
    public string? ConfigJson { get; set; }

    /// <summary>Batches larger than this are refused with 413 (the real limit is 5,000).</summary>
    public int MaxBatch { get; set; } = 5000;

    /// <summary>When set, every upload is answered with this HTTP status (e.g. 500, a broken server).</summary>
    public int? FailUploadsWith { get; set; }

    /// <summary>Bodies of the status heartbeats received, in order.</summary>
    public ConcurrentQueue<JsonNode> StatusBodies { get; } = new();

    /// <summary>Upload requests that arrived gzip-compressed.</summary>
    public int CompressedBatches { get; private set; }

    /// <summary>Sizes of the batches received, in order.</summary>
    public ConcurrentQueue<int> BatchSizes { get; } = new();

    /// <summary>Taps stored, by sequence number (each the JSON as received).</summary>
    public IReadOnlyDictionary<long, string> Taps => _taps;

    /// <summary>Sequence numbers in the order they were first stored.</summary>
    public IReadOnlyList<long> StoredOrder => [.. _storedOrder];

    public long Duplicates { get; private set; }

    public int StatusReports { get; private set; }

    public int RequestsRefusedForCertificate { get; private set; }

    public long HighestContiguous
    {
        get
        {
            var n = 0L;
            while (_taps.ContainsKey(n + 1))
            {
                n++;
            }

            return n;
        }
    }

    /// <summary>Loses every stored tap, as a server restored from an old backup would.</summary>
    public void Forget()
    {
        lock (_storeLock)
        {
            _taps.Clear();
            _storedOrder.Clear();
        }
    }

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, Port, listen => listen.UseHttps(https =>
        {
            https.ServerCertificate = _serverCertificate;
            https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
            https.ClientCertificateValidation = (certificate, _, _) => _ca.Issued(certificate, DateTimeOffset.UtcNow);
        })));
        builder.Services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(o => o.Limits.MaxRequestBodySize = 64 * 1024 * 1024);
        builder.Services.AddRequestDecompression();
        var app = builder.Build();
        app.Use((context, next) =>
        {
            // Counted before the decompression middleware takes the header away.
            if (context.Request.Headers.ContentEncoding.ToString() == "gzip")
            {
                CompressedBatches++;
            }

            return next(context);
        });
        app.UseRequestDecompression();
        app.MapPost("/device/v1/taps", (Delegate)UploadAsync);
        app.MapGet("/device/v1/keyset", (Delegate)KeySet);
        app.MapGet("/device/v1/denylist", (Delegate)DenyList);
        app.MapGet("/device/v1/config", (Delegate)Config);
        app.MapPost("/device/v1/status", (Delegate)Status);
        await app.StartAsync();
        _app = app;
    }

    public async Task StopAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _serverCertificate.Dispose();
        _ca.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static IResult Problem(int status, string title, string detail) =>
        Results.Json(new { type = "https://transit.example/problems/" + status, title, status, detail }, statusCode: status, contentType: "application/problem+json");

    private async Task<IResult> UploadAsync(HttpContext context)
    {
        var device = context.Connection.ClientCertificate?.GetNameInfo(X509NameType.SimpleName, false);
        if (FailUploadsWith is { } failure)
        {
            return Problem(failure, "Server error", "the test server is set to fail uploads");
        }

        JsonNode? body;
        try
        {
            body = await JsonNode.ParseAsync(context.Request.Body);
        }
        catch (JsonException ex)
        {
            return Problem(400, "The tap batch is invalid", ex.Message);
        }

        var deviceId = body?["deviceId"]?.GetValue<string>();
        if (deviceId != device)
        {
            RequestsRefusedForCertificate++;
            return Problem(403, "Forbidden", $"the batch names device '{deviceId}' but the certificate is '{device}'");
        }

        var taps = body?["taps"]?.AsArray();
        BatchSizes.Enqueue(taps?.Count ?? 0);
        if (taps is null || taps.Count == 0)
        {
            return Problem(400, "The tap batch is invalid", "taps must hold 1 to 5,000 taps");
        }

        if (taps.Count > MaxBatch)
        {
            return Problem(413, "The tap batch is too large", $"at most {MaxBatch} taps per batch");
        }

        var batch = new List<(long Seq, string Json)>();
        foreach (var tap in taps)
        {
            var seq = tap!["seq"]!.GetValue<long>();
            if (batch.Count > 0 && seq != batch[^1].Seq + 1)
            {
                return Problem(400, "The tap batch is invalid", $"seq {seq} follows {batch[^1].Seq}; a batch must be contiguous");
            }

            foreach (var field in new[] { "at", "code", "accepted", "reason", "mode", "operatorId" })
            {
                if (tap[field] is null)
                {
                    return Problem(400, "The tap batch is invalid", $"tap {seq}: {field} is missing");
                }
            }

            batch.Add((seq, tap.ToJsonString()));
        }

        int stored = 0, duplicates = 0;
        lock (_storeLock)
        {
            foreach (var (seq, json) in batch)
            {
                if (_taps.TryGetValue(seq, out var held) && held != json)
                {
                    return Problem(409, "Conflicting tap", $"seq {seq} is stored with different content");
                }
            }

            foreach (var (seq, json) in batch)
            {
                if (_taps.TryAdd(seq, json))
                {
                    stored++;
                    _storedOrder.Enqueue(seq);
                }
                else
                {
                    duplicates++;
                }
            }

            Duplicates += duplicates;
        }

        return Results.Text(
            JsonSerializer.Serialize(new TapBatchAnswer(deviceId!, batch.Count, stored, duplicates, HighestContiguous, []), DeviceApiJson.Default.TapBatchAnswer),
            "application/json");
    }

    private IResult KeySet(HttpContext context)
    {
        return Versioned(context, "keyset", KeySetOverride ?? File.ReadAllText(_keys.KeySetPath));
    }

    private IResult DenyList(HttpContext context, long? since)
    {
        var current = OperatorKeyDirectory.Open(_keys.Path);
        var version = current.DenyList.Version;
        context.Response.Headers.ETag = $"\"denylist-{version.ToString(CultureInfo.InvariantCulture)}\"";
        if (since == version)
        {
            return Results.StatusCode(304);
        }

        var deltas = since is > 0 ? current.ReadDenyListDeltasAfter(since.Value) : [];
        var answer = deltas.Count > 0
            ? new DenyListAnswer(version, [.. deltas.Select(d => JsonElement.Parse((TamperDeltas ? Forge(d) : d).ToJson()))], null)
            : new DenyListAnswer(version, null, JsonElement.Parse(current.ReadSignedDenyList().ToJson()));
        return Results.Text(JsonSerializer.Serialize(answer, DeviceApiJson.Default.DenyListAnswer), "application/json");
    }

    private IResult Config(HttpContext context)
    {
        if (ConfigJson is null)
        {
            return Problem(404, "Not found", "no configuration for this device");
        }

        return Versioned(context, "config", ConfigJson);
    }

    /// <summary>The delta with one more account added to its payload, under the original signature.</summary>
    private static SignedDocument Forge(SignedDocument delta)
    {
        var payload = JsonNode.Parse(delta.Payload)!;
        payload["addAccounts"]!.AsArray().Add("victim");
        return new SignedDocument(delta.Type, delta.Algorithm, System.Text.Encoding.UTF8.GetBytes(payload.ToJsonString()), delta.Signature, delta.OnlineKeyId);
    }

    /// <summary>A signed document with ETag <c>"KIND-VERSION"</c>, or 304 when the client holds that version.</summary>
    private static IResult Versioned(HttpContext context, string kind, string json)
    {
        var version = JsonNode.Parse(SignedDocument.Parse(json).Payload)!["version"]!.GetValue<long>();
        var etag = $"\"{kind}-{version.ToString(CultureInfo.InvariantCulture)}\"";
        if (context.Request.Headers.IfNoneMatch == etag)
        {
            return Results.StatusCode(304);
        }

        context.Response.Headers.ETag = etag;
        return Results.Text(json, "application/json");
    }

    private async Task<IResult> Status(HttpContext context)
    {
        // Taken first: the gate's clock offset estimate assumes the server's time lies mid-way in the round trip.
        var serverTime = DateTimeOffset.UtcNow;
        if (await JsonNode.ParseAsync(context.Request.Body) is { } body)
        {
            StatusBodies.Enqueue(body);
        }

        StatusReports++;
        return Results.Json(new { serverTime });
    }
}
