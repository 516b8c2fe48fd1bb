using System.Runtime.InteropServices;

namespace Transit.RideCodes;

/// <summary>
/// SM2 with SM3 verification through OpenSSL 3's EVP interface, about five times faster than BouncyCastle's managed
/// arithmetic. Used only when the machine's libcrypto passes a self-test on the GM/T 0003.5 example at start-up, since
/// some builds leave SM2 or SM3 out; otherwise <see cref="IsAvailable"/> is false and keys verify with BouncyCastle.
/// </summary>
internal static unsafe partial class OpenSslSm2
{
    private const string LibCrypto = "libcrypto.so.3";
    private const int PublicKeySelection = 0x86; // EVP_PKEY_PUBLIC_KEY
    private const uint Utf8String = 4;            // OSSL_PARAM_UTF8_STRING
    private const uint OctetString = 5;           // OSSL_PARAM_OCTET_STRING
    private const int MaxDerSignature = 72;       // SEQUENCE of two INTEGERs of up to 33 bytes

    private static readonly byte* KeyType = Allocate("SM2"u8);
    private static readonly byte* GroupParameter = Allocate("group"u8);
    private static readonly byte* GroupName = Allocate("SM2"u8);
    private static readonly byte* PublicParameter = Allocate("pub"u8);
    private static readonly byte* DigestName = Allocate("SM3"u8);

    // Fetched once: a fetched EVP_MD is immutable and may be shared by threads.
    private static readonly nint Sm3 = Probe(out s_description);
    private static readonly string s_description;

    [ThreadStatic]
    private static nint t_importContext;

    [ThreadStatic]
    private static nint t_digestContext;

    public enum Outcome
    {
        Imported,
        InvalidPoint,
        Unavailable,
    }

    /// <summary>True when SM2 keys are imported into and verified by OpenSSL.</summary>
    public static bool IsAvailable => Sm3 != 0;

    /// <summary>The OpenSSL version in use, or why it is not used.</summary>
    public static string Description => s_description;

    /// <summary>Imports a SEC1 point on sm2p256v1; OpenSSL decompresses it and refuses points off the curve.</summary>
    public static Outcome TryImport(ReadOnlySpan<byte> point, out KeyHandle? key)
    {
        key = null;
        if (!IsAvailable)
        {
            return Outcome.Unavailable;
        }

        var context = t_importContext;
        if (context == 0)
        {
            context = t_importContext = EVP_PKEY_CTX_new_from_name(0, KeyType, null);
            if (context == 0)
            {
                return Outcome.Unavailable;
            }
        }

        return Import(context, point, out key);
    }

