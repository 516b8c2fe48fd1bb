using Transit.DeviceApi;
using Transit.GateAgent.Trust;
using Transit.RideCodes;

namespace Transit.GateAgent.Pipeline;

/// <summary>
/// The gate's rules on top of code verification: replay (the same code accepted before, within its freshness
/// window) and pass-back (the same account of the same issuer accepted at this device within the pass-back interval:
/// one account name at two issuers is two riders). Only accepted taps are remembered. Not thread-safe: the rules
/// stage alone calls it.
/// </summary>
public sealed class GateRules
{
    private const int SweepEvery = 1024;

    private readonly ReplayCache _replays = new();
    private readonly Dictionary<(string? Issuer, string Account), DateTimeOffset> _lastAccepted = [];
    private int _sinceSweep;

    /// <summary>Accounts currently remembered for pass-back.</summary>
    public int PassbackCount => _lastAccepted.Count;

    /// <summary>Codes currently remembered for replay.</summary>
    public int ReplayCount => _replays.Count;

    /// <summary>Decides a verified code at <paramref name="now"/>.</summary>
    public (bool Accepted, string Reason) Decide(VerificationResult verification, DateTimeOffset now, GateLimits limits)
    {
        ArgumentNullException.ThrowIfNull(verification);
        ArgumentNullException.ThrowIfNull(limits);
        if (!verification.Accepted)
        {
            return (false, verification.ReasonCode);
        }

        var code = verification.Code!;
        if (_replays.Contains(code.ReplayKey, now))
        {
            return (false, VerificationReason.Replayed.ToCode());
        }

        var account = (code.Credential.Issuer, code.Credential.Account);
        if (limits.Passback > TimeSpan.Zero && _lastAccepted.TryGetValue(account, out var last) && WithinPassback(now - last, limits.Passback))
        {
            return (false, TapReasons.Passback);
        }

        _replays.TryAdd(code.ReplayKey, ReplayCache.HoldUntil(code, limits.MaxAge), now);
        _lastAccepted[account] = now;
        if (++_sinceSweep >= SweepEvery)
        {
            _sinceSweep = 0;
            Sweep(now, limits.Passback);
        }

        return (true, VerificationReason.Ok.ToCode());
    }

    /// <summary>
    /// Rebuilds replay and pass-back memory from accepted taps read back from the journal after a restart, so a code
    /// accepted just before a crash is still refused as <c>replayed</c> after it.
    /// </summary>
    public int Restore(IEnumerable<(string Code, DateTimeOffset At, string? Account)> accepted, DateTimeOffset now, GateLimits limits)
    {
        ArgumentNullException.ThrowIfNull(accepted);
        ArgumentNullException.ThrowIfNull(limits);
        var restored = 0;
        foreach (var (text, at, accountName) in accepted)
        {
            var parsed = RideCodeFormat.TryParse(text, out var code) == ParseStatus.Ok;
            if (parsed && _replays.TryAdd(code.ReplayKey, ReplayCache.HoldUntil(code, limits.MaxAge), now))
            {
                restored++;
            }

            var account = (parsed ? code.Credential.Issuer : null, accountName!);
            if (accountName is not null && WithinPassback(now - at, limits.Passback)
                && (!_lastAccepted.TryGetValue(account, out var held) || held < at))
            {
                _lastAccepted[account] = at;
            }
        }

        return restored;
    }

    // A clock stepped backwards must not free every rider who tapped "later" than now, nor block them for hours.
    private static bool WithinPassback(TimeSpan sinceLast, TimeSpan passback) => sinceLast < passback && sinceLast > -passback;

    private void Sweep(DateTimeOffset now, TimeSpan passback)
    {
        List<(string?, string)>? expired = null;
        foreach (var (account, at) in _lastAccepted)
        {
            if (!WithinPassback(now - at, passback))
            {
                (expired ??= []).Add(account);
            }
        }

        expired?.ForEach(a => _lastAccepted.Remove(a));
    }
}
