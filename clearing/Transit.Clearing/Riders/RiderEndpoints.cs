using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Transit.Clearing.Access;
using Transit.Clearing.Charging;
using Transit.Clearing.Database;
using Transit.Clearing.Ingest;
using Transit.Clearing.Journeys;
using Transit.RideCodes;
using Transit.DeviceApi;

namespace Transit.Clearing.Riders;

/// <summary>The body of <c>POST /rider/v1/credential</c>.</summary>
/// <param name="PhoneKey">Base64 of the phone's P-256 public key: SPKI DER, or a SEC1 point of 33 or 65 bytes.</param>
public sealed record CredentialRequest(string? PhoneKey);

/// <summary>
/// The riders' issuance API, <c>/rider/v1</c> (docs/rider.md): sign-up, credentials for a phone key, the rider's own
/// journeys and charges, paying a debt. Rider tokens only; its own OpenAPI document at <c>/openapi/rider.json</c>.
/// </summary>
public static class RiderEndpoints
{
    public const string Prefix = "/rider/v1";

    /// <summary>The OpenAPI document (and endpoint group name) of the riders' API.</summary>
    public const string DocumentName = "rider";

    private const string SignupPolicy = "rider-signup";
    private const string CredentialPolicy = "rider-credential";
    private const string RiderPolicy = "rider";

    /// <summary>The longest span of days one journeys request may ask for.</summary>
    public const int MaximumDays = 93;

