using System.Security.Cryptography;

namespace Transit.RideCodes;

/// <summary>
/// Imports a compressed P-256 point straight into the libcrypto that .NET's ECDsa already runs on, so that
/// OpenSSL decompresses and checks the point. .NET's own import needs the uncompressed point and re-validates the
/// key with a full scalar multiplication: together about four times the cost of this path on a fresh code.
/// Verification itself stays on .NET's <see cref="ECDsa"/>.
/// </summary>
internal static unsafe class OpenSslP256
{
    private static readonly byte* KeyType = LibCrypto.Allocate("EC"u8);
    private static readonly byte* GroupName = LibCrypto.Allocate("prime256v1"u8);
    private static readonly bool Available = LibCrypto.Knows(KeyType);

    [ThreadStatic]
    private static nint t_context;

    public static ImportOutcome TryImport(ReadOnlySpan<byte> compressed, out ECDsa? key)
    {
        key = null;
        // Available is false off Linux already (LibCrypto.Knows); IsLinux tells the platform analyzer so. Mutants of this
        // condition are equivalent wherever libcrypto 3 loads, which is where the tests run.
        if (!Available || !OperatingSystem.IsLinux())
        {
            return ImportOutcome.Unavailable;
        }

        var outcome = LibCrypto.ImportPublicKey(ref t_context, KeyType, GroupName, compressed, out var pkey);
        if (outcome == ImportOutcome.Imported)
        {
            using var handle = new SafeEvpPKeyHandle(pkey, ownsHandle: true);
            key = new ECDsaOpenSsl(handle);
        }

        return outcome;
    }
}
