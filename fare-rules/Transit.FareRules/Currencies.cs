using System.Globalization;

namespace Transit.FareRules;

/// <summary>
/// ISO 4217 currencies: how many decimals each has, and conversion between GTFS currency amounts ("2.40") and
/// integer minor units (240). Money in this library is always a <see cref="long"/> count of minor units.
/// </summary>
public static class Currencies
{
    private static readonly Dictionary<string, int> Exceptions = new(StringComparer.Ordinal)
    {
        // No minor unit.
        ["BIF"] = 0, ["CLP"] = 0, ["DJF"] = 0, ["GNF"] = 0, ["ISK"] = 0, ["JPY"] = 0, ["KMF"] = 0, ["KRW"] = 0,
        ["PYG"] = 0, ["RWF"] = 0, ["UGX"] = 0, ["UYI"] = 0, ["VND"] = 0, ["VUV"] = 0, ["XAF"] = 0, ["XOF"] = 0,
        ["XPF"] = 0,

        // Three decimals.
        ["BHD"] = 3, ["IQD"] = 3, ["JOD"] = 3, ["KWD"] = 3, ["LYD"] = 3, ["OMR"] = 3, ["TND"] = 3,

        // Four decimals.
        ["CLF"] = 4, ["UYW"] = 4,
    };

    private static readonly HashSet<string> Known = new(StringComparer.Ordinal)
    {
        "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN", "BHD", "BIF",
        "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHF", "CLF", "CLP", "CNY", "COP",
        "CRC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL",
        "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK",
        "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD",
        "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MYR", "MZN",
        "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON",
        "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC",
        "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYI", "UYU",
        "UYW", "UZS", "VES", "VND", "VUV", "WST", "XAF", "XCD", "XOF", "XPF", "YER", "ZAR", "ZMW", "ZWG",
    };

    /// <summary>Whether <paramref name="code"/> is an active ISO 4217 currency code (upper case, e.g. <c>PLN</c>).</summary>
    /// <param name="code">The three-letter code.</param>
    /// <returns>True for a known code.</returns>
    public static bool IsKnown(string code)
    {
        ArgumentNullException.ThrowIfNull(code);
        return Known.Contains(code);
    }

    /// <summary>The number of decimals of the currency's minor unit: 2 for USD, PLN, EUR, CNY, GBP; 0 for JPY; 3 for KWD.</summary>
    /// <param name="code">The ISO 4217 code; an unknown code is given 2 decimals.</param>
    /// <returns>The number of decimals (0 to 4).</returns>
    public static int Decimals(string code)
    {
        ArgumentNullException.ThrowIfNull(code);
        return Exceptions.TryGetValue(code, out var decimals) ? decimals : 2;
    }

    /// <summary>
    /// Parses a GTFS currency amount (<c>-?digits[.digits]</c>) into minor units. The amount may have fewer decimals than the
    /// currency (<c>4</c> or <c>4.0</c> PLN is 400) but never more (<c>2.405</c> USD is refused).
    /// </summary>
    /// <param name="text">The amount as written in the feed.</param>
    /// <param name="currency">The ISO 4217 code that decides the number of decimals.</param>
    /// <param name="minorUnits">The amount in minor units when the parse succeeds.</param>
    /// <param name="error">Why the text is not an amount, when the parse fails.</param>
    /// <returns>True when <paramref name="text"/> is a valid amount for the currency.</returns>
    public static bool TryParseAmount(string text, string currency, out long minorUnits, out string? error)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(currency);
        minorUnits = 0;
        var decimals = Decimals(currency);
        var span = text.AsSpan().Trim();
        var negative = false;
        if (span.Length > 0 && span[0] is '-' or '+')
        {
            negative = span[0] == '-';
            span = span[1..];
        }

        var dot = span.IndexOf('.');
        var whole = dot < 0 ? span : span[..dot];
        var fraction = dot < 0 ? [] : span[(dot + 1)..];
        if (whole.Length == 0 || !IsDigits(whole) || (dot >= 0 && (fraction.Length == 0 || !IsDigits(fraction))))
        {
            error = $"'{text}' is not a decimal amount";
            return false;
        }

        if (fraction.Length > decimals)
        {
            error = $"'{text}' has {fraction.Length} decimals but {currency} has {decimals}";
            return false;
        }

        if (whole.Length > 15)
        {
            error = $"'{text}' is too large";
            return false;
        }

        var value = long.Parse(whole, NumberStyles.None, CultureInfo.InvariantCulture);
        for (var i = 0; i < decimals; i++)
        {
            value = checked(value * 10) + (i < fraction.Length ? fraction[i] - '0' : 0);
        }

        minorUnits = negative ? -value : value;
        error = null;
        return true;
    }

    /// <summary>Formats minor units in major units with the currency's decimals: 240 USD is <c>2.40</c>, 400 JPY is <c>400</c>.</summary>
    /// <param name="minorUnits">The amount in minor units.</param>
    /// <param name="currency">The ISO 4217 code.</param>
    /// <returns>The amount with a dot as decimal separator and exactly the currency's decimals.</returns>
    public static string Format(long minorUnits, string currency)
    {
        ArgumentNullException.ThrowIfNull(currency);
        var decimals = Decimals(currency);
        if (decimals == 0)
        {
            return minorUnits.ToString(CultureInfo.InvariantCulture);
        }

        var scale = 1L;
        for (var i = 0; i < decimals; i++)
        {
            scale *= 10;
        }

        var magnitude = minorUnits == long.MinValue ? (ulong)long.MaxValue + 1 : (ulong)Math.Abs(minorUnits);
        var whole = magnitude / (ulong)scale;
        var fraction = magnitude % (ulong)scale;
        var sign = minorUnits < 0 ? "-" : "";
        return string.Create(CultureInfo.InvariantCulture, $"{sign}{whole}.{fraction.ToString(new string('0', decimals), CultureInfo.InvariantCulture)}");
    }

    private static bool IsDigits(ReadOnlySpan<char> span)
    {
        foreach (var c in span)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }
        }

        return true;
    }
}