    /// <summary>Authentication scheme, authorization policy, rate limits and OpenAPI document of the riders' API.</summary>
    public static IServiceCollection AddRiderApi(this IServiceCollection services, AuthenticationBuilder authentication, ClearingOptions options)
    {
        var settings = options.Riders;
        settings.Validate();
        authentication.AddScheme<AuthenticationSchemeOptions, RiderTokenHandler>(RiderTokenHandler.SchemeName, null);
        services.AddAuthorizationBuilder().AddPolicy(RiderPolicy, policy => policy
            .AddAuthenticationSchemes(RiderTokenHandler.SchemeName).RequireAuthenticatedUser().RequireClaim(RiderTokenHandler.AccountClaim));
        // Only the group: without the filter the document would take every endpoint that names no group.
        services.AddOpenApi(DocumentName, document => document.ShouldInclude = description => description.GroupName == DocumentName);
        services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.OnRejected = async (context, cancellation) =>
            {
                var retry = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromMinutes(1);
                context.HttpContext.Response.Headers.RetryAfter = ((int)Math.Ceiling(retry.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                await TypedResults.Problem(
                    $"too many requests; try again in {Math.Ceiling(retry.TotalSeconds)} s", statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests",
                    extensions: new Dictionary<string, object?> { ["retryAfterSeconds"] = (int)Math.Ceiling(retry.TotalSeconds) }).ExecuteAsync(context.HttpContext);
            };
            // Every request to the riders' API counts against its address; the operators' API is not limited here.
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
                context.Request.Path.StartsWithSegments(Prefix)
                    ? RateLimitPartition.GetFixedWindowLimiter("address:" + Address(context), _ => Window(settings.RequestsPerAddressPerMinute, TimeSpan.FromMinutes(1)))
                    : RateLimitPartition.GetNoLimiter(""));
            limiter.AddPolicy(SignupPolicy, context =>
                RateLimitPartition.GetFixedWindowLimiter("signup:" + Address(context), _ => Window(settings.SignupsPerAddressPerHour, TimeSpan.FromHours(1))));
            // After authorization, so the partition is the account the token speaks for, whatever address it comes from.
            limiter.AddPolicy(CredentialPolicy, context =>
                RateLimitPartition.GetFixedWindowLimiter("credential:" + context.User.FindFirst(RiderTokenHandler.AccountClaim)?.Value, _ => Window(settings.CredentialsPerAccountPerHour, TimeSpan.FromHours(1))));
        });
        return services;
    }

    public static IEndpointRouteBuilder MapRiderEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(Prefix).WithGroupName(DocumentName).WithTags("Riders");
        group.MapPost("/signup", async (RiderTokenStore tokens, CancellationToken cancellation) =>
        {
            var signup = await tokens.SignUpAsync(cancellation);
            return TypedResults.Ok(new { account = signup.Account, token = signup.Token, expiresAt = signup.ExpiresAt });
        }).AllowAnonymous().RequireRateLimiting(SignupPolicy)
          .WithSummary("Creates an account and its rider token (shown once)")
          .ProducesProblem(StatusCodes.Status429TooManyRequests);

        var rider = group.MapGroup("").RequireAuthorization(RiderPolicy)
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status429TooManyRequests);
        rider.MapPost("/credential", IssueCredentialAsync).RequireRateLimiting(CredentialPolicy)
            .WithSummary("Signs the phone's P-256 key into a credential (docs/ride-code.md), refused while the account is denied or in debt")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status403Forbidden);
        rider.MapGet("/journeys", JourneysAsync).WithSummary("The rider's own journeys with their legs, fares and caps (from, to: YYYY-MM-DD)")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        rider.MapGet("/charges", ChargesAsync).WithSummary("The rider's own charges and debt");
        rider.MapPost("/pay", PayAsync).WithSummary("Settles the rider's debt; the deny entry lifts with the deny-list version it publishes");
        rider.MapPost("/signout", async (HttpContext context, RiderTokenStore tokens, CancellationToken cancellation) =>
        {
            await tokens.RevokeAsync(context.Request.Headers.Authorization.ToString()["Bearer ".Length..].Trim(), cancellation);
            return TypedResults.NoContent();
        }).WithSummary("Revokes the token of this request");

        // An operator's decision (a lost phone reported, abuse): every token of the account stops at once.
        app.MapDelete("/api/accounts/{account}/rider-tokens", async (string account, RiderTokenStore tokens, CancellationToken cancellation) =>
            ApiProblems.IdError(account) is { } bad
                ? (IResult)ApiProblems.BadField("account", bad)
                : TypedResults.Ok(new { account, revoked = await tokens.RevokeAllAsync(account, cancellation) }))
            .RequireAuthorization(p => p.RequireRole(Roles.Admin));
        return app;
    }

    private static async Task<Results<Ok<IssuedCredential>, ProblemHttpResult>> IssueCredentialAsync(
        CredentialRequest? request, ClaimsPrincipal user, HttpContext context, RiderIssuer issuer, CancellationToken cancellation)
    {
        if (!RiderIssuer.TryParsePhoneKey(request?.PhoneKey, out var phoneKey, out var error))
        {
            return ApiProblems.BadField("phoneKey", error);
        }

        var account = user.RiderAccount();
        if (await issuer.RefusalAsync(account, cancellation) is { } refusal)
        {
            return Refused(refusal);
        }

        try
        {
            return TypedResults.Ok(await issuer.IssueAsync(account, phoneKey, Address(context), cancellation));
        }
        catch (ArgumentException) when (phoneKey.Algorithm == SignatureAlgorithm.P256)
        {
            return TypedResults.Problem("this issuer signs with a key of another algorithm than the phone's P-256 key", statusCode: StatusCodes.Status409Conflict, title: "Algorithm mismatch");
        }
    }

    private static ProblemHttpResult Refused(RiderRefusal refusal)
    {
        var owes = refusal.Debt > 0;
        var detail = owes
            ? string.Create(CultureInfo.InvariantCulture, $"the account owes {refusal.Debt} (minor units of {refusal.Currency}) for rides whose payment was declined; pay it with POST {Prefix}/pay and ask again")
            : refusal.Reasons.Contains("manual")
                ? "the operator has denied this account; contact the operator"
                : "the account is on the deny list; it comes off with the next deny-list version";
        return TypedResults.Problem(detail, statusCode: StatusCodes.Status403Forbidden, title: "No credential for this account",
            extensions: new Dictionary<string, object?>
            {
                ["reasons"] = refusal.Reasons,
                ["debt"] = refusal.Debt,
                ["currency"] = refusal.Currency,
                ["pay"] = owes ? Prefix + "/pay" : null,
            });
    }

    private static async Task<IResult> JourneysAsync(string? from, string? to, ClaimsPrincipal user, NpgsqlDataSource dataSource, TimeProvider time, CancellationToken cancellation)
    {
        var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        if (!TryDay(from, today.AddDays(-30), out var first))
        {
            return ApiProblems.BadField("from", "must be a date, YYYY-MM-DD");
        }

        if (!TryDay(to, today.AddDays(1), out var last))
        {
            return ApiProblems.BadField("to", "must be a date, YYYY-MM-DD");
        }

        if (last < first || last.DayNumber - first.DayNumber >= MaximumDays)
        {
            return ApiProblems.BadField("to", $"must be on or after from and at most {MaximumDays} days after it");
        }

        var account = user.RiderAccount();
        var legs = await Sql.ListAsync(dataSource, """
            SELECT service_day, journey_no, leg_no, mode, operator_id, route_id, from_stop, to_stop, started_at, ended_at, amount, transfer_amount, flags
            FROM journey_legs WHERE account = $1 AND service_day BETWEEN $2 AND $3 ORDER BY service_day, journey_no, leg_no
            """, r => (Day: r.GetFieldValue<DateOnly>(0), Journey: r.GetInt32(1), Leg: new
            {
                leg = r.GetInt32(2),
                mode = ((TapMode)r.GetInt16(3)).OnBus() ? "bus" : "metro",
                operatorId = r.NullableString(4),
                route = r.NullableString(5),
                from = r.NullableString(6),
                to = r.NullableString(7),
                startedAt = r.GetFieldValue<DateTimeOffset>(8),
                endedAt = r.NullableTime(9),
                fare = r.GetInt64(10) + r.GetInt64(11),
                flags = FlagNames((JourneyFlags)r.GetInt32(12)),
            }), cancellation, account, first, last);
        var byJourney = legs.ToLookup(l => (l.Day, l.Journey), l => l.Leg);
        var journeys = await Sql.ListAsync(dataSource, """
            SELECT service_day, journey_no, started_at, ended_at, fare_amount, cap_adjustment, charged_amount, currency, flags
            FROM journeys WHERE account = $1 AND service_day BETWEEN $2 AND $3 ORDER BY service_day, journey_no
            """, r =>
            {
                var flags = (JourneyFlags)r.GetInt32(8);
                var key = (r.GetFieldValue<DateOnly>(0), r.GetInt32(1));
                return new
                {
                    day = key.Item1,
                    journey = key.Item2,
                    startedAt = r.GetFieldValue<DateTimeOffset>(2),
                    endedAt = r.NullableTime(3),
                    fare = r.GetInt64(4),
                    capAdjustment = r.GetInt64(5),
                    charged = r.GetInt64(6),
                    currency = r.GetString(7),
                    incomplete = (flags & (JourneyFlags.MissingEntry | JourneyFlags.MissingExit)) != 0,
                    capped = flags.HasFlag(JourneyFlags.Capped),
                    flags = FlagNames(flags),
                    legs = byJourney[key].ToList(),
                };
            }, cancellation, account, first, last);
        return TypedResults.Ok(new { account, from = first, to = last, journeys });
    }

    private static async Task<IResult> ChargesAsync(ClaimsPrincipal user, NpgsqlDataSource dataSource, RiderIssuer issuer, CancellationToken cancellation)
    {
        var account = user.RiderAccount();
        var charges = await Sql.ListAsync(dataSource, """
            SELECT charge_id, service_day, revision, amount, currency, status, in_debt, amount - set_off, updated_at FROM charges WHERE account = $1 ORDER BY charge_id DESC LIMIT 500
            """, r => new
            {
                chargeId = r.GetInt64(0),
                day = r.GetFieldValue<DateOnly>(1),
                revision = r.GetInt32(2),
                amount = r.GetInt64(3),
                currency = r.GetString(4),
                status = r.GetString(5),
                inDebt = r.GetBoolean(6),
                due = r.GetBoolean(6) ? r.GetInt64(7) : 0,
                updatedAt = r.GetFieldValue<DateTimeOffset>(8),
            }, cancellation, account);
        var refusal = await issuer.RefusalAsync(account, cancellation);
        return TypedResults.Ok(new
        {
            account,
            debt = refusal?.Debt ?? 0,
            currency = refusal?.Currency ?? charges.FirstOrDefault()?.currency,
            denied = refusal is not null,
            reasons = refusal?.Reasons ?? [],
            charges,
        });
    }

    private static async Task<IResult> PayAsync(ClaimsPrincipal user, PaymentService payments, DenyListPublisher publisher, CancellationToken cancellation)
    {
        var account = user.RiderAccount();
        var settled = await payments.SettleDebtAsync(account, cancellation);
        // Published now rather than by the next job run: the rider is waiting at a gate for the entry to lift.
        var (version, _, _) = await publisher.PublishAsync(cancellation);
        return TypedResults.Ok(new { account, paid = settled.PaidByHand, settled.CollectedByProvider, settled.InFlight, settled.DebtLeft, denyListVersion = version });
    }

    private static string[] FlagNames(JourneyFlags flags) =>
        [.. Enum.GetValues<JourneyFlags>().Where(f => f != JourneyFlags.None && flags.HasFlag(f)).Select(f => JsonNaming(f.ToString()))];

    private static string JsonNaming(string name) => char.ToLowerInvariant(name[0]) + name[1..];

    private static bool TryDay(string? text, DateOnly fallback, out DateOnly day)
    {
        day = fallback;
        return text is null || DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out day);
    }

    private static string Address(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    private static FixedWindowRateLimiterOptions Window(int permits, TimeSpan window) =>
        new() { PermitLimit = permits, Window = window, QueueLimit = 0, AutoReplenishment = true };
}
