namespace Transit.FareRules.Tests;

public class CurrenciesTests
{
    [Theory]
    [InlineData("PLN", 2)]
    [InlineData("USD", 2)]
    [InlineData("EUR", 2)]
    [InlineData("CNY", 2)]
    [InlineData("GBP", 2)]
    [InlineData("JPY", 0)]
    [InlineData("KRW", 0)]
    [InlineData("KWD", 3)]
    public void Decimals_KnownCurrency_FollowsIso4217(string currency, int decimals) =>
        Assert.Equal(decimals, Currencies.Decimals(currency));

    [Theory]
    [InlineData("2.40", "USD", 240)]
    [InlineData("4", "PLN", 400)]
    [InlineData("4.0", "PLN", 400)]
    [InlineData("0.00", "PLN", 0)]
    [InlineData("-1.25", "EUR", -125)]
    [InlineData("210", "JPY", 210)]
    [InlineData("1.234", "KWD", 1234)]
    public void TryParseAmount_ValidAmount_GivesMinorUnits(string text, string currency, long expected)
    {
        Assert.True(Currencies.TryParseAmount(text, currency, out var value, out var error), error);
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("2.405", "USD")]
    [InlineData("210.5", "JPY")]
    [InlineData("abc", "USD")]
    [InlineData("2,40", "USD")]
    [InlineData("", "USD")]
    [InlineData("1.", "USD")]
    public void TryParseAmount_InvalidAmount_Fails(string text, string currency)
    {
        Assert.False(Currencies.TryParseAmount(text, currency, out _, out var error));
        Assert.NotNull(error);
    }

    [Theory]
    [InlineData(240, "USD", "2.40")]
    [InlineData(5, "USD", "0.05")]
    [InlineData(-125, "EUR", "-1.25")]
    [InlineData(210, "JPY", "210")]
    [InlineData(1234, "KWD", "1.234")]
    public void Format_MinorUnits_UsesCurrencyDecimals(long minor, string currency, string expected) =>
        Assert.Equal(expected, Currencies.Format(minor, currency));

    [Fact]
    public void IsKnown_NonIsoCode_IsFalse()
    {
        Assert.True(Currencies.IsKnown("PLN"));
        Assert.False(Currencies.IsKnown("XYZ"));
        Assert.False(Currencies.IsKnown("usd"));
    }
}
