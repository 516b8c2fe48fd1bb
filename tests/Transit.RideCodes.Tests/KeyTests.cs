using System.Security.Cryptography;
using Transit.RideCodes;

namespace Transit.RideCodes.Tests;

/// <summary>
/// Keys as a forger hands them over: points off the curve, of the other curve, of the wrong length, scalars out of
/// range, signatures of the wrong length; and the OpenSSL and managed paths agreeing on every one.
/// </summary>
public sealed class KeyTests
{
    private static readonly byte[] Message = "ride"u8.ToArray();

    /// <summary>x = 2²⁵⁶ − 1 is above both curves' primes, so no point has it.</summary>
    private static readonly byte[] XAtLeastPrime = [2, .. Enumerable.Repeat((byte)0xFF, 32)];

    [Theory]
    [InlineData(SignatureAlgorithm.P256)]
    [InlineData(SignatureAlgorithm.Sm2)]
    public void TryImport_WrongLengthOrPrefix_False(SignatureAlgorithm algorithm)
    {
        using var key = SigningKey.Generate(algorithm);
        var point = key.PublicKey.Compressed;

        Assert.True(PublicKey.TryImport(algorithm, point, out var imported));
        Assert.Equal(point, imported.Compressed);
        Assert.Equal(algorithm, imported.Algorithm);
        Assert.False(PublicKey.TryImport(algorithm, point[..32], out _));
        Assert.False(PublicKey.TryImport(algorithm, [.. point, 0], out _));
        foreach (var prefix in new byte[] { 0, 1, 4, 5 })
        {
            var other = point.ToArray();
            other[0] = prefix;
            Assert.False(PublicKey.TryImport(algorithm, other, out var refused));
            Assert.Null(refused);
        }

        Assert.False(PublicKey.TryImport(algorithm, XAtLeastPrime, out _));
        Assert.False(PublicKey.TryImport((SignatureAlgorithm)0, point, out _));
    }

    [Theory]
    [InlineData(SignatureAlgorithm.P256, "p256")]
    [InlineData(SignatureAlgorithm.Sm2, "sm2")]
    public void Import_NotAPoint_FormatExceptionNamingTheAlgorithm(SignatureAlgorithm algorithm, string name)
    {
        var ex = Assert.Throws<FormatException>(() => PublicKey.Import(algorithm, new byte[33]));

        Assert.Equal($"not a compressed {name} public key", ex.Message);
    }

    [Theory]
    [InlineData(SignatureAlgorithm.P256)]
    [InlineData(SignatureAlgorithm.Sm2)]
    public void Verify_SignatureOfAnyOtherLength_False(SignatureAlgorithm algorithm)
    {
        using var key = SigningKey.Generate(algorithm);
        var signature = key.Sign(Message);

        Assert.Equal(PublicKey.SignatureLength, signature.Length);
        Assert.True(key.PublicKey.Verify(Message, signature));
        Assert.False(key.PublicKey.Verify(Message, signature[..63]));
        Assert.False(key.PublicKey.Verify(Message, [.. signature, 0]));
        Assert.False(key.PublicKey.Verify(Message, []));
        Assert.False(key.PublicKey.Verify("ridf"u8, signature));
    }

    [Fact]
    public void Verify_SignatureOfTheOtherCurveWithTheSameScalar_False()
    {
        using var p256 = SigningKey.Generate(SignatureAlgorithm.P256);
        using var sm2 = SigningKey.FromPrivateScalar(SignatureAlgorithm.Sm2, p256.ExportPrivateScalar());

        Assert.False(p256.PublicKey.Verify(Message, sm2.Sign(Message)));
        Assert.False(sm2.PublicKey.Verify(Message, p256.Sign(Message)));
    }

    [Fact]
    public void SigningKey_UnknownAlgorithm_ThrowsNamingIt()
    {
        Assert.Equal("algorithm", Assert.Throws<ArgumentOutOfRangeException>(() => SigningKey.Generate((SignatureAlgorithm)9)).ParamName);
        Assert.Equal("algorithm", Assert.Throws<ArgumentOutOfRangeException>(
            () => SigningKey.FromPrivateScalar((SignatureAlgorithm)9, new byte[32])).ParamName);
    }

