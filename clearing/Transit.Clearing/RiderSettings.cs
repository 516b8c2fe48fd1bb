using Transit.RideCodes;

namespace Transit.Clearing;

/// <summary>Settings of the riders' issuance API (configuration section <c>Clearing:Riders</c>; docs/rider.md).</summary>
public sealed class RiderSettings
{
    /// <summary>How long a credential the API issues is valid; whole minutes, at most the verifiers' cap (7 days).</summary>
    public TimeSpan CredentialValidity { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// A credential starts this long before it is issued, so that a gate whose clock runs a little behind the server's
    /// does not refuse a rider who refreshed just before the tap as not yet valid.
    /// </summary>
    public TimeSpan ClockAllowance { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The rider category written into credentials (GTFS <c>rider_category_id</c>; empty: the feed's default).</summary>
    public string Category { get; set; } = "";

    /// <summary>How long a rider token lives.</summary>
    public int TokenExpiryDays { get; set; } = 365;

    /// <summary>Requests to <c>/rider/v1</c> one address may make per minute.</summary>
    public int RequestsPerAddressPerMinute { get; set; } = 120;

    /// <summary>Sign-ups one address may make per hour.</summary>
    public int SignupsPerAddressPerHour { get; set; } = 20;

    /// <summary>Credentials one account may be issued per hour (a wallet refreshes about once a day).</summary>
    public int CredentialsPerAccountPerHour { get; set; } = 12;

    /// <summary>Throws when a setting would make the API issue what verifiers refuse.</summary>
    public void Validate()
    {
        if (CredentialValidity < TimeSpan.FromMinutes(1) || CredentialValidity + ClockAllowance > VerifierOptions.DefaultMaxCredentialValidity
            || CredentialValidity.Ticks % TimeSpan.TicksPerMinute != 0 || ClockAllowance < TimeSpan.Zero || ClockAllowance.Ticks % TimeSpan.TicksPerMinute != 0)
        {
            throw new ArgumentException(
                $"Clearing:Riders: CredentialValidity ({CredentialValidity}) and ClockAllowance ({ClockAllowance}) must be whole minutes and together at most "
                + $"{VerifierOptions.DefaultMaxCredentialValidity.TotalDays} days, the longest credential a gate accepts");
        }

        if (Category.Length > Credential.MaxCategoryLength || Category.Any(c => c is < '!' or > '~'))
        {
            throw new ArgumentException($"Clearing:Riders:Category must be at most {Credential.MaxCategoryLength} printable ASCII characters");
        }

        if (TokenExpiryDays < 1 || RequestsPerAddressPerMinute < 1 || SignupsPerAddressPerHour < 1 || CredentialsPerAccountPerHour < 1)
        {
            throw new ArgumentException("Clearing:Riders: token expiry and rate limits must be at least 1");
        }
    }
}
