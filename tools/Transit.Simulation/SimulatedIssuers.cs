using System.Globalization;
using System.Text;
using Transit.RideCodes;

namespace Transit.Simulation;

/// <summary>An issuer whose codes the simulated city's gates accept (docs/interoperability.md).</summary>
/// <param name="Id">Its issuer id (<see cref="IssuerIds.Home"/> for the operator's own app, whose codes are TR1).</param>
/// <param name="Name">What the day report calls it.</param>
/// <param name="Algorithm">Its signature algorithm: <c>p256</c> or <c>sm2</c>.</param>
/// <param name="FeeBasisPoints">
/// The platform fee its acceptance agreement sets on its riders' fares; null for the operator's own issuer, whose fee is
/// clearing's platform fee.
/// </param>
public sealed record SimulatedIssuer(string Id, string Name, string Algorithm, int? FeeBasisPoints);

/// <summary>
/// The issuers of a simulated city and which rider holds whose code: the city's own app, a national wallet on SM2,
/// a twin city's card under a bilateral agreement, then bank apps, as in the cities of the national interoperability
/// scheme. Deterministic for a seed.
/// </summary>
public static class SimulatedIssuers
{
    /// <summary>Most issuers a simulation takes, as <c>transit bench gate --issuers</c>.</summary>
    public const int Max = 20;

    /// <summary>Share of riders on the city's own app when other issuers are present.</summary>
    public const double HomeShare = 0.5;

    /// <summary>The first <paramref name="count"/> issuers of the city, its own app first.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is not 1 to <see cref="Max"/>.</exception>
    public static IReadOnlyList<SimulatedIssuer> Standard(int count)
    {
        if (count is < 1 or > Max)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, $"a simulated city has 1 to {Max} issuers");
        }

        SimulatedIssuer[] named =
        [
            new(IssuerIds.Home, "city app", "p256", null),
            new("nat", "national wallet", "sm2", 60),
            new("twin", "twin city's card", "p256", 100),
        ];
        return [.. named.Take(count), .. Enumerable.Range(named.Length, Math.Max(0, count - named.Length))
            .Select(i => new SimulatedIssuer(string.Create(CultureInfo.InvariantCulture, $"b{i - named.Length + 1}"),
                string.Create(CultureInfo.InvariantCulture, $"bank app {i - named.Length + 1}"), "p256", 80))];
    }

    /// <summary>
    /// Most riders a city with other issuers takes: their riders' accounts are the rider's number in base 36, at most
    /// four characters, because a code naming its issuer has room for only
    /// <see cref="Credential.MaxAccountCategoryAndIssuerLength"/> characters of account, category and issuer id.
    /// </summary>
    public const int MaxRiders = 36 * 36 * 36 * 36;

    /// <summary>
    /// Gives each rider an issuer: <see cref="HomeShare"/> of them the city's own, the rest spread evenly over the others.
    /// A rider keeps its issuer for every day of the run.
    /// </summary>
    public static IReadOnlyList<Rider> Assign(IReadOnlyList<Rider> riders, IReadOnlyList<SimulatedIssuer> issuers, int seed)
    {
        ArgumentNullException.ThrowIfNull(riders);
        ArgumentNullException.ThrowIfNull(issuers);
        if (issuers.Count == 0 || issuers[0].Id != IssuerIds.Home)
        {
            throw new ArgumentException("the city's own issuer comes first", nameof(issuers));
        }

        if (issuers.Count == 1)
        {
            return riders;
        }

        if (riders.Count > MaxRiders)
        {
            throw new ArgumentOutOfRangeException(nameof(riders), riders.Count, $"a city with other issuers takes at most {MaxRiders:N0} riders");
        }

        var random = new Random(unchecked(seed * 31 + 16));
        return [.. riders.Select((rider, index) => random.NextDouble() < HomeShare
            ? rider
            : rider with { Issuer = issuers[1 + random.Next(issuers.Count - 1)].Id, Account = ExternalAccount(index) })];
    }

    /// <summary>
    /// The account of the rider at <paramref name="index"/> when another issuer holds it: the index in base 36, unique
    /// across the city (the home issuer's accounts are longer, such as <c>r0000042</c>).
    /// </summary>
    public static string ExternalAccount(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, MaxRiders);
        const string Digits = "0123456789abcdefghijklmnopqrstuvwxyz";
        var account = new StringBuilder();
        do
        {
            account.Insert(0, Digits[index % 36]);
            index /= 36;
        }
        while (index > 0);

        return account.ToString();
    }
}
