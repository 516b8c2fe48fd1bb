using System.Numerics;
using System.Security.Cryptography;
using Org.BouncyCastle.Asn1.GM;
using Org.BouncyCastle.Asn1.X9;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Security;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;

namespace Transit.RideCodes;

/// <summary>
/// A public key that verifies 64-byte r‖s signatures. Keys travel as 33-byte SEC1 compressed points so
/// that a credential fits a QR code. Instances are safe to share between threads.
/// </summary>
public abstract class PublicKey
{
    /// <summary>Length of a compressed public key.</summary>
    public const int CompressedLength = 33;

    /// <summary>Length of a signature (r‖s).</summary>
    public const int SignatureLength = 64;

    private protected PublicKey(SignatureAlgorithm algorithm, byte[] compressed)
    {
        Algorithm = algorithm;
        Compressed = compressed;
    }

    /// <summary>The algorithm of this key.</summary>
    public SignatureAlgorithm Algorithm { get; }

    /// <summary>The SEC1 compressed point (33 bytes). Do not modify.</summary>
    public byte[] Compressed { get; }

    /// <summary>Imports a compressed point; returns false, never throws, when it is not a point of the curve.</summary>
    public static bool TryImport(SignatureAlgorithm algorithm, ReadOnlySpan<byte> compressed, out PublicKey key)
    {
        key = null!;
        if (compressed.Length != CompressedLength || (compressed[0] != 2 && compressed[0] != 3))
        {
            return false;
        }

        return algorithm switch
        {
            SignatureAlgorithm.P256 => P256PublicKey.TryCreate(compressed, out key),
            SignatureAlgorithm.Sm2 => Sm2PublicKey.TryCreate(compressed, out key),
            _ => false,
        };
    }

    /// <summary>Imports a compressed point or throws <see cref="FormatException"/>.</summary>
    public static PublicKey Import(SignatureAlgorithm algorithm, ReadOnlySpan<byte> compressed) =>
        TryImport(algorithm, compressed, out var key)
            ? key
            : throw new FormatException($"not a compressed {algorithm.ToName()} public key");

    /// <summary>Verifies <paramref name="signature"/> over <paramref name="message"/>; false for any malformed signature.</summary>
    public abstract bool Verify(ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature);
}

/// <summary>A private signing key. Not thread-safe for SM2; create one per thread when signing in parallel.</summary>
public abstract class SigningKey : IDisposable
{
    private protected SigningKey(PublicKey publicKey) => PublicKey = publicKey;

    /// <summary>The matching public key.</summary>
    public PublicKey PublicKey { get; }

    /// <summary>The algorithm of this key.</summary>
    public SignatureAlgorithm Algorithm => PublicKey.Algorithm;

    /// <summary>Creates a fresh random key.</summary>
    public static SigningKey Generate(SignatureAlgorithm algorithm) => algorithm switch
    {
        SignatureAlgorithm.P256 => P256SigningKey.Generate(),
        SignatureAlgorithm.Sm2 => Sm2SigningKey.Generate(),
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "unknown signature algorithm"),
    };

    /// <summary>Re-creates a key from its 32-byte private scalar.</summary>
    public static SigningKey FromPrivateScalar(SignatureAlgorithm algorithm, ReadOnlySpan<byte> scalar)
    {
        if (scalar.Length != 32)
        {
            throw new FormatException("a private key scalar is 32 bytes");
        }

        return algorithm switch
        {
            SignatureAlgorithm.P256 => P256SigningKey.FromScalar(scalar),
            SignatureAlgorithm.Sm2 => Sm2SigningKey.FromScalar(scalar),
            _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "unknown signature algorithm"),
        };
    }

    /// <summary>Signs <paramref name="message"/>, returning a 64-byte r‖s signature.</summary>
    public abstract byte[] Sign(ReadOnlySpan<byte> message);

    /// <summary>The 32-byte private scalar, for storing the key.</summary>
    public abstract byte[] ExportPrivateScalar();

    /// <inheritdoc />
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases native key material.</summary>
    protected virtual void Dispose(bool disposing)
    {
    }
}

