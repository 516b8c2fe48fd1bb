using System.Runtime.InteropServices;

namespace Transit.RideCodes;

/// <summary>
/// SM2 with SM3 verification through OpenSSL 3's EVP interface, four to five times faster than BouncyCastle's managed
/// arithmetic. Used only when the machine's libcrypto passes a self-test on the GM/T 0003.5 example at start-up, since
/// some builds leave SM2 or SM3 out; otherwise <see cref="IsAvailable"/> is false and keys verify with BouncyCastle.
/// </summary>
internal static unsafe partial class OpenSslSm2
{
    private const int MaxDerSignature = 72; // SEQUENCE of two INTEGERs of up to 33 bytes

    private static readonly byte* KeyType = LibCrypto.Allocate("SM2"u8);
    private static readonly byte* GroupName = LibCrypto.Allocate("SM2"u8);
    private static readonly byte* DigestName = LibCrypto.Allocate("SM3"u8);

    // Fetched once: a fetched EVP_MD is immutable and may be shared by threads.
    private static readonly nint Sm3 = Probe(out s_description);
    private static readonly string s_description;

    [ThreadStatic]
    private static nint t_importContext;

    [ThreadStatic]
    private static nint t_digestContext;

    /// <summary>True when SM2 keys are imported into and verified by OpenSSL.</summary>
    public static bool IsAvailable => Sm3 != 0;

    /// <summary>The OpenSSL version in use, or why it is not used.</summary>
    public static string Description => s_description;

    /// <summary>Imports a SEC1 point on sm2p256v1; OpenSSL decompresses it and refuses points off the curve.</summary>
    public static ImportOutcome TryImport(ReadOnlySpan<byte> point, out KeyHandle? key) =>
        IsAvailable ? Import(ref t_importContext, point, out key) : Unavailable(out key);

    /// <summary>
    /// Verifies a 64-byte r‖s signature made with distinguishing identifier <paramref name="id"/>. Safe to call from
    /// several threads with one key: each thread has its own digest context, and the key is only read.
    /// </summary>
    public static bool Verify(KeyHandle key, ReadOnlySpan<byte> id, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        // Mutation testing: where the tests run, libcrypto passes the self-test and allocates contexts, so mutants of
        // the two guards below (and of Probe's and SelfTest's failure branches) are not reachable; the managed path
        // that a machine without SM2 takes is tested through Sm2PublicKey.TryCreateManaged.
        if (!IsAvailable)
        {
            return false;
        }

        var context = t_digestContext;
        if (context == 0)
        {
            context = t_digestContext = EVP_MD_CTX_new();
            if (context == 0)
            {
                return false;
            }
        }

        var added = false;
        try
        {
            key.DangerousAddRef(ref added);
            return Verify(context, Sm3, key.DangerousGetHandle(), id, message, signature);
        }
        finally
        {
            // Mutation testing: a mutant that never releases leaks one reference to a key, which no test can observe.
            if (added)
            {
                key.DangerousRelease();
            }
        }
    }

    /// <summary>DER <c>SEQUENCE { INTEGER r, INTEGER s }</c> from big-endian halves; OpenSSL checks their range.</summary>
    internal static int EncodeDer(ReadOnlySpan<byte> r, ReadOnlySpan<byte> s, Span<byte> der)
    {
        var length = 2;
        length += EncodeInteger(r, der[length..]);
        length += EncodeInteger(s, der[length..]);
        der[0] = 0x30;
        der[1] = (byte)(length - 2);
        return length;
    }

    private static int EncodeInteger(ReadOnlySpan<byte> value, Span<byte> der)
    {
        var start = 0;
        while (start < value.Length - 1 && value[start] == 0)
        {
            start++;
        }

        var magnitude = value[start..];
        var pad = (magnitude[0] & 0x80) != 0 ? 1 : 0;
        der[0] = 0x02;
        der[1] = (byte)(magnitude.Length + pad);
        der[2] = 0;
        magnitude.CopyTo(der[(2 + pad)..]);
        return 2 + pad + magnitude.Length;
    }

    private static ImportOutcome Import(ref nint context, ReadOnlySpan<byte> point, out KeyHandle? key)
    {
        var outcome = LibCrypto.ImportPublicKey(ref context, KeyType, GroupName, point, out var pkey);
        key = outcome == ImportOutcome.Imported ? new KeyHandle(pkey) : null;
        return outcome;
    }

    private static ImportOutcome Unavailable(out KeyHandle? key)
    {
        key = null;
        return ImportOutcome.Unavailable;
    }

