using System.Globalization;
using System.Text;

namespace Transit.FareRules.Tests;

/// <summary>
/// The transfer planner against a brute-force enumeration written independently: random feeds of three leg groups and
/// random transfer rules (counts, duration limits of every type, all three transfer types, discounts), random chains
/// of up to five legs; the engine's total must equal the cheapest valid assignment of transfers.
/// </summary>
public class PlannerPropertyTests
{
    private sealed record Rule(int From, int To, int? Count, int? Limit, int LimitType, int Type, long Amount);

    [Fact]
    public void Price_RandomChains_MatchBruteForceEnumeration()
    {
        var random = new Random(42);
        for (var round = 0; round < 200; round++)
        {
            long[] legAmounts = [random.Next(1, 6) * 50, random.Next(1, 6) * 50, random.Next(1, 6) * 50];
            var rules = new List<Rule>();
            for (var r = random.Next(1, 7); r > 0; r--)
            {
                var (from, to) = (random.Next(3), random.Next(3));
                var type = random.Next(3);
                rules.Add(new Rule(
                    from,
                    to,
                    from == to ? new[] { -1, 1, 2, 3 }[random.Next(4)] : null,
                    random.Next(3) == 0 ? null : random.Next(5, 40) * 60,
                    random.Next(4),
                    type,
                    (random.Next(0, 6) - (type == 1 ? 3 : 0)) * 25));
            }

            var legCount = random.Next(2, 6);
            var networks = Enumerable.Range(0, legCount).Select(_ => random.Next(3)).ToArray();
            var legs = new FareLeg[legCount];
            var time = Feeds.At("08:00");
            for (var i = 0; i < legCount; i++)
            {
                var end = time.AddMinutes(random.Next(3, 20));
                legs[i] = new FareLeg("r" + "ABC"[networks[i]], "s1", "s2", time, end);
                time = end.AddMinutes(random.Next(0, 15));
            }

            var engine = new FareEngine(Feeds.Valid(Files(legAmounts, rules)));
            var expected = BruteForce(legAmounts, rules, networks, legs);

            Assert.True(expected == engine.Price(legs).Total, $"round {round}: expected {expected}, got {engine.Price(legs).Total}");
        }
    }

    private static (string, string)[] Files(long[] legAmounts, List<Rule> rules)
    {
        var products = new StringBuilder("fare_product_id,amount,currency\n");
        for (var g = 0; g < 3; g++)
        {
            products.Append(CultureInfo.InvariantCulture, $"P{g},{Currencies.Format(legAmounts[g], "USD")},USD\n");
        }

        var transfers = new StringBuilder("from_leg_group_id,to_leg_group_id,transfer_count,duration_limit,duration_limit_type,fare_transfer_type,fare_product_id\n");
        for (var r = 0; r < rules.Count; r++)
        {
            var rule = rules[r];
            products.Append(CultureInfo.InvariantCulture, $"T{r},{Currencies.Format(rule.Amount, "USD")},USD\n");
            transfers.Append(CultureInfo.InvariantCulture, $"g{rule.From},g{rule.To},{rule.Count},{rule.Limit},{(rule.Limit is null ? "" : rule.LimitType)},{rule.Type},T{r}\n");
        }

        return
        [
            ("fare_products.txt", products.ToString()),
            ("fare_leg_rules.txt", "leg_group_id,network_id,fare_product_id\ng0,netA,P0\ng1,netB,P1\ng2,netC,P2\n"),
            ("fare_transfer_rules.txt", transfers.ToString()),
        ];
    }

    /// <summary>Tries every choice of "no transfer" or a rule at each link, keeps the valid ones, returns the cheapest.</summary>
    private static long BruteForce(long[] legAmounts, List<Rule> rules, int[] groups, FareLeg[] legs)
    {
        var links = legs.Length - 1;
        var choices = new int[links];
        var best = long.MaxValue;
        while (true)
        {
            if (Cost(legAmounts, rules, groups, legs, choices) is { } cost)
            {
                best = Math.Min(best, cost);
            }

            var k = 0;
            while (k < links && ++choices[k] > rules.Count)
            {
                choices[k++] = 0;
            }

            if (k == links)
            {
                return best;
            }
        }
    }

    /// <summary>The cost of one assignment (choice 0: no transfer; c: rule c-1), or null when a transfer is not allowed.</summary>
    private static long? Cost(long[] legAmounts, List<Rule> rules, int[] groups, FareLeg[] legs, int[] choices)
    {
        long total = legAmounts[groups[0]];
        var run = 0;
        for (var k = 0; k < choices.Length; k++)
        {
            var (from, to) = (groups[k], groups[k + 1]);
            if (choices[k] == 0)
            {
                total += legAmounts[to];
                run = 0;
                continue;
            }

            var rule = rules[choices[k] - 1];
            if (rule.From != from || rule.To != to)
            {
                return null;
            }

            var continues = k > 0 && choices[k - 1] != 0 && groups[k - 1] == from && from == to;
            run = continues ? run + 1 : 1;
            var first = legs[k + 1 - run];
            if (!Within(rule, first, legs[k + 1]))
            {
                return null;
            }

            // transfer_count: the rule must have the smallest count that allows this many transfers.
            if (rule.Count is { } count)
            {
                var allowed = rules.Where(r => r.From == from && r.To == to && r.Count is { } c && (c == -1 || c >= run) && Within(r, first, legs[k + 1]))
                    .Select(r => r.Count == -1 ? int.MaxValue : r.Count!.Value).DefaultIfEmpty(-2).Min();
                if ((count == -1 ? int.MaxValue : count) != allowed)
                {
                    return null;
                }
            }

            var previousStartsChain = k == 0 || choices[k - 1] == 0;
            total += rule.Type switch
            {
                0 => rule.Amount,
                1 => rule.Amount + legAmounts[to],
                _ => rule.Amount - (previousStartsChain ? legAmounts[from] : 0),
            };
        }

        return total;
    }

    private static bool Within(Rule rule, FareLeg first, FareLeg last)
    {
        if (rule.Limit is not { } limit)
        {
            return true;
        }

        var (a, b) = rule.LimitType switch
        {
            0 => (first.Start, last.End),
            1 => (first.Start, last.Start),
            2 => (first.End, last.Start),
            _ => (first.End, last.End),
        };
        return (b - a).TotalSeconds <= limit;
    }
}