    [Theory]
    [InlineData(SignatureAlgorithm.P256, 31)]
    [InlineData(SignatureAlgorithm.P256, 33)]
    [InlineData(SignatureAlgorithm.Sm2, 0)]
    [InlineData(SignatureAlgorithm.Sm2, 64)]
    public void FromPrivateScalar_Not32Bytes_FormatException(SignatureAlgorithm algorithm, int length)
    {
        var ex = Assert.Throws<FormatException>(() => SigningKey.FromPrivateScalar(algorithm, new byte[length]));

        Assert.Equal("a private key scalar is 32 bytes", ex.Message);
    }

    [Fact]
    public void FromPrivateScalar_P256OutOfRange_FormatException()
    {
        foreach (var scalar in new[] { new byte[32], Enumerable.Repeat((byte)0xFF, 32).ToArray() })
        {
            var ex = Assert.Throws<FormatException>(() => SigningKey.FromPrivateScalar(SignatureAlgorithm.P256, scalar));
            Assert.Equal("not a valid P-256 private key", ex.Message);
            Assert.IsType<CryptographicException>(ex.InnerException, exactMatch: false);
        }
    }

    [Fact]
    public void FromPrivateScalar_Sm2_RangeIsOneToNMinusTwo()
    {
        var n = Sm2Curve.Parameters.N;
        var nMinusOne = n.Subtract(Org.BouncyCastle.Math.BigInteger.One).ToByteArrayUnsigned();
        var nMinusTwo = n.Subtract(Org.BouncyCastle.Math.BigInteger.Two).ToByteArrayUnsigned();
        byte[] one = [.. new byte[31], 1];

        using (var last = SigningKey.FromPrivateScalar(SignatureAlgorithm.Sm2, nMinusTwo))
        {
            Assert.Equal(nMinusTwo, last.ExportPrivateScalar());
            Assert.True(last.PublicKey.Verify(Message, last.Sign(Message)));
        }

        using (var first = SigningKey.FromPrivateScalar(SignatureAlgorithm.Sm2, one))
        {
            Assert.Equal(one, first.ExportPrivateScalar());
            Assert.Equal(Sm2Curve.Parameters.G.GetEncoded(true), first.PublicKey.Compressed);
        }

        foreach (var scalar in new[] { new byte[32], nMinusOne, n.ToByteArrayUnsigned() })
        {
            var ex = Assert.Throws<FormatException>(() => SigningKey.FromPrivateScalar(SignatureAlgorithm.Sm2, scalar));
            Assert.Equal("not a valid SM2 private key", ex.Message);
        }
    }

    [Theory]
    [InlineData(SignatureAlgorithm.P256)]
    [InlineData(SignatureAlgorithm.Sm2)]
    public void ExportPrivateScalar_LeadingZeroByte_Kept32Bytes(SignatureAlgorithm algorithm)
    {
        byte[] scalar = [0, 0, .. Enumerable.Range(1, 30).Select(i => (byte)i)];

        using var key = SigningKey.FromPrivateScalar(algorithm, scalar);

        Assert.Equal(scalar, key.ExportPrivateScalar());
        using var back = SigningKey.FromPrivateScalar(algorithm, key.ExportPrivateScalar());
        Assert.Equal(key.PublicKey.Compressed, back.PublicKey.Compressed);
    }

    [Fact]
    public void PadLeft_ShortPadsWithZeros_LongAndExactUnchanged()
    {
        Assert.Equal(new byte[] { 0, 0, 1, 2 }, new byte[] { 1, 2 }.PadLeft(4));
        var exact = new byte[] { 1, 2, 3, 4 };
        Assert.Same(exact, exact.PadLeft(4));
        var longer = new byte[] { 1, 2, 3, 4, 5 };
        Assert.Same(longer, longer.PadLeft(4));
    }

    [Fact]
    public void SigningKey_Disposed_CannotSign()
    {
        var key = SigningKey.Generate(SignatureAlgorithm.P256);

        key.Dispose();

        Assert.Throws<ObjectDisposedException>(() => key.Sign(Message));
    }

