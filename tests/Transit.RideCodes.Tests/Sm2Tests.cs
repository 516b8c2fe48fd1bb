using System.Diagnostics;
using System.Text;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Math.EC;
using Transit.RideCodes;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;

namespace Transit.RideCodes.Tests;

/// <summary>
/// SM2 on its two backends, OpenSSL (the fast path) and BouncyCastle (signing, and verification where libcrypto lacks
/// SM2): the published GB/T 32918 examples, refusal of every single-bit change, and signatures crossing between them.
/// </summary>
public class Sm2Tests
{
    public static TheoryData<string> Backends => new() { "openssl", "bouncycastle" };

    [Fact]
    public void OpenSsl_VerifiesSm2OnThisMachine()
    {
        Assert.True(OpenSslSm2.IsAvailable, OpenSslSm2.Description);
        Assert.StartsWith("OpenSSL 3", OpenSslSm2.Description, StringComparison.Ordinal);
        using var key = SigningKey.Generate(SignatureAlgorithm.Sm2);
        Assert.True(Assert.IsType<Sm2PublicKey>(key.PublicKey).IsNative);
        Assert.Contains("OpenSSL", SignatureAlgorithm.Sm2.VerifierLibrary(), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Gmt0003Part5Example_Verifies_AndEverySingleBitChangeIsRefused(string backend)
    {
        var example = Sm2Curve.PublishedExample;
        var key = Import(backend, example.PublicKey);

        Assert.True(key.Verify(example.Id, example.Message, example.Signature));
        Assert.True(key.Verify(example.Message, example.Signature)); // the default identifier is the example's
        for (var bit = 0; bit < example.Signature.Length * 8; bit++)
        {
            Assert.False(key.Verify(example.Id, example.Message, Flip(example.Signature, bit)), $"signature bit {bit}");
        }

        for (var bit = 0; bit < example.Message.Length * 8; bit += 7)
        {
            Assert.False(key.Verify(example.Id, Flip(example.Message, bit), example.Signature), $"message bit {bit}");
        }

        Assert.False(key.Verify(Flip(example.Id, 0), example.Message, example.Signature));
        Assert.False(key.Verify(""u8, example.Message, example.Signature)); // OpenSSL 3.0's default identifier
        Assert.False(Import(backend, Flip(example.PublicKey, 7)).Verify(example.Message, example.Signature)); // the point's negation
    }

    [Fact]
    public void Gmt0003Part5Example_VerifiesWithTheOpenSslCommand()
    {
        var example = Sm2Curve.PublishedExample;
        Assert.True(OpenSslCommandVerifies(example.PublicKey, example.Message, example.Signature));
        Assert.False(OpenSslCommandVerifies(example.PublicKey, example.Message, Flip(example.Signature, 100)));
    }

    /// <summary>
    /// GB/T 32918.2-2016 Annex A (ALICE123@YAHOO.COM, "message digest") is worked on the standard's test curve, not
    /// on sm2p256v1: its signature verifies on that curve, and its public key is no point of sm2p256v1, which both
    /// importers refuse.
    /// </summary>
    [Fact]
    public void Gbt32918Part2Example_VerifiesOnItsTestCurve_AndItsKeyIsRefusedAsAnSm2p256v1Point()
    {
        var p = Big("8542D69E4C044F18E8B92435BF6FF7DE457283915C45517D722EDB8B08F1DFC3");
        var n = Big("8542D69E4C044F18E8B92435BF6FF7DD297720630485628D5AE74EE7C32E79B7");
        var curve = new FpCurve(
            p,
            Big("787968B4FA32C3FD2417842E73BBFEFF2F3C848B6831D7E0EC65228B3937E498"),
            Big("63E4C6D3B23B0C849CF84241484BFE48F61D59A5B16BA06E6E12D1DA27C5249A"),
            n,
            BcBigInteger.One);
        var domain = new ECDomainParameters(
            curve,
            curve.CreatePoint(Big("421DEBD61B62EAB6746434EBC3CC315E32220B3BADD50BDC4C4E6C147FEDD43D"), Big("0680512BCBB42C07D47349D2153B70C4E5D7FDFCBFA36EA1A85841B9E46E09A2")),
            n,
            BcBigInteger.One);
        var publicPoint = curve.CreatePoint(
            Big("0AE4C7798AA0F119471BEE11825BE46202BB79E2A5844495E97C04FF4DF2548A"),
            Big("7C0240F88F1CD4E16352A73C17B7F16F07353E53A176D684A9FE0C6BB798E857"));
        var signature = Convert.FromHexString(
            "40F1EC59F793D9F49E09DCEF49130D4194F79FB1EED2CAA55BACDB49C4E755D1"
            + "6FC6DAC32C5D5CF10C77DFB20F7C2EB667A457872FB09EC56327A67EC7DEEBE7");
        var message = "message digest"u8.ToArray();

        Assert.True(VerifyOn(domain, publicPoint, "ALICE123@YAHOO.COM"u8.ToArray(), message, signature));
        Assert.False(VerifyOn(domain, publicPoint, "ALICE123@YAHOO.COM"u8.ToArray(), message, Flip(signature, 300)));
        Assert.False(VerifyOn(domain, publicPoint, Sm2Curve.DefaultId, message, signature));

        // Its (x, y) is off sm2p256v1 (its x alone decompresses to some other point, as about half of all x do).
        var uncompressed = publicPoint.GetEncoded(false);
        Assert.Equal(ImportOutcome.InvalidPoint, OpenSslSm2.TryImport(uncompressed, out _));
        Assert.False(Sm2PublicKey.TryCreateManaged(uncompressed, out _));
    }

    [Fact]
    public void BouncyCastleSignatures_VerifyThroughOpenSsl_InProcessAndOnTheCommandLine()
    {
        for (var i = 0; i < 8; i++)
        {
            using var signer = SigningKey.Generate(SignatureAlgorithm.Sm2);
            var message = Encoding.ASCII.GetBytes($"TR1D cross test {i}");
            var signature = signer.Sign(message);

            Assert.True(Import("openssl", signer.PublicKey.Compressed).Verify(message, signature));
            Assert.True(Import("bouncycastle", signer.PublicKey.Compressed).Verify(message, signature));
            Assert.False(Import("openssl", signer.PublicKey.Compressed).Verify(message, Flip(signature, i * 61)));
            if (i < 2)
            {
                Assert.True(OpenSslCommandVerifies(signer.PublicKey.Compressed, message, signature));
            }
        }
    }

    [Fact]
    public void OpenSslCommandSignatures_VerifyOnBothBackends()
    {
        var directory = Directory.CreateTempSubdirectory("transit-sm2-");
        try
        {
            var keyFile = Path.Combine(directory.FullName, "key.pem");
            OpenSsl($"genpkey -algorithm SM2 -out {keyFile}");
            var publicDer = Path.Combine(directory.FullName, "key.pub.der");
            OpenSsl($"pkey -in {keyFile} -pubout -outform DER -out {publicDer}");
            var uncompressed = File.ReadAllBytes(publicDer)[^65..];
            var compressed = new byte[33];
            compressed[0] = (byte)(2 + (uncompressed[^1] & 1));
            uncompressed.AsSpan(1, 32).CopyTo(compressed.AsSpan(1));

            for (var i = 0; i < 4; i++)
            {
                var message = Encoding.ASCII.GetBytes($"TR1C signed by openssl {i}");
                var messageFile = Path.Combine(directory.FullName, $"m{i}");
                var signatureFile = Path.Combine(directory.FullName, $"s{i}.der");
                File.WriteAllBytes(messageFile, message);
                OpenSsl($"pkeyutl -sign -inkey {keyFile} -rawin -in {messageFile} -digest sm3 -pkeyopt distid:1234567812345678 -out {signatureFile}");
                var signature = DecodeDer(File.ReadAllBytes(signatureFile));

                foreach (var backend in new[] { "openssl", "bouncycastle" })
                {
                    var key = Import(backend, compressed);
                    Assert.True(key.Verify(message, signature), backend);
                    Assert.False(key.Verify(Flip(message, 3), signature), backend);
                }
            }
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public void RandomPoints_BothBackendsAgreeOnWhichAreOnTheCurve()
    {
        var random = new Random(32918);
        var accepted = 0;
        for (var i = 0; i < 200; i++)
        {
            var point = new byte[33];
            random.NextBytes(point);
            point[0] = (byte)(2 + (i & 1));
            var native = OpenSslSm2.TryImport(point, out var handle) == ImportOutcome.Imported;
            handle?.Dispose();
            Assert.Equal(Sm2PublicKey.TryCreateManaged(point, out _), native);
            accepted += native ? 1 : 0;
        }

        Assert.InRange(accepted, 60, 140); // about half of all x have a point
        var p = Convert.FromHexString("02FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF");
        Assert.Equal(ImportOutcome.InvalidPoint, OpenSslSm2.TryImport(p, out _)); // x = the field prime
        Assert.False(Sm2PublicKey.TryCreateManaged(p, out _));
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void OutOfRangeSignatureHalves_Refused(string backend)
    {
        var example = Sm2Curve.PublishedExample;
        var key = Import(backend, example.PublicKey);
        var n = Convert.FromHexString("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123");
        var r = example.Signature[..32];
        var s = example.Signature[32..];
        var zero = new byte[32];
        var ones = Enumerable.Repeat((byte)0xFF, 32).ToArray();
        foreach (var (badR, badS) in new[] { (zero, s), (r, zero), (n, s), (r, n), (ones, s), (r, ones), (zero, zero) })
        {
            Assert.False(key.Verify(example.Message, [.. badR, .. badS]));
        }

        Assert.False(key.Verify(example.Message, example.Signature[..63]));
        Assert.False(key.Verify(example.Message, [.. example.Signature, 0]));
    }

    [Fact]
    public void EncodeDer_MinimalIntegers_WithSignPaddingAndZero()
    {
        Span<byte> der = stackalloc byte[72];
        var r = new byte[32];
        r[31] = 5;
        var s = Enumerable.Repeat((byte)0x80, 32).ToArray();
        var length = OpenSslSm2.EncodeDer(r, s, der);
        Assert.Equal(Convert.FromHexString("3026020105022100" + Convert.ToHexString(s)), der[..length].ToArray());

        length = OpenSslSm2.EncodeDer(new byte[32], new byte[32], der);
        Assert.Equal(Convert.FromHexString("3006020100020100"), der[..length].ToArray());
    }

    [Fact]
    public void OneNativeKey_ManyThreadsVerifying_AllAgree()
    {
        using var signer = SigningKey.Generate(SignatureAlgorithm.Sm2);
        var key = Import("openssl", signer.PublicKey.Compressed);
        var messages = Enumerable.Range(0, 16).Select(i => BitConverter.GetBytes(i * 104729)).ToArray();
        var signatures = messages.Select(m => signer.Sign(m)).ToArray();
        var results = new bool[messages.Length * 8];
        Parallel.For(0, results.Length, i =>
        {
            var j = i % messages.Length;
            results[i] = key.Verify(messages[j], signatures[j]) && !key.Verify(messages[j], signatures[(j + 1) % messages.Length]);
        });

        Assert.All(results, r => Assert.True(r));
    }

    private static Sm2PublicKey Import(string backend, byte[] compressed)
    {
        PublicKey key;
        if (backend == "openssl")
        {
            Assert.True(Sm2PublicKey.TryCreate(compressed, out key));
            Assert.True(((Sm2PublicKey)key).IsNative, OpenSslSm2.Description);
        }
        else
        {
            Assert.True(Sm2PublicKey.TryCreateManaged(compressed, out key));
            Assert.False(((Sm2PublicKey)key).IsNative);
        }

        return (Sm2PublicKey)key;
    }

    private static bool VerifyOn(ECDomainParameters domain, ECPoint point, byte[] id, byte[] message, byte[] signature)
    {
        var signer = new SM2Signer(PlainDsaEncoding.Instance);
        signer.Init(false, new ParametersWithID(new ECPublicKeyParameters(point, domain), id));
        signer.BlockUpdate(message, 0, message.Length);
        return signer.VerifySignature(signature);
    }

    private static bool OpenSslCommandVerifies(byte[] compressed, byte[] message, byte[] signature)
    {
        var directory = Directory.CreateTempSubdirectory("transit-sm2-");
        try
        {
            // SubjectPublicKeyInfo: id-ecPublicKey with the sm2p256v1 OID, then the compressed point.
            var keyFile = Path.Combine(directory.FullName, "key.der");
            File.WriteAllBytes(keyFile, [.. Convert.FromHexString("3039301306072A8648CE3D020106082A811CCF5501822D032200"), .. compressed]);
            var messageFile = Path.Combine(directory.FullName, "message");
            File.WriteAllBytes(messageFile, message);
            var signatureFile = Path.Combine(directory.FullName, "signature.der");
            Span<byte> der = stackalloc byte[72];
            File.WriteAllBytes(signatureFile, der[..OpenSslSm2.EncodeDer(signature[..32], signature[32..], der)].ToArray());
            var (exitCode, output) = RunOpenSsl($"pkeyutl -verify -pubin -keyform DER -inkey {keyFile} -rawin -in {messageFile} -digest sm3 -pkeyopt distid:1234567812345678 -sigfile {signatureFile}");
            return exitCode == 0 && output.Contains("Signature Verified Successfully", StringComparison.Ordinal);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static void OpenSsl(string arguments)
    {
        var (exitCode, output) = RunOpenSsl(arguments);
        Assert.True(exitCode == 0, $"openssl {arguments}: {output}");
    }

    private static (int ExitCode, string Output) RunOpenSsl(string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo("openssl", arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output.Result + error);
    }

    /// <summary>r‖s from a DER <c>SEQUENCE { INTEGER, INTEGER }</c> as OpenSSL writes it.</summary>
    private static byte[] DecodeDer(byte[] der)
    {
        Assert.Equal(0x30, der[0]);
        var signature = new byte[64];
        var offset = 2;
        for (var half = 0; half < 2; half++)
        {
            Assert.Equal(0x02, der[offset]);
            var length = der[offset + 1];
            var value = der.AsSpan(offset + 2, length);
            value = value.Length > 32 ? value[^32..] : value;
            value.CopyTo(signature.AsSpan((half * 32) + 32 - value.Length));
            offset += 2 + length;
        }

        Assert.Equal(der.Length, offset);
        return signature;
    }

    private static byte[] Flip(byte[] bytes, int bit)
    {
        var copy = bytes.ToArray();
        copy[bit / 8] ^= (byte)(0x80 >> (bit % 8));
        return copy;
    }

    private static BcBigInteger Big(string hex) => new(hex, 16);
}
