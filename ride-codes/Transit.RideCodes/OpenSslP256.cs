using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Transit.RideCodes;

/// <summary>
/// Imports a compressed P-256 point straight into the libcrypto that .NET's ECDsa already runs on, so that
/// OpenSSL decompresses and checks the point. .NET's own import needs the uncompressed point and re-validates the
/// key with a full scalar multiplication: together about four times the cost of this path on a fresh code.
/// Verification itself stays on .NET's <see cref="ECDsa"/>.
/// </summary>
internal static unsafe partial class OpenSslP256
{
    private const string LibCrypto = "libcrypto.so.3";
    private const int PublicKeySelection = 0x86; // EVP_PKEY_PUBLIC_KEY
    private const uint Utf8String = 4;            // OSSL_PARAM_UTF8_STRING
    private const uint OctetString = 5;           // OSSL_PARAM_OCTET_STRING

    private static readonly byte* KeyType = Allocate("EC"u8);
    private static readonly byte* GroupParameter = Allocate("group"u8);
    private static readonly byte* GroupName = Allocate("prime256v1"u8);
    private static readonly byte* PublicParameter = Allocate("pub"u8);
    private static readonly bool Available = OperatingSystem.IsLinux() && Probe();

    [ThreadStatic]
    private static nint t_context;

    public enum Outcome
    {
        Imported,
        InvalidPoint,
        Unavailable,
    }

    public static Outcome TryImport(ReadOnlySpan<byte> compressed, out ECDsa? key)
    {
        key = null;
        if (!Available || !OperatingSystem.IsLinux())
        {
            return Outcome.Unavailable;
        }

        var context = t_context;
        if (context == 0)
        {
            context = t_context = EVP_PKEY_CTX_new_from_name(0, KeyType, null);
            if (context == 0)
            {
                return Outcome.Unavailable;
            }
        }

        if (EVP_PKEY_fromdata_init(context) != 1)
        {
            return Outcome.Unavailable;
        }

        nint pkey = 0;
        fixed (byte* point = compressed)
        {
            var parameters = stackalloc OsslParam[3];
            parameters[0] = new OsslParam(GroupParameter, Utf8String, GroupName, 10);
            parameters[1] = new OsslParam(PublicParameter, OctetString, point, (nuint)compressed.Length);
            parameters[2] = default;
            if (EVP_PKEY_fromdata(context, &pkey, PublicKeySelection, parameters) != 1 || pkey == 0)
            {
                ERR_clear_error();
                return Outcome.InvalidPoint;
            }
        }

        using var handle = new SafeEvpPKeyHandle(pkey, ownsHandle: true);
        key = new ECDsaOpenSsl(handle);
        return Outcome.Imported;
    }

    private static bool Probe()
    {
        try
        {
            return NativeLibrary.TryLoad(LibCrypto, out _) && EVP_PKEY_CTX_new_from_name(0, KeyType, null) is var context && Free(context);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    private static bool Free(nint context)
    {
        if (context == 0)
        {
            return false;
        }

        EVP_PKEY_CTX_free(context);
        return true;
    }

    private static byte* Allocate(ReadOnlySpan<byte> text)
    {
        var memory = (byte*)NativeMemory.Alloc((nuint)text.Length + 1);
        text.CopyTo(new Span<byte>(memory, text.Length));
        memory[text.Length] = 0;
        return memory;
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
    private static partial nint EVP_PKEY_CTX_new_from_name(nint libraryContext, byte* name, byte* properties);

    [LibraryImport(LibCrypto)]
    private static partial int EVP_PKEY_fromdata_init(nint context);

    [LibraryImport(LibCrypto)]
    private static partial int EVP_PKEY_fromdata(nint context, nint* pkey, int selection, OsslParam* parameters);

    [LibraryImport(LibCrypto)]
    private static partial void EVP_PKEY_CTX_free(nint context);

    [LibraryImport(LibCrypto)]
    private static partial void ERR_clear_error();
}
