using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Transit.Clearing.Access;
using Transit.Clearing.Database;

namespace Transit.Clearing.Riders;

/// <summary>A rider just signed up: the new account and its token (shown once).</summary>
public sealed record RiderSignup(string Account, string Token, DateTimeOffset ExpiresAt);

/// <summary>
/// Riders' bearer tokens: random, shown once, stored as SHA-256 hashes in their own table (never in
/// <c>api_tokens</c>), each expiring and revocable. A token speaks for exactly one account.
/// </summary>
public sealed class RiderTokenStore(NpgsqlDataSource dataSource, TimeProvider time, ClearingOptions options)
{
    /// <summary>Rider tokens start with this, operators' with <c>trt_</c>: a token pasted in the wrong place is recognisable.</summary>
    public const string Prefix = "trr_";

    // Letters and digits a person can read back without confusing them (no 0/o, 1/l/i).
    private const string AccountAlphabet = "23456789abcdefghjkmnpqrstuvwxyz";

    /// <summary>Account tokens the API makes: "r" and 10 random characters (49 bits), short enough for any category.</summary>
    public const int AccountLength = 11;

    /// <summary>Makes a new account and its first token.</summary>
    public async Task<RiderSignup> SignUpAsync(CancellationToken cancellation)
    {
        var account = "r" + RandomNumberGenerator.GetString(AccountAlphabet, AccountLength - 1);
        var created = await Sql.ScalarAsync<string>(dataSource, "INSERT INTO accounts (account) VALUES ($1) ON CONFLICT DO NOTHING RETURNING account", cancellation, account);
        if (created is null)
        {
            // 49 random bits collide about never; an existing account is never handed to a stranger.
            throw new InvalidOperationException("a freshly drawn account token already exists");
        }

        var (token, expires) = await IssueAsync(account, cancellation);
        return new RiderSignup(account, token, expires);
    }

    /// <summary>The account a token speaks for, or null when it is unknown, revoked or expired.</summary>
    public Task<string?> FindAsync(string token, CancellationToken cancellation) =>
        Sql.ScalarAsync<string>(dataSource, "SELECT account FROM rider_tokens WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2",
            cancellation, TokenStore.Hash(token), time.GetUtcNow());

    /// <summary>Revokes one token (the rider signing out); false when it was not live.</summary>
    public async Task<bool> RevokeAsync(string token, CancellationToken cancellation) =>
        await Sql.ExecAsync(dataSource, "UPDATE rider_tokens SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL", cancellation, TokenStore.Hash(token), time.GetUtcNow()) == 1;

    /// <summary>Revokes every token of <paramref name="account"/> (a lost phone, an operator's decision); returns how many.</summary>
    public Task<int> RevokeAllAsync(string account, CancellationToken cancellation) =>
        Sql.ExecAsync(dataSource, "UPDATE rider_tokens SET revoked_at = $2 WHERE account = $1 AND revoked_at IS NULL", cancellation, account, time.GetUtcNow());

    private async Task<(string Token, DateTimeOffset Expires)> IssueAsync(string account, CancellationToken cancellation)
    {
        var token = Prefix + Base64UrlTextEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        var now = time.GetUtcNow();
        var expires = now.AddDays(options.Riders.TokenExpiryDays);
        await Sql.ExecAsync(dataSource, "INSERT INTO rider_tokens (token_hash, account, created_at, expires_at) VALUES ($1, $2, $3, $4)",
            cancellation, TokenStore.Hash(token), account, now, expires);
        return (token, expires);
    }
}

/// <summary>Authenticates riders' <c>Authorization: Bearer trr_…</c> tokens against <see cref="RiderTokenStore"/> only.</summary>
public sealed class RiderTokenHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, RiderTokenStore tokens)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Rider";

    /// <summary>The claim naming the rider's account.</summary>
    public const string AccountClaim = "transit:rider";

    private const int MaximumTokenLength = 128;

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (Access.BearerTokenHandler.BearerToken(Request) is not { } token)
        {
            return AuthenticateResult.NoResult();
        }

        if (token.Length > MaximumTokenLength || await tokens.FindAsync(token, Context.RequestAborted) is not { } account)
        {
            return AuthenticateResult.Fail("unknown, revoked or expired rider token");
        }

        var identity = new ClaimsIdentity([new Claim(AccountClaim, account)], SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }
}

/// <summary>The rider a request speaks for.</summary>
public static class RiderCaller
{
    /// <summary>The authenticated rider's account (only on endpoints that require a rider).</summary>
    public static string RiderAccount(this ClaimsPrincipal user) =>
        user.FindFirst(RiderTokenHandler.AccountClaim)?.Value ?? throw new InvalidOperationException("not a rider's request");
}
