using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Transit.RideCodes;

namespace Transit.Cli.Bench;

/// <summary>
/// Verification throughput on one thread: (a) fresh codes, whose credential the verifier has not seen (issuer and
/// phone signature), and (b) codes whose credential was already verified (phone signature only), against
/// <c>openssl speed ecdsap256</c> and a raw .NET P-256 verify measured in the same run.
/// </summary>
internal static partial class CodesBenchmark
{
    private const int Credentials = 2_000;

    public static Task<int> RunAsync(string reportPath, CancellationToken cancellation)
    {
        Console.WriteLine("measuring openssl speed -seconds 5 ecdsap256 ...");
        var opensslVerify = OpenSslVerifyRate();
        var rawVerify = RawDotNetVerifyRate();
        var rows = new List<(string Name, double Rate)>();
        foreach (var algorithm in new[] { SignatureAlgorithm.P256, SignatureAlgorithm.Sm2 })
        {
            cancellation.ThrowIfCancellationRequested();
            var (fresh, cached) = Measure(algorithm, algorithm == SignatureAlgorithm.P256 ? Credentials : Credentials / 4);
            rows.Add(($"{algorithm.ToName()} fresh code (issuer + phone signature)", fresh));
            rows.Add(($"{algorithm.ToName()} cached credential (phone signature)", cached));
            Console.WriteLine($"{algorithm.ToName()}: fresh {fresh:N0}/s, cached {cached:N0}/s");
        }

        var p256Fresh = rows[0].Rate;
        var p256Cached = rows[1].Rate;
        var freshTarget = 0.4 * 0.5 * opensslVerify;
        var cachedTarget = 0.7 * opensslVerify;
        var table = BenchmarkReport.Table(
            ["measure", "codes/s", "µs per code", "ratio to openssl verify/s", "target"],
            [
                ["openssl speed ecdsap256 verify (reference)", BenchmarkReport.F(opensslVerify), BenchmarkReport.F(1e6 / opensslVerify, "F1"), "1.00", ""],
                [".NET ECDsa P-256 VerifyHash (raw, reference)", BenchmarkReport.F(rawVerify), BenchmarkReport.F(1e6 / rawVerify, "F1"), BenchmarkReport.F(rawVerify / opensslVerify, "F2"), ""],
                .. rows.Select((r, i) => (IReadOnlyList<string>)
                [
                    r.Name,
                    BenchmarkReport.F(r.Rate),
                    BenchmarkReport.F(1e6 / r.Rate, "F1"),
                    BenchmarkReport.F(r.Rate / opensslVerify, "F2"),
                    i switch
                    {
                        0 => $"≥ {BenchmarkReport.F(freshTarget)} (0.4 × ½ openssl): {(p256Fresh >= freshTarget ? "met" : "NOT met")}",
                        1 => $"≥ {BenchmarkReport.F(cachedTarget)} (0.7 × openssl): {(p256Cached >= cachedTarget ? "met" : "NOT met")}",
                        _ => "reported",
                    },
                ]),
            ]);
        var markdown = $"""
            ## Ride-code verification (`transit bench codes`)

            Machine: {BenchmarkReport.Machine()}; {DateTime.UtcNow:yyyy-MM-dd}. One thread; {Credentials:N0} P-256 and {Credentials / 4:N0} SM2
            credentials, each verified once fresh (new verifier, so issuer and phone signatures are checked) and once more
            with a new code under the cached credential (phone signature only). Replay cache and deny list on, as at a gate.

            {table}
            """;
        BenchmarkReport.WriteSection(reportPath, "codes", markdown);
        Console.WriteLine($"written to {reportPath}");
        return Task.FromResult(p256Fresh >= freshTarget && p256Cached >= cachedTarget ? 0 : 1);
    }

    private static (double Fresh, double Cached) Measure(SignatureAlgorithm algorithm, int count)
    {
        var now = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        using var root = SigningKey.Generate(algorithm);
        using var issuer = SigningKey.Generate(algorithm);
        var keySet = new KeySet(1, now, [new IssuerKey(1, issuer.PublicKey, KeyStatus.Active, now.AddDays(-1), null)]);
        var trust = new TrustStore(root.PublicKey, keySet, new DenyList(1, now, ["someone-else"], []));
        var first = new string[count];
        var second = new string[count];
        for (var i = 0; i < count; i++)
        {
            using var phone = PhoneCredential.Issue(issuer, 1, string.Create(CultureInfo.InvariantCulture, $"acct{i:D8}"), "0", now.AddHours(-1), TimeSpan.FromHours(24));
            first[i] = phone.Show(now.AddSeconds(-2), 0).ToText();
            second[i] = phone.Show(now.AddSeconds(-1), 1).ToText();
        }

        double fresh = 0, cached = 0;
        for (var round = 0; round < 3; round++)
        {
            var verifier = new RideCodeVerifier(trust, replays: new ReplayCache());
            var watch = Stopwatch.StartNew();
            foreach (var code in first)
            {
                Check(verifier.Verify(code, now));
            }

            fresh = Math.Max(fresh, count / watch.Elapsed.TotalSeconds);
            watch.Restart();
            foreach (var code in second)
            {
                Check(verifier.Verify(code, now));
            }

            cached = Math.Max(cached, count / watch.Elapsed.TotalSeconds);
        }

        return (fresh, cached);
    }

    private static void Check(VerificationResult result)
    {
        if (!result.Accepted)
        {
            throw new CliException($"benchmark code refused: {result.ReasonCode}", 1);
        }
    }

    /// <summary>Raw .NET ECDsa P-256 verifications per second on one thread (best of three 1-second rounds).</summary>
    internal static double RawDotNetVerifyRate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var hash = SHA256.HashData("transit"u8);
        var signature = key.SignHash(hash);
        var best = 0.0;
        for (var round = 0; round < 3; round++)
        {
            var watch = Stopwatch.StartNew();
            var n = 0;
            while (watch.ElapsedMilliseconds < 1000)
            {
                for (var i = 0; i < 100; i++, n++)
                {
                    if (!key.VerifyHash(hash, signature))
                    {
                        throw new CliException("raw verify failed", 1);
                    }
                }
            }

            best = Math.Max(best, n / watch.Elapsed.TotalSeconds);
        }

        return best;
    }

    private static double OpenSslVerifyRate()
    {
        var output = BenchmarkReport.RunReference("openssl", "speed -seconds 5 ecdsap256", TimeSpan.FromMinutes(2));
        var match = OpenSslLine().Match(output);
        return match.Success
            ? double.Parse(match.Groups["verify"].Value, CultureInfo.InvariantCulture)
            : throw new CliException("could not read verify/s from 'openssl speed ecdsap256'", 1);
    }

    [GeneratedRegex(@"nistp256\)\s+\S+s\s+\S+s\s+(?<sign>[\d.]+)\s+(?<verify>[\d.]+)")]
    private static partial Regex OpenSslLine();
}
