using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Transit.Clearing.Database;

namespace Transit.Clearing.Access;

/// <summary>The roles of API callers.</summary>
public static class Roles
{
    /// <summary>Everything, including rider-level data.</summary>
    public const string Admin = "admin";

    /// <summary>Its own operator's statements, devices and aggregates; no rider-level data.</summary>
    public const string Operator = "operator";

    /// <summary>Aggregates only.</summary>
    public const string Planner = "planner";

    public const string OperatorClaim = "transit:operator";

    public static bool IsValid(string role) => role is Admin or Operator or Planner;
}

/// <summary>A token as <c>transit tokens list</c> shows it: never its text or hash.</summary>
public sealed record TokenInfo(long Id, string Role, string? OperatorId, string? Description, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, DateTimeOffset? RevokedAt);

/// <summary>A token just made: its text (shown once) and what it grants until when.</summary>
public sealed record IssuedToken(string Token, TokenInfo Info);

/// <summary>API bearer tokens: random, shown once, stored as SHA-256 hashes; each expires and can be revoked.</summary>
public sealed class TokenStore(NpgsqlDataSource dataSource, TimeProvider time)
{
    /// <summary>How long a token lives unless told otherwise (docs/clearing.md).</summary>
    public const int DefaultExpiryDays = 90;

    /// <summary>The longest life a token may be given: a forgotten token should not outlive the pilot.</summary>
    public const int MaximumExpiryDays = 3660;

    private const int MaximumDescription = 200;

    /// <summary>Creates a token; returns its text, which is not stored anywhere.</summary>
    public async Task<string> CreateAsync(string role, string? operatorId, string? description, CancellationToken cancellation) =>
        (await IssueAsync(role, operatorId, description, DefaultExpiryDays, cancellation)).Token;

    /// <summary>
    /// Creates a token that expires after <paramref name="expiresDays"/> days. An operator token's operator must be
    /// in the imported feed (<see cref="UnknownReferenceException"/> otherwise).
    /// </summary>
    public async Task<IssuedToken> IssueAsync(string role, string? operatorId, string? description, int expiresDays, CancellationToken cancellation)
    {
        if (!Roles.IsValid(role))
        {
            throw new ArgumentException($"role '{role}' is not admin, operator or planner", nameof(role));
        }

        if ((role == Roles.Operator) != (operatorId is not null))
        {
            throw new ArgumentException(role == Roles.Operator ? "an operator token needs --operator" : "--operator is only for operator tokens", nameof(operatorId));
        }

        if (expiresDays is < 1 or > MaximumExpiryDays)
        {
            throw new ArgumentException($"--expires-days must be 1 to {MaximumExpiryDays}, not {expiresDays}", nameof(expiresDays));
        }

        if (description?.Length > MaximumDescription)
        {
            throw new ArgumentException($"--description must be at most {MaximumDescription} characters", nameof(description));
        }

        if (operatorId is not null)
        {
            await FeedReferences.CheckOperatorAsync(dataSource, operatorId, cancellation);
        }

        var token = "trt_" + Base64Url(RandomNumberGenerator.GetBytes(32));
        var now = time.GetUtcNow();
        var expires = now.AddDays(expiresDays);
        var id = await Sql.ScalarAsync<long>(dataSource, """
            INSERT INTO api_tokens (token_hash, role, operator_id, description, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING token_id
            """, cancellation, Hash(token), role, operatorId, description, now, expires);
        return new IssuedToken(token, new TokenInfo(id, role, operatorId, description, now, expires, null));
    }

    /// <summary>The role and operator of a token, or null when it is unknown, revoked or expired.</summary>
    public async Task<(string Role, string? OperatorId)?> FindAsync(string token, CancellationToken cancellation)
    {
        var rows = await Sql.ListAsync(dataSource, "SELECT role, operator_id FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2",
            r => (r.GetString(0), r.NullableString(1)), cancellation, Hash(token), time.GetUtcNow());
        return rows.Count == 0 ? null : rows[0];
    }

    /// <summary>Every token, oldest first, without its text or hash.</summary>
    public Task<List<TokenInfo>> ListAsync(CancellationToken cancellation) =>
        Sql.ListAsync(dataSource, "SELECT token_id, role, operator_id, description, created_at, expires_at, revoked_at FROM api_tokens ORDER BY token_id",
            r => new TokenInfo(r.GetInt64(0), r.GetString(1), r.NullableString(2), r.NullableString(3),
                r.GetFieldValue<DateTimeOffset>(4), r.GetFieldValue<DateTimeOffset>(5), r.NullableTime(6)), cancellation);

    /// <summary>Revokes a token from now on; false when no token has that id. Revoking twice keeps the first time.</summary>
    public async Task<bool> RevokeAsync(long id, CancellationToken cancellation) =>
        await Sql.ExecAsync(dataSource, "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE token_id = $1", cancellation, id, time.GetUtcNow()) == 1;

    public static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>Authenticates <c>Authorization: Bearer</c> tokens against <see cref="TokenStore"/>.</summary>
public sealed class BearerTokenHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, TokenStore tokens)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Bearer";

    // Tokens are "trt_" and 43 characters; anything much longer is not worth hashing.
    private const int MaximumTokenLength = 128;

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (BearerToken(Request) is not { } token)
        {
            return AuthenticateResult.NoResult();
        }

        if (token.Length > MaximumTokenLength || await tokens.FindAsync(token, Context.RequestAborted) is not { } caller)
        {
            return AuthenticateResult.Fail("unknown, revoked or expired token");
        }

        List<Claim> claims = [new(ClaimTypes.Role, caller.Role)];
        if (caller.OperatorId is not null)
        {
            claims.Add(new Claim(Roles.OperatorClaim, caller.OperatorId));
        }

        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName)), SchemeName));
    }

    /// <summary>The token of an <c>Authorization: Bearer</c> header (operators' and riders' alike); null without one.</summary>
    public static string? BearerToken(Microsoft.AspNetCore.Http.HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
    }
}

/// <summary>What a caller may see.</summary>
public static class CallerExtensions
{
    public static bool IsAdmin(this ClaimsPrincipal user) => user.IsInRole(Roles.Admin);

    public static string? OperatorOf(this ClaimsPrincipal user) => user.FindFirst(Roles.OperatorClaim)?.Value;

    /// <summary>Admins see every operator; operators only their own; planners none (they get aggregates elsewhere).</summary>
    public static bool MaySeeOperator(this ClaimsPrincipal user, string operatorId) =>
        user.IsAdmin() || (user.IsInRole(Roles.Operator) && user.OperatorOf() == operatorId);
}
