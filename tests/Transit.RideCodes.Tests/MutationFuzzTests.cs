using FsCheck;
using FsCheck.Fluent;
using Transit.RideCodes;

namespace Transit.RideCodes.Tests;

/// <summary>
/// Mutations of valid codes — flipped bits, truncation, extension, fields swapped between two credentials, text
/// edits — and arbitrary input: the verifier must never throw and never accept. over 100,000 mutated codes (110,000 cases) with
/// TRANSIT_TEST_SIZE=full, 4,000 in CI.
/// </summary>
[Trait("Category", "Fuzz")]
public sealed class MutationFuzzTests : IDisposable
{
    private const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
    private static readonly DateTimeOffset Now = TestIssuer.Now;

    private readonly TestIssuer _issuer = new();
    private readonly List<PhoneCredential> _phones = [];
    private readonly byte[][] _codes;

    private readonly ITestOutputHelper _output;

    public MutationFuzzTests(ITestOutputHelper output)
    {
        _output = output;
        // Accounts of equal length keep field offsets aligned, so any field can be swapped between two codes.
        for (var i = 0; i < 6; i++)
        {
            _phones.Add(_issuer.Phone($"acct-{i:D4}", i % 2 == 0 ? "0" : "1", Now.AddMinutes(-30 - i), 24 + i));
        }

        _codes = [.. _phones.SelectMany(p => new[] { p.Show(Now.AddSeconds(-5), 1).ToBytes(), p.Show(Now.AddSeconds(-2), 2).ToBytes() })];
    }

    private enum Kind
    {
        FlipBit,
        Truncate,
        Extend,
        SwapField,
        ReplaceChar,
        DeleteChar,
        InsertChar,
        RandomPayload,
        RandomText,
    }

    [Fact]
    public void Verify_MutatedOrArbitraryCodes_NeverThrowsNeverAccepts()
    {
        var verifier = new RideCodeVerifier(_issuer.Trust, time: new FixedClock(Now));
        foreach (var code in _codes)
        {
            Assert.True(verifier.Verify(RideCodeFormat.Prefix + Base45.Encode(code)).Accepted);
        }

        var cases = TestSize.Pick(ci: 4_000, full: 110_000);
        var mutations =
            from kind in Gen.Elements(Enum.GetValues<Kind>())
            from source in Gen.Choose(0, _codes.Length - 1)
            from other in Gen.Choose(0, _codes.Length - 1)
            from position in Gen.Choose(0, 400)
            from value in Gen.Choose(0, 0xFFFF)
            from extra in Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b))
            select new Mutation(kind, source, other, position, value, extra);
        var tried = 0;
        Prop.ForAll(mutations.ToArbitrary(), mutation =>
        {
            var text = Apply(mutation);
            if (text is null)
            {
                return true;
            }

            tried++;
            var result = verifier.Verify(text);
            return !result.Accepted && verifier.UnexpectedErrors == 0;
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(cases).WithQuietOnSuccess(true));

        _output.WriteLine($"{tried} mutated codes verified, none accepted, no exception");
        Assert.Equal(0, verifier.UnexpectedErrors);
        Assert.True(tried > cases * 9 / 10, $"only {tried} of {cases} mutations changed the code");
    }

    [Fact]
    public void Verify_EveryTruncationAndEverySingleBitFlipOfOneCode_Refused()
    {
        var verifier = new RideCodeVerifier(_issuer.Trust, time: new FixedClock(Now));
        var code = _codes[0];
        for (var length = 0; length < code.Length; length++)
        {
            Assert.False(verifier.Verify(RideCodeFormat.Prefix + Base45.Encode(code.AsSpan(0, length))).Accepted);
        }

        for (var bit = 0; bit < code.Length * 8; bit++)
        {
            var flipped = (byte[])code.Clone();
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.False(verifier.Verify(RideCodeFormat.Prefix + Base45.Encode(flipped)).Accepted);
        }

        Assert.Equal(0, verifier.UnexpectedErrors);
    }

    public void Dispose()
    {
        _phones.ForEach(p => p.Dispose());
        _issuer.Dispose();
    }

    private string? Apply(Mutation m)
    {
        var original = _codes[m.Source];
        var bytes = (byte[])original.Clone();
        var text = RideCodeFormat.Prefix + Base45.Encode(bytes);
        switch (m.Kind)
        {
            case Kind.FlipBit:
                bytes[m.Position % bytes.Length] ^= (byte)(1 << (m.Value % 8));
                return Encode(bytes, original);
            case Kind.Truncate:
                return Encode(bytes[..(m.Position % bytes.Length)], original);
            case Kind.Extend:
                return Encode([.. bytes, .. m.Extra.Length == 0 ? new byte[] { (byte)m.Value } : m.Extra], original);
            case Kind.SwapField:
                var (start, length) = Fields(bytes)[m.Value % 10];
                _codes[m.Other].AsSpan(start, length).CopyTo(bytes.AsSpan(start));
                return Encode(bytes, original);
            case Kind.ReplaceChar:
                return Edit(text, m.Position, 1, ((char)(m.Value % 3 == 0 ? m.Value : Alphabet[m.Value % Alphabet.Length])).ToString());
            case Kind.DeleteChar:
                return Edit(text, m.Position, 1, "");
            case Kind.InsertChar:
                return Edit(text, m.Position, 0, Alphabet[m.Value % Alphabet.Length].ToString());
            case Kind.RandomPayload:
                return RideCodeFormat.Prefix + Base45.Encode(m.Extra);
            default:
                return new string(m.Extra.Select(b => (char)(b % 3 == 0 ? b * 131 : Alphabet[b % Alphabet.Length])).ToArray());
        }

        string? Edit(string s, int position, int remove, string insert)
        {
            var at = position % s.Length;
            var edited = s.Remove(at, Math.Min(remove, s.Length - at)).Insert(at, insert);
            return edited == s ? null : edited;
        }
    }

    private static string? Encode(byte[] mutated, byte[] original) =>
        mutated.AsSpan().SequenceEqual(original) ? null : RideCodeFormat.Prefix + Base45.Encode(mutated);

    /// <summary>Offsets and lengths of the code's fields (layout in docs/ride-code.md).</summary>
    private static (int Start, int Length)[] Fields(byte[] code)
    {
        var accountAndCategory = (code[16] >> 4) + 1 + (code[16] & 0x0F);
        var key = 17 + accountAndCategory;
        return
        [
            (0, 2), (2, 8), (10, 4), (14, 2), (16, 1 + accountAndCategory), (key, 33), (key + 33, 64),
            (key + 97, 3), (key + 100, 1), (key + 101, 64),
        ];
    }

    private sealed record Mutation(Kind Kind, int Source, int Other, int Position, int Value, byte[] Extra);
}
