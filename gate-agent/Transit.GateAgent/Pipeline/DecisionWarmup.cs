using System.Diagnostics;
using System.Text.Json;
using Transit.GateAgent.Taps;
using Transit.GateAgent.Trust;
using Transit.RideCodes;

namespace Transit.GateAgent.Pipeline;

/// <summary>
/// Takes the decision path before the agent reports ready, so that the first rider of the day does not pay for
/// loading libcrypto, compiling the verifier, the rules, the stages and the journal statement (on an ARM board that
/// first tap was 10–30 times the median). Self-test codes are signed by a throwaway key in a trust store of its own:
/// they prove the crypto works and leave the gate's own trust, replay memory and journal untouched.
/// </summary>
public static class DecisionWarmup
{
    /// <summary>
    /// Self-test taps pushed through the running pipeline before ready. The first compiles the stages; the later ones
    /// run the code the first one compiled a few more times, which on x64 and under emulation took the first rider
    /// from 4.8 and 8.4 times the median towards it (docs/benchmarks.md, section gate-arch). Four rather than three:
    /// the fourth code and account make the replay and pass-back memories grow for the first time (a dictionary
    /// starts with room for three), whose resize the JIT otherwise compiled during the first real riders.
    /// </summary>
    internal const int PipelineTaps = 4;

    /// <summary>Checks each signature algorithm of the key set and loads the issuer keys; returns how long it took.</summary>
    /// <exception cref="InvalidOperationException">The self-test code was refused: the signature library is broken.</exception>
    public static TimeSpan Run(GateState state, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(time);
        var watch = Stopwatch.StartNew();
        var at = DateTimeOffset.FromUnixTimeSeconds(time.GetUtcNow().ToUnixTimeSeconds());
        foreach (var algorithm in Algorithms(state))
        {
            SelfTest(algorithm, at, state.Limits, time);
        }

        PrimeIssuerKeys(state, at);
        return watch.Elapsed;
    }

    /// <summary>
    /// Pushes <see cref="PipelineTaps"/> self-test taps through the started stages (channels, thread hand-overs,
    /// verification, rules, the journal's insert rolled back plus one durable commit, the answer) and waits for each
    /// answer; returns how long it took.
    /// </summary>
    /// <exception cref="InvalidOperationException">A self-test tap was refused.</exception>
    public static async Task<TimeSpan> RehearseAsync(GatePipeline pipeline, GateState state, TimeProvider time, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(time);
        var watch = Stopwatch.StartNew();
        var at = DateTimeOffset.FromUnixTimeSeconds(time.GetUtcNow().ToUnixTimeSeconds());
        var algorithm = Algorithms(state).First();
        using var root = SigningKey.Generate(algorithm);
        using var issuer = SigningKey.Generate(algorithm);
        var verifier = ThrowawayVerifier(root, issuer, at, state.Limits, time);
        for (var i = 0; i < PipelineTaps; i++)
        {
            // A fresh credential and account each time, as riders come: the uncached verification, and no pass-back.
            using var phone = PhoneCredential.Issue(issuer, ThrowawayKeyId, $"self-test-{i}", "0", at.AddHours(-1), TimeSpan.FromHours(2));
            var reply = new TaskCompletionSource<TapOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
            var scan = new ScanRead(phone.Show(time.GetUtcNow(), 0).ToText(), "self-test", Stopwatch.GetTimestamp(), reply) { SelfTestVerifier = verifier };
            await pipeline.SubmitAsync(scan, cancellation).ConfigureAwait(false);
            var outcome = await reply.Task.WaitAsync(TimeSpan.FromMinutes(1), cancellation).ConfigureAwait(false);

            // A full disk refuses every scan until space returns; the gate still starts and says so on /health.
            if (!outcome.Accepted && outcome.Reason != Hardware.GateController.JournalFull)
            {
                throw new InvalidOperationException($"the self-test tap through the pipeline was refused ({outcome.Reason}): the gate cannot decide");
            }
        }

        return watch.Elapsed;
    }

    private const ushort ThrowawayKeyId = 1;

    private static IEnumerable<SignatureAlgorithm> Algorithms(GateState state) =>
        state.Trust.KeySet.Keys.Select(k => k.PublicKey.Algorithm).Distinct().DefaultIfEmpty(SignatureAlgorithm.P256);

    private static RideCodeVerifier ThrowawayVerifier(SigningKey root, SigningKey issuer, DateTimeOffset at, GateLimits limits, TimeProvider time)
    {
        var keySet = new KeySet(1, at.AddDays(-1), [new IssuerKey(ThrowawayKeyId, issuer.PublicKey, KeyStatus.Active, at.AddDays(-1), null)]);
        var trust = new TrustStore(root.PublicKey, keySet, new DenyList(1, at.AddDays(-1), [], []));
        return new RideCodeVerifier(trust, new VerifierOptions { MaxAge = limits.MaxAge, MaxClockAhead = limits.MaxAhead }, time, new ReplayCache());
    }

    /// <summary>
    /// Each usable issuer key of the gate's own key set is loaded into the signature library on its first use: a
    /// credential that names the key but is signed by a throwaway one makes the real verifier load it now, and is
    /// refused (refusals are neither cached nor remembered for replay, so nothing of it stays).
    /// </summary>
    private static void PrimeIssuerKeys(GateState state, DateTimeOffset at)
    {
        foreach (var key in state.Trust.KeySet.Keys.Where(k => k.Status != KeyStatus.Revoked))
        {
            using var stranger = SigningKey.Generate(key.PublicKey.Algorithm);
            using var phone = PhoneCredential.Issue(stranger, key.KeyId, "self-test", "0", at.AddHours(-1), TimeSpan.FromHours(2));
            var result = state.Verifier.Verify(phone.Show(at, 0).ToText(), at);
            if (result.Accepted)
            {
                throw new InvalidOperationException($"issuer key {key.KeyId} accepted a credential signed by another key: the signature library does not work on this machine");
            }
        }
    }

    private static void SelfTest(SignatureAlgorithm algorithm, DateTimeOffset at, GateLimits limits, TimeProvider time)
    {
        using var root = SigningKey.Generate(algorithm);
        using var issuer = SigningKey.Generate(algorithm);
        var verifier = ThrowawayVerifier(root, issuer, at, limits, time);
        using var phone = PhoneCredential.Issue(issuer, ThrowawayKeyId, "self-test", "0", at.AddHours(-1), TimeSpan.FromHours(2));

        // A fresh credential, the same credential again (the cached path), and a forged code (the refusal path).
        var fresh = verifier.Verify(phone.Show(at, 0).ToText(), at);
        var cached = verifier.Verify(phone.Show(at, 1).ToText(), at);
        var forged = phone.Show(at, 2).ToText();
        var refused = verifier.Verify(forged[..^1] + (forged[^1] == '0' ? '1' : '0'), at);
        if (!fresh.Accepted || !cached.Accepted || refused.Accepted)
        {
            throw new InvalidOperationException(
                $"the {algorithm.ToName()} self-test failed (fresh {fresh.ReasonCode}, cached {cached.ReasonCode}, forged {refused.ReasonCode}): the signature library does not work on this machine");
        }

        var rules = new GateRules();
        rules.Decide(fresh, at, limits);
        rules.Decide(fresh, at, limits);
        _ = JsonSerializer.Serialize(new TapOutcome(0, true, fresh.ReasonCode, 0, fresh.Account, at.UtcDateTime), TapJson.Wire.TapOutcome);
    }
}
