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

/// <summary>API bearer tokens: random, shown once, stored as SHA-256 hashes.</summary>
public sealed class TokenStore(NpgsqlDataSource dataSource)
{
    /// <summary>Creates a token; returns its text, which is not stored anywhere.</summary>
    public async Task<string> CreateAsync(string role, string? operatorId, string? description, CancellationToken cancellation)
    {
        if (!Roles.IsValid(role))
        {
            throw new ArgumentException($"role '{role}' is not admin, operator or planner", nameof(role));
        }

        if ((role == Roles.Operator) != (operatorId is not null))
        {
            throw new ArgumentException(role == Roles.Operator ? "an operator token needs --operator" : "--operator is only for operator tokens", nameof(operatorId));
        }

        var token = "trt_" + Base64Url(RandomNumberGenerator.GetBytes(32));
        await Sql.ExecAsync(dataSource, "INSERT INTO api_tokens (token_hash, role, operator_id, description) VALUES ($1, $2, $3, $4)",
            cancellation, Hash(token), role, operatorId, description);
        return token;
    }

    /// <summary>The role and operator of a token, or null when it is unknown or revoked.</summary>
    public async Task<(string Role, string? OperatorId)?> FindAsync(string token, CancellationToken cancellation)
    {
        var rows = await Sql.ListAsync(dataSource, "SELECT role, operator_id FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
            r => (r.GetString(0), r.NullableString(1)), cancellation, Hash(token));
        return rows.Count == 0 ? null : rows[0];
    }

    public static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>Authenticates <c>Authorization: Bearer</c> tokens against <see cref="TokenStore"/>.</summary>
public sealed class BearerTokenHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, TokenStore tokens)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Bearer";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.NoResult();
        }

        var found = await tokens.FindAsync(header["Bearer ".Length..].Trim(), Context.RequestAborted);
        if (found is not { } caller)
        {
            return AuthenticateResult.Fail("unknown or revoked token");
        }

        List<Claim> claims = [new(ClaimTypes.Role, caller.Role)];
        if (caller.OperatorId is not null)
        {
            claims.Add(new Claim(Roles.OperatorClaim, caller.OperatorId));
        }

        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName)), SchemeName));
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