internal sealed class P256PublicKey : PublicKey
{
    private static readonly BigInteger Prime = Parse("FFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF");
    private static readonly BigInteger CurveB = Parse("5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B");
    private static readonly BigInteger SqrtExponent = (Prime + 1) / 4;

    private readonly ECDsa _ecdsa;

    private P256PublicKey(byte[] compressed, ECDsa ecdsa)
        : base(SignatureAlgorithm.P256, compressed) => _ecdsa = ecdsa;

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA2000", Justification = "The import gives a key only when it answers Imported, and the public key built from it then owns it.")]
    public static bool TryCreate(ReadOnlySpan<byte> compressed, out PublicKey key)
    {
        key = null!;
        switch (OpenSslP256.TryImport(compressed, out var native))
        {
            case ImportOutcome.Imported:
                key = new P256PublicKey(compressed.ToArray(), native!);
                return true;
            case ImportOutcome.InvalidPoint:
                return false;
            default:
                // Only without OpenSSL 3 (never where the tests run); KeyTests compare TryCreateManaged with OpenSSL.
                return TryCreateManaged(compressed, out key);
        }
    }

    /// <summary>Decompresses the point in managed code, for platforms without OpenSSL 3.</summary>
    internal static bool TryCreateManaged(ReadOnlySpan<byte> compressed, out PublicKey key)
    {
        key = null!;
        var x = new BigInteger(compressed[1..], isUnsigned: true, isBigEndian: true);
        if (x >= Prime)
        {
            return false;
        }

        // y² = x³ − 3x + b; P-256's prime is 3 mod 4, so a square root is a single exponentiation.
        var rhs = (BigInteger.ModPow(x, 3, Prime) - (3 * x) + CurveB) % Prime;

        // rhs is 0 only for a point with y = 0, which P-256 has none of: `Sign <= 0` is an equivalent mutant.
        if (rhs.Sign < 0)
        {
            rhs += Prime;
        }

        var y = BigInteger.ModPow(rhs, SqrtExponent, Prime);
        if (BigInteger.ModPow(y, 2, Prime) != rhs)
        {
            return false;
        }

        if ((y.IsEven ? 2 : 3) != compressed[0])
        {
            y = Prime - y;
        }

        var parameters = new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            Q = new ECPoint { X = compressed[1..].ToArray(), Y = ToFixed(y) },
        };
        try
        {
            key = new P256PublicKey(compressed.ToArray(), ECDsa.Create(parameters));
            return true;
        }
        catch (CryptographicException)
        {
            // The point was checked to lie on the curve above, so .NET never refuses it here: not reachable by a test.
            return false;
        }
    }

    public static byte[] Compress(ECParameters parameters)
    {
        var compressed = new byte[CompressedLength];
        compressed[0] = (byte)(2 + (parameters.Q.Y![^1] & 1));
        parameters.Q.X!.CopyTo(compressed, 1);
        return compressed;
    }

    public override bool Verify(ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        if (signature.Length != SignatureLength)
        {
            return false;
        }

        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(message, hash);
        return _ecdsa.VerifyHash(hash, signature);
    }

    private static BigInteger Parse(string hex) =>
        new(Convert.FromHexString(hex), isUnsigned: true, isBigEndian: true);

    private static byte[] ToFixed(BigInteger value)
    {
        var bytes = value.ToByteArray(isUnsigned: true, isBigEndian: true);
        if (bytes.Length == 32)
        {
            return bytes;
        }

        var fixedBytes = new byte[32];
        bytes.CopyTo(fixedBytes, 32 - bytes.Length);
        return fixedBytes;
    }
}

internal sealed class P256SigningKey : SigningKey
{
    private readonly ECDsa _ecdsa;

