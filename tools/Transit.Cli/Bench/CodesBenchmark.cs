using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Transit.RideCodes;
using Transit.Simulation.Harness.Bench;

namespace Transit.Cli;

/// <summary>
/// Verification throughput on one thread: (a) fresh codes, whose credential the verifier has not seen (issuer and
/// phone signature), and (b) codes whose credential was already verified (phone signature only), for P-256 and SM2,
/// against <c>openssl speed ecdsap256 sm2</c> and a raw .NET P-256 verify measured in the same run. Rates are per
/// second of the process's CPU time, the basis <c>openssl speed</c> counts on, so that other work on a shared machine
/// does not tilt the ratios; wall-clock rates are reported beside them.
/// </summary>
internal static partial class CodesBenchmark
{
    public const int DefaultCredentials = 2_000;
    private const int OpenSslSeconds = 5;

    public static Task<int> RunAsync(string reportPath, int credentials, CancellationToken cancellation)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(credentials, 10);
        var loadBefore = BenchmarkReport.Load();
        Console.WriteLine($"measuring openssl speed -seconds {OpenSslSeconds} ecdsap256 sm2 ...");
        var reference = OpenSslVerifyRates();
        var rawVerify = RawDotNetVerify();
        var rows = new List<Row>
        {
            new("openssl speed ecdsap256 verify (reference)", new Rate(reference.P256, double.NaN), reference.P256, ""),
            new(".NET ECDsa P-256 VerifyHash (raw, reference)", rawVerify, reference.P256, ""),
            new("openssl speed sm2 verify (reference)", new Rate(reference.Sm2, double.NaN), reference.Sm2, ""),
        };
        var met = true;
        foreach (var (algorithm, opensslVerify, freshShare, freshTargetText) in new[]
        {
            (SignatureAlgorithm.P256, reference.P256, 0.4 * 0.5, "0.4 × ½ openssl"),
            (SignatureAlgorithm.Sm2, reference.Sm2, 0.35, "0.35 × openssl"),
        })
        {
            cancellation.ThrowIfCancellationRequested();
            var (fresh, cached) = Measure(algorithm, credentials);
            Console.WriteLine($"{algorithm.ToName()} ({algorithm.VerifierLibrary()}): fresh {fresh.Cpu:N0}/CPU-s ({fresh.Wall:N0}/s wall), cached {cached.Cpu:N0}/CPU-s ({cached.Wall:N0}/s wall)");
            var freshTarget = freshShare * opensslVerify;
            var cachedTarget = 0.7 * opensslVerify;
            met &= fresh.Cpu >= freshTarget && cached.Cpu >= cachedTarget;
            rows.Add(new($"{algorithm.ToName()} fresh code (issuer + phone signature)", fresh, opensslVerify, Target(fresh.Cpu, freshTarget, freshTargetText)));
            rows.Add(new($"{algorithm.ToName()} cached credential (phone signature)", cached, opensslVerify, Target(cached.Cpu, cachedTarget, "0.7 × openssl")));
        }

