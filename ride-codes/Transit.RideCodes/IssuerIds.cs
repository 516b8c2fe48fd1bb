namespace Transit.RideCodes;

/// <summary>
/// Issuer ids: the short name an issuer's key set declares and its <c>TR2</c> codes carry, which a verifier holding
/// several issuers' trust uses to pick the chain (docs/ride-code.md, "Issuers").
/// </summary>
public static class IssuerIds
{
    /// <summary>
    /// The id of the operator's own issuer when its key set names none: its codes are the <c>TR1</c> codes from
    /// before issuers existed.
    /// </summary>
    public const string Home = "home";

    /// <summary>Longest issuer id, in characters.</summary>
    public const int MaxLength = 8;

    /// <summary>What an issuer id is, for error messages: every refusal of one states the same rule.</summary>
    public static readonly string Rule = string.Create(
        System.Globalization.CultureInfo.InvariantCulture, $"1 to {MaxLength} characters of a-z, 0-9 and '-', not starting with '-'");

    /// <summary>True for 1 to 8 characters of <c>a-z</c>, <c>0-9</c> and <c>-</c>, starting with a letter or digit.</summary>
    public static bool IsValid(string? id) => id is not null && IsValid(id.AsSpan());

    private static bool IsValid(ReadOnlySpan<char> id)
    {
        if (id.Length is 0 or > MaxLength || id[0] == '-')
        {
            return false;
        }

        foreach (var c in id)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '-'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Throws unless <paramref name="id"/> is a valid issuer id.</summary>
    /// <exception cref="ArgumentException">The message names the rule.</exception>
    public static string Validate(string? id, string parameterName) =>
        IsValid(id)
            ? id!
            : throw new ArgumentException(
                $"issuer id '{id}' must have {Rule}", parameterName);
}