    /// <summary>Managed P-256 decompression is what runs without OpenSSL 3; it must agree with OpenSSL on every point.</summary>
    [Fact]
    public void P256Managed_AgreesWithOpenSsl_BothParitiesAndShortCoordinates()
    {
        var parities = new HashSet<byte>();
        var shortY = false;
        for (var i = 0; (i < 40 || parities.Count < 2 || !shortY) && i < 3000; i++)
        {
            using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var q = ecdsa.ExportParameters(false).Q;
            var isShort = q.Y![0] == 0;
            if (i >= 40 && !isShort && parities.Count == 2)
            {
                continue;
            }

            using var key = SigningKey.FromPrivateScalar(SignatureAlgorithm.P256, ecdsa.ExportParameters(true).D);
            var compressed = key.PublicKey.Compressed;
            parities.Add(compressed[0]);
            shortY |= isShort;

            Assert.Equal(2 + (q.Y[^1] & 1), compressed[0]);
            Assert.Equal(q.X, compressed[1..]);
            Assert.True(P256PublicKey.TryCreateManaged(compressed, out var managed));
            Assert.Equal(compressed, managed.Compressed);
            var signature = key.Sign(Message);
            Assert.True(managed.Verify(Message, signature));
            var flipped = compressed.ToArray();
            flipped[0] ^= 1;
            Assert.True(P256PublicKey.TryCreateManaged(flipped, out var negated));
            Assert.False(negated.Verify(Message, signature));
        }

        Assert.Equal(2, parities.Count);
        Assert.True(shortY, "no key with a leading zero byte in y was drawn");
    }

    [Fact]
    public void P256Managed_XNotOnTheCurveOrAtLeastThePrime_False_LikeOpenSsl()
    {
        var offCurve = 0;
        for (var x = 0; x < 64 && offCurve < 4; x++)
        {
            byte[] point = [2, .. new byte[31], (byte)x];
            var managed = P256PublicKey.TryCreateManaged(point, out _);
            Assert.Equal(managed, PublicKey.TryImport(SignatureAlgorithm.P256, point, out _));
            Assert.Equal(managed ? ImportOutcome.Imported : ImportOutcome.InvalidPoint, OpenSslP256.TryImport(point, out _));
            offCurve += managed ? 0 : 1;
        }

        Assert.Equal(4, offCurve);
        Assert.False(P256PublicKey.TryCreateManaged(XAtLeastPrime, out var refused));
        Assert.Null(refused);
        byte[] prime = [2, .. Convert.FromHexString("FFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF")];
        Assert.False(P256PublicKey.TryCreateManaged(prime, out _));
        Assert.Equal(ImportOutcome.InvalidPoint, OpenSslP256.TryImport(prime, out _));
    }

    [Fact]
    public void OpenSslP256_ValidPoint_ImportedKeyVerifies_InvalidPoint_NoKey()
    {
        using var key = SigningKey.Generate(SignatureAlgorithm.P256);

        Assert.Equal(ImportOutcome.Imported, OpenSslP256.TryImport(key.PublicKey.Compressed, out var native));
        using (native)
        {
            Assert.NotNull(native);
            Assert.True(native.VerifyData(Message, key.Sign(Message), HashAlgorithmName.SHA256));
        }

        Assert.Equal(ImportOutcome.InvalidPoint, OpenSslP256.TryImport(XAtLeastPrime, out var refused));
        Assert.Null(refused);
    }

    [Fact]
    public void OpenSslSm2_ValidPoint_Imported_InvalidPoint_Refused_ManagedAgrees()
    {
        Assert.True(OpenSslSm2.IsAvailable, OpenSslSm2.Description);
        using var key = SigningKey.Generate(SignatureAlgorithm.Sm2);

        Assert.Equal(ImportOutcome.Imported, OpenSslSm2.TryImport(key.PublicKey.Compressed, out var handle));
        using (handle)
        {
            Assert.False(handle!.IsInvalid);
            var signature = key.Sign(Message);
            Assert.True(OpenSslSm2.Verify(handle, Sm2Curve.DefaultId, Message, signature));
            Assert.False(OpenSslSm2.Verify(handle, "1234567812345679"u8, Message, signature));
            Assert.False(OpenSslSm2.Verify(handle, Sm2Curve.DefaultId, Message, signature[..63]));
        }

        Assert.Equal(ImportOutcome.InvalidPoint, OpenSslSm2.TryImport(XAtLeastPrime, out var refused));
        Assert.Null(refused);
        Assert.False(Sm2PublicKey.TryCreateManaged(XAtLeastPrime, out var managed));
        Assert.Null(managed);
        var onCurve = 0;
        for (var x = 0; x < 16; x++)
        {
            byte[] point = [3, .. new byte[31], (byte)x];
            var native = OpenSslSm2.TryImport(point, out var h) == ImportOutcome.Imported;
            h?.Dispose();
            Assert.Equal(native, Sm2PublicKey.TryCreateManaged(point, out _));
            onCurve += native ? 1 : 0;
        }

        Assert.InRange(onCurve, 1, 15);
    }

