using System.Diagnostics;
using System.Globalization;
using Transit.GateAgent.Pipeline;
using Transit.GateAgent.Trust;
using Transit.RideCodes;
using Transit.Simulation.Harness;
using Transit.Simulation.Harness.Bench;

namespace Transit.Cli;

/// <summary>
/// Whether a gate's decision slows with the number of issuers it accepts: the gate's own verifier and rules, in
/// process, over the trust of 1 issuer and of N issuers, each tap a fresh credential (issuer and phone signature
/// checked). The two configurations alternate tap by tap, so that a shared machine's drift falls on both alike; a
/// first round warms both up (JIT, each issuer key's first import) and is not counted.
/// No journal: its commit does not depend on issuers, and its fsync would hide a difference of microseconds.
/// </summary>
internal static class GateIssuersBenchmark
{
    private const int Rounds = 10;

    public static Task<int> RunAsync(string reportPath, int issuerCount, int taps, CancellationToken cancellation)
    {
        if (issuerCount < 2 || issuerCount > 1000)
        {
            throw new CliException($"--issuers {issuerCount}: compare 1 issuer with 2 to 1000 (the issue's figure is 20)");
        }

        if (taps < Rounds * 10)
        {
            throw new CliException($"--riders {taps}: at least {Rounds * 10} taps per configuration");
        }

        var load = BenchmarkReport.Load();
        var now = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        var limits = new GateLimits(TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(120));
        var options = new VerifierOptions { MaxAge = limits.MaxAge, MaxClockAhead = limits.MaxAhead };
        var issuers = Enumerable.Range(0, issuerCount).Select(i => new BenchIssuer(i == 0 ? null : string.Create(CultureInfo.InvariantCulture, $"i{i:D2}"), now)).ToList();
        try
        {
            var one = new IssuerTrust([issuers[0].Trust]);
            var many = new IssuerTrust(issuers.Select(i => i.Trust));
            var perRound = taps / Rounds;
            var single = new List<double>(taps);
            var several = new List<double>(taps);
            Console.WriteLine($"{Rounds} rounds of {perRound} taps, alternating 1 issuer and {issuerCount} issuers tap by tap, after a warm-up round ...");
            for (var round = 0; round <= Rounds; round++)
            {
                cancellation.ThrowIfCancellationRequested();
                // With one issuer every code is the home issuer's; with many, codes come from every issuer in turn,
                // so the measure includes looking each chain up.
                var (a, b) = Measure(
                    new Decider(one, options, limits, now), Codes(issuers, 1, perRound, round, now),
                    new Decider(many, options, limits, now), Codes(issuers, issuerCount, perRound, round, now));
                if (round > 0)
                {
                    single.AddRange(a);
                    several.AddRange(b);
                }
            }

            single.Sort();
            several.Sort();
            var p50One = DayReport.Percentile(single, 0.5);
            var p50Many = DayReport.Percentile(several, 0.5);
            var change = (p50Many / p50One) - 1;
            var met = Math.Abs(change) <= 0.05;
            var table = BenchmarkReport.Table(
                ["measure", "1 issuer", $"{issuerCount} issuers", "target", "met"],
                [
                    ["decision (verify + gate rules) p50", $"{p50One:F1} µs", $"{p50Many:F1} µs", "within 5 %", met ? $"met ({change:+0.0%;-0.0%})" : $"NOT met ({change:+0.0%;-0.0%})"],
                    ["decision p90", $"{DayReport.Percentile(single, 0.9):F1} µs", $"{DayReport.Percentile(several, 0.9):F1} µs", "reported", ""],
                    ["decision p99", $"{DayReport.Percentile(single, 0.99):F1} µs", $"{DayReport.Percentile(several, 0.99):F1} µs", "reported", ""],
                    ["taps measured", $"{single.Count:N0}", $"{several.Count:N0}", "", ""],
                ]);
            var markdown = $"""
                ## Gate decision with several issuers (`transit bench gate --issuers {issuerCount} --riders {taps}`)

                Machine: {BenchmarkReport.Machine()}; {DateTime.UtcNow:yyyy-MM-dd}; load average {load} at the start (shared
                with other builds and tests: absolute times move with the load, the comparison is what counts). The gate's
                verifier and rules in process, P-256, each tap a fresh credential (issuer and phone signature checked), over
                the trust of 1 issuer and of {issuerCount} issuers (each its own root, key set and deny list; codes from every issuer
                in turn), the two alternating tap by tap, after a warm-up round not counted. No journal commit, which does not
                depend on issuers.

                {table}
                """;
            BenchmarkReport.WriteSection(reportPath, "gate-issuers", markdown);
            Console.WriteLine(markdown);
            Console.WriteLine($"written to {reportPath}");
            return Task.FromResult(met ? 0 : 1);
        }
        finally
        {
            issuers.ForEach(i => i.Dispose());
        }
    }

    private static List<string> Codes(List<BenchIssuer> issuers, int count, int taps, int round, DateTimeOffset now)
    {
        var codes = new List<string>(taps);
        for (var i = 0; i < taps; i++)
        {
            using var phone = issuers[i % count].Phone(string.Create(CultureInfo.InvariantCulture, $"b{round:D2}{i:D5}"), now);
            codes.Add(phone.Show(now, 0).ToText());
        }

        return codes;
    }

    private static (List<double> A, List<double> B) Measure(Decider a, List<string> codesA, Decider b, List<string> codesB)
    {
        var timesA = new List<double>(codesA.Count);
        var timesB = new List<double>(codesB.Count);
        for (var i = 0; i < codesA.Count; i++)
        {
            timesA.Add(a.Time(codesA[i]));
            timesB.Add(b.Time(codesB[i]));
        }

        return (timesA, timesB);
    }

    private sealed class BenchIssuer : IDisposable
    {
        private readonly SigningKey _root = SigningKey.Generate(SignatureAlgorithm.P256);
        private readonly SigningKey _key = SigningKey.Generate(SignatureAlgorithm.P256);

        public BenchIssuer(string? id, DateTimeOffset now)
        {
            Id = id;
            Trust = new TrustStore(
                _root.PublicKey,
                new KeySet(1, now, [new IssuerKey(1, _key.PublicKey, KeyStatus.Active, now.AddDays(-1), null)], issuer: id),
                new DenyList(1, now, [], []));
        }

        public string? Id { get; }

        public TrustStore Trust { get; }

        public PhoneCredential Phone(string account, DateTimeOffset now) =>
            PhoneCredential.Issue(_key, 1, account, "1", now.AddHours(-1), TimeSpan.FromHours(24), Id);

        public void Dispose()
        {
            _root.Dispose();
            _key.Dispose();
        }
    }

    /// <summary>A gate's decision: its verifier (no replay check of its own) and its rules, as the agent runs them.</summary>
    private sealed class Decider(IssuerTrust trust, VerifierOptions options, GateLimits limits, DateTimeOffset now)
    {
        private readonly RideCodeVerifier _verifier = new(trust, options, CliParsing.Clock(now));
        private readonly GateRules _rules = new();

        public double Time(string code)
        {
            var start = Stopwatch.GetTimestamp();
            var (accepted, reason) = _rules.Decide(_verifier.Verify(code, now), now, limits);
            var micros = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            return accepted ? micros : throw new CliException($"benchmark code refused: {reason}", 1);
        }
    }
}