    private static bool Verify(nint context, nint sm3, nint pkey, ReadOnlySpan<byte> id, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        if (signature.Length != PublicKey.SignatureLength)
        {
            return false;
        }

        Span<byte> der = stackalloc byte[MaxDerSignature];
        var derLength = EncodeDer(signature[..32], signature[32..], der);
        fixed (byte* idBytes = id)
        fixed (byte* messageBytes = message)
        fixed (byte* derBytes = der)
        {
            // OpenSSL 3.0 fails an init given the identifier as a parameter and otherwise defaults to an empty one, so
            // the identifier goes onto the key context between init and the first byte of data.
            nint keyContext = 0;
            var ok = EVP_MD_CTX_reset(context) == 1
                && EVP_DigestVerifyInit(context, &keyContext, sm3, 0, pkey) == 1
                && EVP_PKEY_CTX_set1_id(keyContext, idBytes, id.Length) == 1
                && EVP_DigestVerify(context, derBytes, (nuint)derLength, messageBytes, (nuint)message.Length) == 1;
            if (!ok)
            {
                LibCrypto.ERR_clear_error();
            }

            return ok;
        }
    }

    /// <summary>
    /// Loads libcrypto and verifies the published GM/T 0003.5 example (and refuses it with one bit changed), so a
    /// library that lacks SM2 or SM3, or handles the identifier differently, is never used.
    /// </summary>
    private static nint Probe(out string description)
    {
        if (!LibCrypto.Knows(KeyType))
        {
            description = $"{LibCrypto.Name} not found or without SM2";
            return 0;
        }

        try
        {
            var sm3 = EVP_MD_fetch(0, DigestName, null);
            if (sm3 == 0)
            {
                LibCrypto.ERR_clear_error();
                description = "OpenSSL without SM3";
                return 0;
            }

            var version = Marshal.PtrToStringUTF8(OpenSSL_version(0)) ?? "OpenSSL";
            if (SelfTest(sm3))
            {
                description = version;
                return sm3;
            }

            EVP_MD_free(sm3);
            description = $"{version} failed the SM2 self-test";
            return 0;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            description = $"{LibCrypto.Name} lacks an SM2 entry point ({ex.Message})";
            return 0;
        }
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA2000", Justification = "The import gives a key only when it answers Imported, and that key is disposed by the using below.")]
    private static bool SelfTest(nint sm3)
    {
        nint importContext = 0;
        var digestContext = EVP_MD_CTX_new();
        try
        {
            var example = Sm2Curve.PublishedExample;
            if (digestContext == 0 || Import(ref importContext, example.PublicKey, out var key) != ImportOutcome.Imported)
            {
                return false;
            }

            using (key)
            {
                var flipped = example.Signature.ToArray();
                flipped[^1] ^= 1;
                var pkey = key!.DangerousGetHandle();
                return Verify(digestContext, sm3, pkey, example.Id, example.Message, example.Signature)
                    && !Verify(digestContext, sm3, pkey, example.Id, example.Message, flipped);
            }
        }
        finally
        {
            EVP_MD_CTX_free(digestContext);
            LibCrypto.EVP_PKEY_CTX_free(importContext);
        }
    }

    /// <summary>An <c>EVP_PKEY</c>, freed when the last user lets go, never while a verification on another thread holds it.</summary>
    internal sealed class KeyHandle : SafeHandle
    {
        public KeyHandle(nint pkey)
            : base(0, ownsHandle: true) => SetHandle(pkey);

        public override bool IsInvalid => handle == 0;

        protected override bool ReleaseHandle()
        {
            LibCrypto.EVP_PKEY_free(handle);
            return true;
        }
    }

    [LibraryImport(LibCrypto.Name)]
    private static partial nint OpenSSL_version(int type);

    [LibraryImport(LibCrypto.Name)]
    private static partial nint EVP_MD_fetch(nint libraryContext, byte* algorithm, byte* properties);

    [LibraryImport(LibCrypto.Name)]
    private static partial void EVP_MD_free(nint md);

    [LibraryImport(LibCrypto.Name)]
    private static partial nint EVP_MD_CTX_new();

    [LibraryImport(LibCrypto.Name)]
    private static partial int EVP_MD_CTX_reset(nint context);

    [LibraryImport(LibCrypto.Name)]
    private static partial void EVP_MD_CTX_free(nint context);

    [LibraryImport(LibCrypto.Name)]
    private static partial int EVP_DigestVerifyInit(nint context, nint* keyContext, nint md, nint engine, nint pkey);

    [LibraryImport(LibCrypto.Name)]
    private static partial int EVP_PKEY_CTX_set1_id(nint keyContext, byte* id, int length);

    [LibraryImport(LibCrypto.Name)]
    private static partial int EVP_DigestVerify(nint context, byte* signature, nuint signatureLength, byte* message, nuint messageLength);
}