    [Fact]
    public void Sm2PublicKey_NativeAndManaged_SameVerdicts()
    {
        using var key = SigningKey.Generate(SignatureAlgorithm.Sm2);
        var signature = key.Sign(Message);
        Assert.True(Sm2PublicKey.TryCreateManaged(key.PublicKey.Compressed, out var managedKey));
        var managed = (Sm2PublicKey)managedKey;
        var native = (Sm2PublicKey)key.PublicKey;

        Assert.True(native.IsNative);
        Assert.False(managed.IsNative);
        foreach (var k in new[] { native, managed })
        {
            Assert.True(k.Verify(Message, signature));
            Assert.False(k.Verify("1234567812345679"u8, Message, signature));
            Assert.False(k.Verify(Message, signature[..63]));
            Assert.False(k.Verify(Message, [.. signature, 0]));
            Assert.False(k.Verify(Message, new byte[64]));
            var highR = signature.ToArray();
            highR.AsSpan(0, 32).Fill(0xFF);
            Assert.False(k.Verify(Message, highR));
        }
    }

    [Theory]
    [InlineData("01", "02", "3006020101020102")]
    [InlineData("0001", "00ff", "3007020101020200ff")]
    [InlineData("80", "0000", "300702020080020100")]
    public void EncodeDer_MinimalIntegersWithSignPadding(string r, string s, string expected)
    {
        // A used buffer: the sign-padding byte must be written, not left from a zeroed stack.
        var der = Enumerable.Repeat((byte)0xAA, 72).ToArray();

        var length = OpenSslSm2.EncodeDer(Convert.FromHexString(r), Convert.FromHexString(s), der);

        Assert.Equal(expected, Convert.ToHexString(der, 0, length).ToLowerInvariant());
    }

    [Fact]
    public void LibCrypto_KnowsItsKeyTypesOnly_AllocateIsNulTerminated()
    {
        unsafe
        {
            var ec = LibCrypto.Allocate("EC"u8);
            Assert.Equal((byte)'E', ec[0]);
            Assert.Equal((byte)'C', ec[1]);
            Assert.Equal(0, ec[2]);
            Assert.True(LibCrypto.Knows(ec));
            Assert.False(LibCrypto.Knows(LibCrypto.Allocate("NO-SUCH-KEY-TYPE"u8)));
        }
    }

    [Fact]
    public void LibCryptoImport_ContextReused_UnknownKeyTypeUnavailable()
    {
        using var key = SigningKey.Generate(SignatureAlgorithm.P256);
        unsafe
        {
            var ec = LibCrypto.Allocate("EC"u8);
            var group = LibCrypto.Allocate("prime256v1"u8);
            nint context = 0;
            try
            {
                Assert.Equal(ImportOutcome.Imported, LibCrypto.ImportPublicKey(ref context, ec, group, key.PublicKey.Compressed, out var pkey));
                Assert.NotEqual(0, pkey);
                Assert.NotEqual(0, context);
                LibCrypto.EVP_PKEY_free(pkey);
                var first = context;
                Assert.Equal(ImportOutcome.InvalidPoint, LibCrypto.ImportPublicKey(ref context, ec, group, XAtLeastPrime, out pkey));
                Assert.Equal(0, pkey);
                Assert.Equal(first, context);
                Assert.Equal(ImportOutcome.InvalidPoint, LibCrypto.ImportPublicKey(ref context, ec, group, key.PublicKey.Compressed[..32], out _));
            }
            finally
            {
                LibCrypto.EVP_PKEY_CTX_free(context);
            }

            nint none = 0;
            Assert.Equal(ImportOutcome.Unavailable, LibCrypto.ImportPublicKey(ref none, LibCrypto.Allocate("NO-SUCH-KEY-TYPE"u8), group, key.PublicKey.Compressed, out var nothing));
            Assert.Equal(0, none);
            Assert.Equal(0, nothing);
        }
    }
}