    /// <summary>
    /// Verifies a 64-byte r‖s signature made with distinguishing identifier <paramref name="id"/>. Safe to call from
    /// several threads with one key: each thread has its own digest context, and the key is only read.
    /// </summary>
    public static bool Verify(KeyHandle key, ReadOnlySpan<byte> id, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
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

    private static Outcome Import(nint context, ReadOnlySpan<byte> point, out KeyHandle? key)
    {
        key = null;
        if (EVP_PKEY_fromdata_init(context) != 1)
        {
            ERR_clear_error();
            return Outcome.Unavailable;
        }

        nint pkey = 0;
        fixed (byte* bytes = point)
        {
            var parameters = stackalloc OsslParam[3];
            parameters[0] = new OsslParam(GroupParameter, Utf8String, GroupName, 3);
            parameters[1] = new OsslParam(PublicParameter, OctetString, bytes, (nuint)point.Length);
            parameters[2] = default;
            if (EVP_PKEY_fromdata(context, &pkey, PublicKeySelection, parameters) != 1 || pkey == 0)
            {
                ERR_clear_error();
                return Outcome.InvalidPoint;
            }
        }

        key = new KeyHandle(pkey);
        return Outcome.Imported;
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
            // OpenSSL 3.0 ignores an identifier passed as an init parameter and otherwise defaults to an empty one, so
            // the identifier goes onto the key context between init and the first byte of data.
            nint keyContext = 0;
            var ok = EVP_MD_CTX_reset(context) == 1
                && EVP_DigestVerifyInit(context, &keyContext, sm3, 0, pkey) == 1
                && EVP_PKEY_CTX_set1_id(keyContext, idBytes, id.Length) == 1
                && EVP_DigestVerify(context, derBytes, (nuint)derLength, messageBytes, (nuint)message.Length) == 1;
            if (!ok)
            {
                ERR_clear_error();
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
        if (!OperatingSystem.IsLinux() || !NativeLibrary.TryLoad(LibCrypto, out _))
        {
            description = $"{LibCrypto} not found";
            return 0;
        }

        try
        {
            var sm3 = EVP_MD_fetch(0, DigestName, null);
            if (sm3 == 0)
            {
                ERR_clear_error();
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
            description = $"{LibCrypto} lacks an SM2 entry point ({ex.Message})";
            return 0;
        }
    }

    private static bool SelfTest(nint sm3)
    {
        var importContext = EVP_PKEY_CTX_new_from_name(0, KeyType, null);
        var digestContext = EVP_MD_CTX_new();
        try
        {
            var example = Sm2Curve.PublishedExample;
            if (importContext == 0 || digestContext == 0 || Import(importContext, example.PublicKey, out var key) != Outcome.Imported)
            {
                ERR_clear_error();
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
            EVP_PKEY_CTX_free(importContext);
        }
    }

    private static byte* Allocate(ReadOnlySpan<byte> text)
    {
        var memory = (byte*)NativeMemory.Alloc((nuint)text.Length + 1);
        text.CopyTo(new Span<byte>(memory, text.Length));
        memory[text.Length] = 0;
        return memory;
    }

    /// <summary>An <c>EVP_PKEY</c>, freed when the last user lets go, never while a verification on another thread holds it.</summary>
    internal sealed class KeyHandle : SafeHandle
    {
        public KeyHandle(nint pkey)
            : base(0, ownsHandle: true) => SetHandle(pkey);

        public override bool IsInvalid => handle == 0;

        protected override bool ReleaseHandle()
        {
            EVP_PKEY_free(handle);
            return true;
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private readonly struct OsslParam(byte* key, uint dataType, void* data, nuint dataSize)
    {
        private readonly byte* _key = key;
        private readonly uint _dataType = dataType;
        private readonly void* _data = data;
        private readonly nuint _dataSize = dataSize;
        private readonly nuint _returnSize = nuint.MaxValue; // OSSL_PARAM_UNMODIFIED
    }

    [LibraryImport(LibCrypto)]
    private static partial nint OpenSSL_version(int type);

    [LibraryImport(LibCrypto)]
    private static partial nint EVP_MD_fetch(nint libraryContext, byte* algorithm, byte* properties);

    [LibraryImport(LibCrypto)]
    private static partial void EVP_MD_free(nint md);

    [LibraryImport(LibCrypto)]
    private static partial nint EVP_PKEY_CTX_new_from_name(nint libraryContext, byte* name, byte* properties);

    [LibraryImport(LibCrypto)]
    private static partial int EVP_PKEY_fromdata_init(nint context);

    [LibraryImport(LibCrypto)]
    private static partial int EVP_PKEY_fromdata(nint context, nint* pkey, int selection, OsslParam* parameters);

    [LibraryImport(LibCrypto)]
    private static partial void EVP_PKEY_CTX_free(nint context);

    [LibraryImport(LibCrypto)]
    private static partial void EVP_PKEY_free(nint pkey);

    [LibraryImport(LibCrypto)]
    private static partial nint EVP_MD_CTX_new();

    [LibraryImport(LibCrypto)]
    private static partial int EVP_MD_CTX_reset(nint context);

    [LibraryImport(LibCrypto)]
    private static partial void EVP_MD_CTX_free(nint context);

    [LibraryImport(LibCrypto)]
    private static partial int EVP_DigestVerifyInit(nint context, nint* keyContext, nint md, nint engine, nint pkey);

    [LibraryImport(LibCrypto)]
    private static partial int EVP_PKEY_CTX_set1_id(nint keyContext, byte* id, int length);

    [LibraryImport(LibCrypto)]
    private static partial int EVP_DigestVerify(nint context, byte* signature, nuint signatureLength, byte* message, nuint messageLength);

    [LibraryImport(LibCrypto)]
    private static partial void ERR_clear_error();
}
