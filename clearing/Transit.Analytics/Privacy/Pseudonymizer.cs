using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Transit.Analytics.Privacy;

/// <summary>
/// Replaces account tokens by a keyed pseudonym, HMAC-SHA256 under a secret of the deployment, before anything
/// reaches analytics. Without the secret a pseudonym cannot be linked back to an account by hashing guessed tokens,
/// and deployments with different secrets produce unlinkable pseudonyms.
/// </summary>
public sealed class Pseudonymizer
{
    /// <summary>The pseudonym of taps that carried no readable account (malformed codes): all of them count as one rider.</summary>
    public const long Unknown = 0;

    private readonly byte[] _secret;

    public Pseudonymizer(ReadOnlySpan<byte> secret)
    {
        if (secret.Length < 16)
        {
            throw new ArgumentException("the pseudonym secret must be at least 16 bytes", nameof(secret));
        }

        _secret = secret.ToArray();
    }

    /// <summary>A secret given as hex or base64 text (configuration), at least 16 bytes.</summary>
    public static Pseudonymizer FromText(string secret)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(secret);
        byte[] bytes;
        try
        {
            bytes = secret.Length % 2 == 0 && secret.All(Uri.IsHexDigit) ? Convert.FromHexString(secret) : Convert.FromBase64String(secret);
        }
        catch (FormatException)
        {
            bytes = Encoding.UTF8.GetBytes(secret);
        }

        return new Pseudonymizer(bytes);
    }

    /// <summary>
    /// The pseudonym as a 64-bit key: compact to store and to count distinct, and collisions stay negligible at city
    /// scale (about 3 in a million for ten million riders).
    /// </summary>
    public long Of(string? account)
    {
        if (string.IsNullOrEmpty(account))
        {
            return Unknown;
        }

        Span<byte> input = stackalloc byte[Encoding.UTF8.GetMaxByteCount(account.Length)];
        var length = Encoding.UTF8.GetBytes(account, input);
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(_secret, input[..length], mac);
        var key = BitConverter.ToInt64(mac);
        return key == Unknown ? 1 : key;
    }

    /// <summary>The text form used in exports (16 hex digits).</summary>
    public static string Text(long pseudonym) => pseudonym.ToString("x16", CultureInfo.InvariantCulture);
}
