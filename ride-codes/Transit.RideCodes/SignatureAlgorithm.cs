namespace Transit.RideCodes;

/// <summary>The signature algorithms a key set may use. Each issuer key names one; its credentials and phones use it too.</summary>
public enum SignatureAlgorithm
{
    /// <summary>ECDSA over NIST P-256 with SHA-256, signatures as r‖s (64 bytes).</summary>
    P256 = 1,

    /// <summary>SM2 (GB/T 32918) with SM3 and the default user id, signatures as r‖s (64 bytes).</summary>
    Sm2 = 2,
}

/// <summary>Names of <see cref="SignatureAlgorithm"/> as they appear in documents and on the command line.</summary>
public static class SignatureAlgorithmNames
{
    /// <summary>The lower-case name: <c>p256</c> or <c>sm2</c>.</summary>
    public static string ToName(this SignatureAlgorithm algorithm) => algorithm switch
    {
        SignatureAlgorithm.P256 => "p256",
        SignatureAlgorithm.Sm2 => "sm2",
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "unknown signature algorithm"),
    };

    /// <summary>Parses <c>p256</c> or <c>sm2</c> (case-insensitive).</summary>
    public static bool TryParse(string? name, out SignatureAlgorithm algorithm)
    {
        switch (name?.Trim().ToLowerInvariant())
        {
            case "p256" or "p-256" or "es256":
                algorithm = SignatureAlgorithm.P256;
                return true;
            case "sm2":
                algorithm = SignatureAlgorithm.Sm2;
                return true;
            default:
                algorithm = default;
                return false;
        }
    }
}

/// <summary>Which library verifies each algorithm on this machine, for start-up logs and benchmark reports.</summary>
public static class SignatureAlgorithmLibraries
{
    /// <summary>
    /// P-256: .NET's ECDsa over the system OpenSSL. SM2: OpenSSL's EVP interface when libcrypto passes the SM2
    /// self-test, else BouncyCastle.Cryptography (which always signs and generates SM2 keys).
    /// </summary>
    public static string VerifierLibrary(this SignatureAlgorithm algorithm) => algorithm switch
    {
        SignatureAlgorithm.P256 => ".NET ECDsa (OpenSSL)",
        // The BouncyCastle text shows only where libcrypto lacks SM2, never where the tests run.
        SignatureAlgorithm.Sm2 => OpenSslSm2.IsAvailable
            ? $"{OpenSslSm2.Description} EVP"
            : $"BouncyCastle.Cryptography ({OpenSslSm2.Description})",
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "unknown signature algorithm"),
    };
}
