using System.Diagnostics;
using System.Text.Json;
using Transit.GateAgent.Journal;
using Transit.GateAgent.Trust;
using Transit.RideCodes;

namespace Transit.GateAgent.Pipeline;

/// <summary>
/// Takes the decision path once before the agent reports ready, so that the first rider of the day does not pay for
/// loading libcrypto, compiling the verifier, the rules and the journal statements (on an ARM board that first tap
/// was 10–30 times the median). The self-test code is signed by a throwaway key in a trust store of its own: it
/// proves the crypto works and leaves the gate's own trust, replay memory and journal untouched.
/// </summary>
public static class DecisionWarmup
{
    /// <summary>Runs the warm-up; returns how long it took.</summary>
    /// <exception cref="InvalidOperationException">The self-test code was refused: the signature library is broken.</exception>
    public static TimeSpan Run(GateState state, TapJournal journal, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(journal);
        ArgumentNullException.ThrowIfNull(time);
        var watch = Stopwatch.StartNew();
        var at = DateTimeOffset.FromUnixTimeSeconds(time.GetUtcNow().ToUnixTimeSeconds());
        foreach (var algorithm in state.Trust.KeySet.Keys.Select(k => k.PublicKey.Algorithm).Distinct().DefaultIfEmpty(SignatureAlgorithm.P256))
        {
            SelfTest(algorithm, at, state.Limits, time);
        }

        PrimeIssuerKeys(state, at);
        journal.WarmUp(state.Context);
        return watch.Elapsed;
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
        const ushort keyId = 1;
        var keySet = new KeySet(1, at.AddDays(-1), [new IssuerKey(keyId, issuer.PublicKey, KeyStatus.Active, at.AddDays(-1), null)]);
        var trust = new TrustStore(root.PublicKey, keySet, new DenyList(1, at.AddDays(-1), [], []));
        var verifier = new RideCodeVerifier(trust, new VerifierOptions { MaxAge = limits.MaxAge, MaxClockAhead = limits.MaxAhead }, time, new ReplayCache());
        using var phone = PhoneCredential.Issue(issuer, keyId, "self-test", "0", at.AddHours(-1), TimeSpan.FromHours(2));

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
        _ = JsonSerializer.Serialize(new TapOutcome(0, true, fresh.ReasonCode, 0, fresh.Account, at.UtcDateTime), GateJson.Wire.TapOutcome);
    }
}
