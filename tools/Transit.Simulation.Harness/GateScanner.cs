using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Npgsql;
using Transit.Clearing.Reports;
using Transit.GateAgent.Scanners;
using Transit.RideCodes;
using Transit.Wallet;

namespace Transit.Simulation.Harness;

/// <summary>The body of <c>POST /demo/gates/{device}/scan</c>: the text a camera read from a QR code.</summary>
public sealed record ScanRequest([property: JsonPropertyName("code")] string? Code);

/// <summary>
/// The demo's gate scanner (docs/rider.md): a page at <c>/demo/scan/</c> that reads a ride code with the computer's
/// camera (jsQR from npm, embedded at build time) and shows it to one of the demo's running gate agents through
/// <c>POST /demo/gates/{device}/scan</c>, which writes it to the agent's TCP input as a scanner would. Only
/// <c>transit demo</c> maps it: a production clearing server has no gates of its own to show codes to.
/// </summary>
public static class GateScanner
{
    public const string Prefix = "/demo";

    /// <summary>Longest request body read: a code of the longest length and its JSON around it.</summary>
    public const int MaxBodyBytes = 2048;

    /// <summary>Codes a person may have waiting at one gate: the page sends one at a time, so more is a flood.</summary>
    public const int MaxWaitingPerGate = 4;

    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(20);