    private P256SigningKey(ECDsa ecdsa, PublicKey publicKey)
        : base(publicKey) => _ecdsa = ecdsa;

    public static SigningKey Generate() => Wrap(ECDsa.Create(ECCurve.NamedCurves.nistP256));

    public static SigningKey FromScalar(ReadOnlySpan<byte> scalar)
    {
        try
        {
            return Wrap(ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, D = scalar.ToArray() }));
        }
        catch (CryptographicException ex)
        {
            throw new FormatException("not a valid P-256 private key", ex);
        }
    }

    public override byte[] Sign(ReadOnlySpan<byte> message)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(message, hash);
        return _ecdsa.SignHash(hash.ToArray());
    }

    public override byte[] ExportPrivateScalar() => _ecdsa.ExportParameters(true).D!;

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _ecdsa.Dispose();
        }
    }

    private static P256SigningKey Wrap(ECDsa ecdsa)
    {
        var compressed = P256PublicKey.Compress(ecdsa.ExportParameters(false));
        return new P256SigningKey(ecdsa, PublicKey.Import(SignatureAlgorithm.P256, compressed));
    }
}

internal static class Sm2Curve
{
    public static readonly X9ECParameters Parameters = GMNamedCurves.GetByName("sm2p256v1");
    public static readonly ECDomainParameters Domain = new(Parameters.Curve, Parameters.G, Parameters.N, Parameters.H);

    /// <summary>The distinguishing identifier every ride-code signature uses: GM/T 0009's default.</summary>
    public static readonly byte[] DefaultId = "1234567812345678"u8.ToArray();

    /// <summary>
    /// The signature example of GM/T 0003.5-2012 Annex A (GB/T 32918.5-2017), on sm2p256v1 with the default
    /// identifier: private key 3945208F…, nonce 59276E27…, message "message digest".
    /// </summary>
    public static readonly Example PublishedExample = new(
        DefaultId,
        "message digest"u8.ToArray(),
        Convert.FromHexString("0309F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"),
        Convert.FromHexString(
            "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3"
            + "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA"));

    /// <summary>A published signature: identifier, message, compressed public key and r‖s.</summary>
    public sealed record Example(byte[] Id, byte[] Message, byte[] PublicKey, byte[] Signature);
}

/// <summary>
/// An SM2 public key. With an SM2-capable libcrypto the point lives in an OpenSSL <c>EVP_PKEY</c>, parsed once here
/// so that a cached credential's key verifies without re-parsing; otherwise BouncyCastle holds and verifies it.
/// </summary>
internal sealed class Sm2PublicKey : PublicKey
{
    private readonly OpenSslSm2.KeyHandle? _native;
    private readonly ECPublicKeyParameters? _managed;

    private Sm2PublicKey(byte[] compressed, OpenSslSm2.KeyHandle? native, ECPublicKeyParameters? managed)
        : base(SignatureAlgorithm.Sm2, compressed)
    {
        _native = native;
        _managed = managed;
    }

    /// <summary>True when OpenSSL verifies with this key, false when BouncyCastle does.</summary>
    public bool IsNative => _native is not null;

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA2000", Justification = "The import gives a key only when it answers Imported, and the public key built from it then owns it.")]
    public static bool TryCreate(ReadOnlySpan<byte> compressed, out PublicKey key)
    {
        var outcome = OpenSslSm2.TryImport(compressed, out var native);
        key = outcome == ImportOutcome.Imported ? new Sm2PublicKey(compressed.ToArray(), native, null) : null!;
        return outcome == ImportOutcome.Imported || (outcome == ImportOutcome.Unavailable && TryCreateManaged(compressed, out key));
    }

