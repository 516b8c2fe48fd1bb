namespace Transit.Clearing.Settlement;

/// <summary>Exact division of amounts (docs/settlement.md).</summary>
public static class Apportionment
{
    /// <summary>
    /// Splits <paramref name="total"/> in proportion to <paramref name="weights"/> (negative weights count as 0):
    /// each part is first rounded towards zero, then the units left over go one each to the parts with the largest
    /// remainders (ties: the earlier part). The parts always sum to <paramref name="total"/>. With no positive
    /// weight the split is equal.
    /// </summary>
    public static long[] LargestRemainder(long total, IReadOnlyList<long> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        var parts = new long[weights.Count];
        if (parts.Length == 0)
        {
            return total == 0 ? parts : throw new ArgumentException("cannot apportion a non-zero amount over nothing", nameof(weights));
        }

        if (total == 0)
        {
            return parts;
        }

        var w = weights.Select(x => Math.Max(0, x)).ToArray();
        Int128 sum = 0;
        foreach (var x in w)
        {
            sum += x;
        }

        if (sum == 0)
        {
            Array.Fill(w, 1);
            sum = w.Length;
        }

        Int128 magnitude = total < 0 ? -(Int128)total : total;
        var remainders = new Int128[w.Length];
        Int128 assigned = 0;
        for (var i = 0; i < w.Length; i++)
        {
            var product = magnitude * w[i];
            var part = product / sum;
            remainders[i] = product % sum;
            parts[i] = (long)part;
            assigned += part;
        }

        var left = (long)(magnitude - assigned);
        foreach (var i in Enumerable.Range(0, w.Length).OrderByDescending(i => remainders[i]).ThenBy(i => i).Take((int)left))
        {
            parts[i] = checked(parts[i] + 1);
        }

        if (total < 0)
        {
            for (var i = 0; i < parts.Length; i++)
            {
                parts[i] = -parts[i];
            }
        }

        return parts;
    }

    /// <summary>The platform fee of a gross share: basis points, rounded half away from zero.</summary>
    public static long Fee(long gross, int basisPoints)
    {
        var scaled = (Int128)gross * basisPoints;
        var fee = Int128.Abs(scaled) / 10_000;
        if (Int128.Abs(scaled) % 10_000 >= 5_000)
        {
            fee++;
        }

        return (long)(gross < 0 ? -fee : fee);
    }
}
