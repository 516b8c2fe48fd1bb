using System.Globalization;
using Transit.RideCodes;

namespace Transit.Clearing.Charges;

/// <summary>
/// One revision of a rider's day: the difference to collect (or refund, when negative) against what the day's earlier
/// revisions charged. <see cref="ChargeId"/> is given by the store when the charge is written.
/// </summary>
public sealed record Charge(string Account, string Issuer, int Revision, long Amount, string IdempotencyKey)
{
    /// <summary>The charge's id, set by <see cref="ChargeStore"/> just before it writes the charge.</summary>
    public long ChargeId { get; set; }

    /// <summary>
    /// The status a new charge starts in. A reallocation between operators moves no money from the rider: nothing to
    /// collect. Another issuer's rider is never charged here: the issuer owes the amount through its statement.
    /// </summary>
    public string InitialStatus => Issuer != IssuerIds.Home ? "issuer-billed" : Amount == 0 ? "succeeded" : "pending";
}

/// <summary>
/// The day's third stage, after prices and caps: what a rider's day charges. Pure: a rerun that prices the day to the
/// same total and the same operators' shares makes no charge, so reruns are idempotent; a different total or a
/// different split makes the next revision with the difference only.
/// </summary>
public static class ChargeRules
{
    /// <summary>
    /// The charge of <paramref name="account"/>'s <paramref name="day"/> priced at <paramref name="pricedTotal"/>, given
    /// what its last revision (<paramref name="previousRevision"/>) charged in all (<paramref name="previouslyCharged"/>);
    /// null when nothing changed. <paramref name="sharesMoved"/> says whether the operators' shares changed (a
    /// reallocation is a revision of amount 0).
    /// </summary>
    public static Charge? Next(
        string account, string issuer, DateOnly day, long pricedTotal, int previousRevision, long previouslyCharged, bool sharesMoved)
    {
        var difference = checked(pricedTotal - previouslyCharged);
        if (difference == 0 && !sharesMoved)
        {
            return null;
        }

        var revision = checked(previousRevision + 1);
        return new Charge(account, issuer, revision, difference, IdempotencyKey(account, day, revision));
    }

    /// <summary>The payment provider's idempotency key of one revision: a resubmission can never charge twice.</summary>
    public static string IdempotencyKey(string account, DateOnly day, int revision) =>
        string.Create(CultureInfo.InvariantCulture, $"charge:{account}:{day:yyyy-MM-dd}:r{revision}");
}