        var table = BenchmarkReport.Table(
            ["measure", "codes/s (CPU)", "codes/s (wall)", "µs CPU per code", "ratio to openssl verify/s", "target"],
            [
                .. rows.Select(r => (IReadOnlyList<string>)
                [
                    r.Name,
                    BenchmarkReport.F(r.Rate.Cpu),
                    double.IsNaN(r.Rate.Wall) ? "" : BenchmarkReport.F(r.Rate.Wall),
                    BenchmarkReport.F(1e6 / r.Rate.Cpu, "F1"),
                    BenchmarkReport.F(r.Rate.Cpu / r.Reference, "F2"),
                    r.Target,
                ]),
            ]);
        var markdown = $"""
            ## Ride-code verification (`transit bench codes`)

            Command: `transit bench codes --credentials {credentials}`. Machine: {BenchmarkReport.Machine()}; {DateTime.UtcNow:yyyy-MM-dd}; load average {loadBefore} before, {BenchmarkReport.Load()} after
            (a shared machine). One thread; {credentials:N0} credentials per algorithm, each verified once fresh (new verifier,
            so issuer and phone signatures are checked) and once more with a new code under the cached credential (phone
            signature only), best of 3 rounds. Replay cache and deny list on, as at a gate. P-256 verifies with
            {SignatureAlgorithm.P256.VerifierLibrary()}, SM2 with {SignatureAlgorithm.Sm2.VerifierLibrary()}. Rates are per second
            of the process's CPU time (user + system), as `openssl speed -seconds {OpenSslSeconds} ecdsap256 sm2` counts its
            own (user time); the ratios compare those, and the wall-clock rates show what the machine's load took.

            {table}
            """;
        BenchmarkReport.WriteSection(reportPath, "codes", markdown);
        Console.WriteLine($"written to {reportPath}");
        return Task.FromResult(met ? 0 : 1);
    }

    private static string Target(double rate, double target, string text) =>
        $"≥ {BenchmarkReport.F(target)} ({text}): {(rate >= target ? "met" : "NOT met")}";

    private static (Rate Fresh, Rate Cached) Measure(SignatureAlgorithm algorithm, int count)
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

        Rate fresh = default, cached = default;
        for (var round = 0; round < 3; round++)
        {
            var verifier = new RideCodeVerifier(trust, replays: new ReplayCache());
            fresh = Rate.Best(fresh, Time(() => VerifyAll(verifier, first, now)));
            cached = Rate.Best(cached, Time(() => VerifyAll(verifier, second, now)));
        }

        return (fresh, cached);
    }

    private static int VerifyAll(RideCodeVerifier verifier, string[] codes, DateTimeOffset now)
    {
        foreach (var code in codes)
        {
            Check(verifier.Verify(code, now));
        }

        return codes.Length;
    }

    /// <summary>Runs <paramref name="work"/> once: the operations it reports per CPU second and per wall second.</summary>
    private static Rate Time(Func<int> work)
    {
        // Environment.CpuUsage reads getrusage (microseconds); Process.TotalProcessorTime counts 10 ms clock ticks.
        var cpu = Environment.CpuUsage.TotalTime;
        var watch = Stopwatch.StartNew();
        var operations = work();
        watch.Stop();
        var cpuSeconds = Math.Max((Environment.CpuUsage.TotalTime - cpu).TotalSeconds, 1e-6);
        return new Rate(operations / cpuSeconds, operations / watch.Elapsed.TotalSeconds);
    }

    private static void Check(VerificationResult result)
    {
        if (!result.Accepted)
        {
            throw new CliException($"benchmark code refused: {result.ReasonCode}", 1);
        }
    }

    /// <summary>Raw .NET ECDsa P-256 verifications per wall-clock second on one thread (best of three 1-second rounds).</summary>
    internal static double RawDotNetVerifyRate() => RawDotNetVerify().Wall;

    private static Rate RawDotNetVerify()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var hash = SHA256.HashData("transit"u8);
        var signature = key.SignHash(hash);
        Rate best = default;
        for (var round = 0; round < 3; round++)
        {
            best = Rate.Best(best, Time(() =>
            {
                var n = 0;
                var watch = Stopwatch.StartNew();
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

                return n;
            }));
        }

        return best;
    }

    private static (double P256, double Sm2) OpenSslVerifyRates()
    {
        var output = BenchmarkReport.RunReference("openssl", $"speed -seconds {OpenSslSeconds} ecdsap256 sm2", TimeSpan.FromMinutes(2));
        return (VerifyRate(OpenSslP256Line().Match(output), "ecdsap256"), VerifyRate(OpenSslSm2Line().Match(output), "sm2"));
    }

    private static double VerifyRate(Match match, string algorithm) =>
        match.Success
            ? double.Parse(match.Groups["verify"].Value, CultureInfo.InvariantCulture)
            : throw new CliException($"could not read verify/s of {algorithm} from 'openssl speed'", 1);

    [GeneratedRegex(@"nistp256\)\s+\S+s\s+\S+s\s+(?<sign>[\d.]+)\s+(?<verify>[\d.]+)")]
    private static partial Regex OpenSslP256Line();

    [GeneratedRegex(@"SM2 \(CurveSM2\)\s+\S+s\s+\S+s\s+(?<sign>[\d.]+)\s+(?<verify>[\d.]+)")]
    private static partial Regex OpenSslSm2Line();

    /// <summary>Operations per second of CPU time and of wall-clock time.</summary>
    internal readonly record struct Rate(double Cpu, double Wall)
    {
        public static Rate Best(Rate a, Rate b) => new(Math.Max(a.Cpu, b.Cpu), Math.Max(a.Wall, b.Wall));
    }

    private sealed record Row(string Name, Rate Rate, double Reference, string Target);
}