    /// <summary>Decodes the point with BouncyCastle, for machines whose libcrypto lacks SM2 (and for tests).</summary>
    internal static bool TryCreateManaged(ReadOnlySpan<byte> compressed, out PublicKey key)
    {
        key = null!;
        try
        {
            var point = Sm2Curve.Parameters.Curve.DecodePoint(compressed.ToArray());

            // DecodePoint already refuses an x without a square root (ArgumentException), and a compressed point is
            // never infinity on this cofactor-1 curve: this check is a guard whose mutants are equivalent.
            if (point.IsInfinity || !point.IsValid())
            {
                return false;
            }

            key = new Sm2PublicKey(compressed.ToArray(), null, new ECPublicKeyParameters(point, Sm2Curve.Domain));
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    public override bool Verify(ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature) =>
        Verify(Sm2Curve.DefaultId, message, signature);

    /// <summary>Verifies a signature made with distinguishing identifier <paramref name="id"/>.</summary>
    internal bool Verify(ReadOnlySpan<byte> id, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        if (signature.Length != SignatureLength)
        {
            return false;
        }

        if (_native is not null)
        {
            return OpenSslSm2.Verify(_native, id, message, signature);
        }

        // SM2Signer keeps the Z digest state between calls; a fresh signer per verification cannot leak one
        // message's state into the next, and lets several threads verify with one key.
        var signer = new SM2Signer(PlainDsaEncoding.Instance);
        signer.Init(false, new ParametersWithID(_managed, id.ToArray()));
        signer.BlockUpdate(message);
        try
        {
            return signer.VerifySignature(signature.ToArray());
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}

internal sealed class Sm2SigningKey : SigningKey
{
    private readonly ECPrivateKeyParameters _parameters;

    private Sm2SigningKey(ECPrivateKeyParameters parameters, PublicKey publicKey)
        : base(publicKey) => _parameters = parameters;

    public static SigningKey Generate()
    {
        var random = new SecureRandom();
        BcBigInteger d;
        do
        {
            d = new BcBigInteger(256, random);
        }
        // A random 256-bit d falls outside [1, n − 2] with probability about 2⁻³², so mutants of this condition survive
        // every test run; FromScalar's identical range check is tested at both ends.
        while (d.SignValue == 0 || d.CompareTo(Sm2Curve.Parameters.N.Subtract(BcBigInteger.One)) >= 0);

        return Wrap(d);
    }

    public static SigningKey FromScalar(ReadOnlySpan<byte> scalar)
    {
        var d = new BcBigInteger(1, scalar.ToArray());
        if (d.SignValue == 0 || d.CompareTo(Sm2Curve.Parameters.N.Subtract(BcBigInteger.One)) >= 0)
        {
            throw new FormatException("not a valid SM2 private key");
        }

        return Wrap(d);
    }

    public override byte[] Sign(ReadOnlySpan<byte> message)
    {
        var signer = new SM2Signer(PlainDsaEncoding.Instance);
        signer.Init(true, new ParametersWithID(new ParametersWithRandom(_parameters, new SecureRandom()), Sm2Curve.DefaultId));
        var bytes = message.ToArray();
        signer.BlockUpdate(bytes, 0, bytes.Length);
        return signer.GenerateSignature();
    }

    public override byte[] ExportPrivateScalar() => _parameters.D.ToByteArrayUnsigned().PadLeft(32);

    private static Sm2SigningKey Wrap(BcBigInteger d)
    {
        var parameters = new ECPrivateKeyParameters(d, Sm2Curve.Domain);
        var q = Sm2Curve.Parameters.G.Multiply(d).Normalize();
        return new Sm2SigningKey(parameters, PublicKey.Import(SignatureAlgorithm.Sm2, q.GetEncoded(true)));
    }
}

internal static class ByteArrayExtensions
{
    public static byte[] PadLeft(this byte[] bytes, int length)
    {
        if (bytes.Length >= length)
        {
            return bytes;
        }

        var padded = new byte[length];
        bytes.CopyTo(padded, length - bytes.Length);
        return padded;
    }
}
