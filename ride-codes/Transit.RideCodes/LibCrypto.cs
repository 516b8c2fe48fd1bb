using System.Runtime.InteropServices;

namespace Transit.RideCodes;

/// <summary>What importing a public point into OpenSSL came to.</summary>
internal enum ImportOutcome
{
    Imported,
    InvalidPoint,
    Unavailable,
}

/// <summary>
/// The parts of the system's OpenSSL 3 libcrypto (the library .NET's own cryptography runs on) that both the P-256
/// and the SM2 paths call: loading it, and turning a SEC1 point into a public <c>EVP_PKEY</c>.
/// </summary>
internal static unsafe partial class LibCrypto
{
    public const string Name = "libcrypto.so.3";
    private const int PublicKeySelection = 0x86; // EVP_PKEY_PUBLIC_KEY
    private const uint Utf8String = 4;            // OSSL_PARAM_UTF8_STRING
    private const uint OctetString = 5;           // OSSL_PARAM_OCTET_STRING

    private static readonly byte* GroupParameter = Allocate("group"u8);
    private static readonly byte* PublicParameter = Allocate("pub"u8);

    /// <summary>True when libcrypto loads and knows <paramref name="keyType"/>.</summary>
    public static bool Knows(byte* keyType)
    {
        if (!OperatingSystem.IsLinux() || !NativeLibrary.TryLoad(Name, out _))
        {
            return false;
        }

        try
        {
            var context = EVP_PKEY_CTX_new_from_name(0, keyType, null);

            // Every ERR_clear_error here only empties this thread's OpenSSL error queue after a failure. This code and
            // .NET's OpenSSL shim judge calls by their return values, so mutants that drop a clear are not observable.
            ERR_clear_error();
            EVP_PKEY_CTX_free(context);
            return context != 0;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            // Reached only with a libcrypto older than 3 (never where the tests run).
            return false;
        }
    }

    /// <summary>
    /// Imports <paramref name="point"/> (SEC1, compressed or not) as a public key of <paramref name="group"/>; OpenSSL
    /// decompresses it and refuses a point off the curve. <paramref name="context"/> is the caller's key context for
    /// <paramref name="keyType"/>, created on first use; one context must not be used by two threads at once.
    /// </summary>
    public static ImportOutcome ImportPublicKey(ref nint context, byte* keyType, byte* group, ReadOnlySpan<byte> point, out nint pkey)
    {
        pkey = 0;
        if (context == 0)
        {
            context = EVP_PKEY_CTX_new_from_name(0, keyType, null);
            if (context == 0)
            {
                ERR_clear_error();
                return ImportOutcome.Unavailable;
            }
        }

        if (EVP_PKEY_fromdata_init(context) != 1)
        {
            ERR_clear_error();
            return ImportOutcome.Unavailable;
        }

        nint imported = 0;
        fixed (byte* bytes = point)
        {
            var parameters = stackalloc OsslParam[3];
            parameters[0] = new OsslParam(GroupParameter, Utf8String, group, (nuint)MemoryMarshal.CreateReadOnlySpanFromNullTerminated(group).Length);
            parameters[1] = new OsslParam(PublicParameter, OctetString, bytes, (nuint)point.Length);
            parameters[2] = default;
            // fromdata sets the key whenever it returns 1, so `imported == 0` is a guard only; its mutants are equivalent.
            if (EVP_PKEY_fromdata(context, &imported, PublicKeySelection, parameters) != 1 || imported == 0)
            {
                ERR_clear_error();
                return ImportOutcome.InvalidPoint;
            }
        }

        pkey = imported;
        return ImportOutcome.Imported;
    }

    /// <summary>A NUL-terminated copy of <paramref name="text"/> that lives as long as the process.</summary>
    public static byte* Allocate(ReadOnlySpan<byte> text)
    {
        var memory = (byte*)NativeMemory.Alloc((nuint)text.Length + 1);
        text.CopyTo(new Span<byte>(memory, text.Length));
        memory[text.Length] = 0;
        return memory;
    }

    [LibraryImport(Name)]
    public static partial nint EVP_PKEY_CTX_new_from_name(nint libraryContext, byte* name, byte* properties);

    [LibraryImport(Name)]
    public static partial void EVP_PKEY_CTX_free(nint context);

    [LibraryImport(Name)]
    public static partial void EVP_PKEY_free(nint pkey);

    [LibraryImport(Name)]
    public static partial void ERR_clear_error();

    [LibraryImport(Name)]
    private static partial int EVP_PKEY_fromdata_init(nint context);

    [LibraryImport(Name)]
    private static partial int EVP_PKEY_fromdata(nint context, nint* pkey, int selection, OsslParam* parameters);

    [StructLayout(LayoutKind.Sequential)]
    private readonly struct OsslParam(byte* key, uint dataType, void* data, nuint dataSize)
    {
        private readonly byte* _key = key;
        private readonly uint _dataType = dataType;
        private readonly void* _data = data;
        private readonly nuint _dataSize = dataSize;
        private readonly nuint _returnSize = nuint.MaxValue; // OSSL_PARAM_UNMODIFIED
    }
}
