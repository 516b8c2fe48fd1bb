using Transit.RideCodes;

namespace Transit.Clearing.Issuers;

/// <summary>
/// The account key clearing files a rider under (migration 0131): the home issuer's account as it is, another issuer's
/// as <c>"&lt;issuer&gt; &lt;account&gt;"</c>. Ride-code accounts are printable ASCII without spaces, so the key of one
/// issuer's rider can never equal the home rider or another issuer's rider of the same account name, and every table
/// keyed by account (taps, journeys, caps, charges) keeps them apart without a column of its own.
/// </summary>
public static class IssuerAccounts
{
    /// <summary>The account key of <paramref name="account"/> at <paramref name="issuer"/>.</summary>
    public static string Key(string issuer, string account) =>
        issuer == IssuerIds.Home ? account : string.Concat(issuer, " ", account);

    /// <summary>The issuer an account key belongs to.</summary>
    public static string IssuerOf(string key) =>
        key.IndexOf(' ', StringComparison.Ordinal) is var space and > 0 ? key[..space] : IssuerIds.Home;

    /// <summary>The account as the issuer names it.</summary>
    public static string AccountOf(string key) =>
        key.IndexOf(' ', StringComparison.Ordinal) is var space and > 0 ? key[(space + 1)..] : key;
}