    private static readonly EmbeddedFolder Page = new(typeof(GateScanner).Assembly, "scanner");

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Maps the page and its API; <paramref name="gates"/> gives the gates running at the time of each request.</summary>
    public static IEndpointRouteBuilder MapGateScanner(this IEndpointRouteBuilder app, Func<IReadOnlyList<GateAgentProcess>> gates)
    {
        var group = app.MapGroup(Prefix).AllowAnonymous().ExcludeFromDescription().AddEndpointFilter(async (context, next) =>
            RefusedHost(context.HttpContext) is { } refused ? refused : await next(context));
        Page.Map(
            group, "/scan",
            "default-src 'self'; img-src 'self' data:; media-src 'self' blob: mediastream:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
            new Dictionary<string, string> { ["Permissions-Policy"] = "camera=(self)" });
        group.MapGet("/gates", () => TypedResults.Ok(gates().Select(g => new
        {
            id = g.DeviceId, mode = g.Slot.Mode, station = g.Slot.StationId, route = g.Slot.RouteId,
        })));
        group.MapPost("/gates/{device}/scan", async (string device, HttpContext http, CancellationToken cancellation) =>
        {
            if (RefusedOrigin(http) is { } refused)
            {
                return refused;
            }

            var (code, problem) = await ReadCodeAsync(http, cancellation);
            if (problem is not null)
            {
                return problem;
            }

            if (gates().FirstOrDefault(g => g.DeviceId == device) is not { } gate)
            {
                return Problem(StatusCodes.Status404NotFound, "No such gate", $"the demo runs no gate '{Shown(device)}'; GET {Prefix}/gates lists them");
            }

            if (gate.Outstanding >= MaxWaitingPerGate)
            {
                return Problem(StatusCodes.Status429TooManyRequests, "Gate busy", $"gate {gate.DeviceId} still has {gate.Outstanding} codes to answer; show the next one when it has answered");
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            timeout.CancelAfter(AnswerTimeout);
            GateAnswer answer;
            try
            {
                answer = await gate.ScanAsync(code!, timeout.Token);
            }
            catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
            {
                return Problem(StatusCodes.Status504GatewayTimeout, "The gate did not answer", $"gate {gate.DeviceId} gave no answer in {AnswerTimeout.TotalSeconds:N0} s; see its agent.log");
            }

            if (answer.Seq > 0)
            {
                // Upload at once rather than after the batching delay: the page waits to show the tap in clearing.
                await TriggerUploadAsync(gate, cancellation);
            }

            return TypedResults.Ok(new
            {
                device = answer.DeviceId, seq = answer.Seq, accepted = answer.Accepted, reason = answer.Reason, account = answer.Account,
                at = answer.GateAt, latencyMs = answer.LatencyMs,
            });
        });
        group.MapGet("/gates/{device}/taps/{seq:long}", async (string device, long seq, NpgsqlDataSource database, CancellationToken cancellation) =>
        {
            if (await new TapLookup(database).FindAsync(device, seq, cancellation) is not { } tap)
            {
                return Problem(StatusCodes.Status404NotFound, "Not in clearing yet", $"clearing has no tap {seq} of {Shown(device)} (yet: the gate uploads within a second or so)");
            }

            return Results.Ok(new
            {
                device, seq,
                serviceDay = tap.ServiceDay.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                at = tap.At,
                receivedAt = tap.ReceivedAt,
                accepted = tap.Accepted,
                gateReason = tap.GateReason,
                clearingReason = tap.ClearingReason,
                account = tap.Account,
                station = tap.StationId,
                stop = tap.StopId,
                route = tap.RouteId,
            });
        });
        return app;
    }

    /// <summary>Whether <paramref name="text"/> looks like a ride code: <c>TR</c>, digits, a colon, then Base45, at most <see cref="RideCodeFormat.MaxTextLength"/> characters.</summary>
    public static bool IsCodeShaped(string text)
    {
        if (text.Length is < 5 or > RideCodeFormat.MaxTextLength || !text.StartsWith("TR", StringComparison.Ordinal))
        {
            return false;
        }

        var colon = text.IndexOf(':', 2);
        return colon >= 3 && !text.AsSpan(2, colon - 2).ContainsAnyExceptInRange('0', '9') && ScanText.InCodeAlphabet(text);
    }

    /// <summary>
    /// The demo answers under the addresses it binds, named as such: an IP address or <c>localhost</c>. A name that
    /// some web page made resolve to this machine (DNS rebinding) would otherwise let that page show codes to gates.
    /// </summary>
    private static IResult? RefusedHost(HttpContext http)
    {
        var host = http.Request.Host.Host;
        return host == "localhost" || IPAddress.TryParse(host, out _)
            ? null
            : Problem(StatusCodes.Status403Forbidden, "Not this host", $"the demo's gate scanner answers only at an address it binds (an IP address or localhost), not at '{Shown(host)}'");
    }

    /// <summary>A browser names the page that sends a request: only the scanner's own page may show codes to gates.</summary>
    private static IResult? RefusedOrigin(HttpContext http)
    {
        var origin = http.Request.Headers.Origin.ToString();
        var own = $"{http.Request.Scheme}://{http.Request.Host}";
        return origin.Length == 0 || string.Equals(origin, own, StringComparison.OrdinalIgnoreCase)
            ? null
            : Problem(StatusCodes.Status403Forbidden, "Not from the scanner page", $"a page of '{Shown(origin)}' may not show codes to the demo's gates; only {own}{Prefix}/scan/ may");
    }

    private static async Task<(string? Code, IResult? Problem)> ReadCodeAsync(HttpContext http, CancellationToken cancellation)
    {
        // JSON only: a cross-site form cannot send it without the browser asking first (CORS), and this server never agrees.
        if (!http.Request.HasJsonContentType())
        {
            return (null, Problem(StatusCodes.Status415UnsupportedMediaType, "JSON expected", "send {\"code\": \"TR1:…\"} as application/json"));
        }

        var tooLarge = Problem(StatusCodes.Status413PayloadTooLarge, "Too large", $"the body may hold at most {MaxBodyBytes} bytes");
        if (http.Request.ContentLength > MaxBodyBytes)
        {
            return (null, tooLarge);
        }

        var body = new byte[MaxBodyBytes + 1];
        var length = 0;
        while (length < body.Length && await http.Request.Body.ReadAsync(body.AsMemory(length), cancellation) is var read and > 0)
        {
            length += read;
        }

        if (length > MaxBodyBytes)
        {
            return (null, tooLarge);
        }

        ScanRequest? request;
        try
        {
            request = JsonSerializer.Deserialize<ScanRequest>(body.AsSpan(0, length), Json);
        }
        catch (JsonException ex)
        {
            return (null, Problem(StatusCodes.Status400BadRequest, "Not JSON", $"the body is not the JSON of {{\"code\": \"TR1:…\"}}: {ex.Message}"));
        }

        if (request?.Code is not { } code || !IsCodeShaped(code))
        {
            return (null, Problem(
                StatusCodes.Status400BadRequest, "Not a ride code",
                $"code: expected a ride code (TR1: and Base45, at most {RideCodeFormat.MaxTextLength} characters), got '{Shown(request?.Code ?? "")}'"));
        }

        return (code, null);
    }

    private static async Task TriggerUploadAsync(GateAgentProcess gate, CancellationToken cancellation)
    {
        try
        {
            await gate.TriggerUploadAsync(cancellation);
        }
        catch (HttpRequestException)
        {
            // The tap is journaled; the gate uploads it on its own schedule.
        }
    }

    /// <summary>Untrusted text as it may appear in an answer: printable, and short.</summary>
    private static string Shown(string text) => ScanText.Escape(text, 40);

    private static IResult Problem(int status, string title, string detail) => TypedResults.Problem(detail, statusCode: status, title: title);
}
