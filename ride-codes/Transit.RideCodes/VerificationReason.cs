namespace Transit.RideCodes;

/// <summary>
/// Why a code was accepted or refused, in the order the verifier checks. The wire form (see
/// <see cref="VerificationReasons.ToCode"/>) is a stable contract used by gates, clearing and reports.
/// </summary>
public enum VerificationReason
{
    /// <summary><c>ok</c>: every check passed.</summary>
    Ok,

    /// <summary><c>malformed</c>: not a ride code, or a damaged one.</summary>
    Malformed,

    /// <summary><c>unsupported-version</c>: a ride code of a version this verifier does not read.</summary>
    UnsupportedVersion,

    /// <summary><c>unknown-issuer</c>: the code names an issuer this verifier does not accept (or, version 1, it has no home issuer).</summary>
    UnknownIssuer,

    /// <summary><c>unknown-key</c>: no key with the credential's key id, or the key's <c>validUntil</c> has passed.</summary>
    UnknownKey,

    /// <summary><c>revoked-key</c>: the issuer key is revoked.</summary>
    RevokedKey,

    /// <summary><c>bad-issuer-signature</c>: the credential was not signed by its issuer key.</summary>
    BadIssuerSignature,

    /// <summary>
    /// <c>credential-validity-too-long</c>: the credential's validity (not-after − not-before) exceeds the
    /// verifier's <see cref="VerifierOptions.MaxCredentialValidity"/>.
    /// </summary>
    CredentialValidityTooLong,

    /// <summary><c>credential-expired</c>: the credential's validity ended.</summary>
    CredentialExpired,

    /// <summary><c>credential-not-yet-valid</c>: the credential's validity has not begun.</summary>
    CredentialNotYetValid,

    /// <summary><c>bad-signature</c>: the code was not signed by the credential's phone key.</summary>
    BadSignature,

    /// <summary><c>stale</c>: the code is older than the maximum age (a screenshot).</summary>
    Stale,

    /// <summary><c>future</c>: the code is further ahead of the verifier's clock than allowed.</summary>
    Future,

    /// <summary><c>denied</c>: the account or credential is on the deny list.</summary>
    Denied,

    /// <summary><c>replayed</c>: this exact code was already accepted.</summary>
    Replayed,
}

/// <summary>The stable wire names of <see cref="VerificationReason"/>.</summary>
public static class VerificationReasons
{
    private static readonly string[] Codes =
    [
        "ok", "malformed", "unsupported-version", "unknown-issuer", "unknown-key", "revoked-key", "bad-issuer-signature",
        "credential-validity-too-long", "credential-expired", "credential-not-yet-valid", "bad-signature", "stale", "future",
        "denied", "replayed",
    ];

    /// <summary>Every reason's wire name, in checking order.</summary>
    public static IReadOnlyList<string> All => Codes;

    /// <summary>The wire name, e.g. <c>bad-issuer-signature</c>.</summary>
    public static string ToCode(this VerificationReason reason) =>
        // Unchecked: the project checks arithmetic, and a negative value must read as out of range, not overflow.
        unchecked((uint)reason) < (uint)Codes.Length ? Codes[(int)reason] : throw new ArgumentOutOfRangeException(nameof(reason));

    /// <summary>Parses a wire name.</summary>
    public static bool TryParse(string? code, out VerificationReason reason)
    {
        var index = Array.IndexOf(Codes, code);
        reason = (VerificationReason)Math.Max(index, 0);
        return index >= 0;
    }
}
