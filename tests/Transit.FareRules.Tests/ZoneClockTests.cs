namespace Transit.FareRules.Tests;

public class ZoneClockTests
{
    [Theory]
    [InlineData("America/New_York")]
    [InlineData("Europe/Warsaw")]
    [InlineData("Australia/Lord_Howe")]
    [InlineData("Asia/Kolkata")]
    public void LocalTicks_RandomInstants_AgreeWithTimeZoneInfo(string zoneId)
    {
        var zone = TimeZoneInfo.FindSystemTimeZoneById(zoneId);
        var clock = new ZoneClock(zone);
        var random = new Random(7);
        var start = new DateTime(2023, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;
        var span = TimeSpan.FromDays(3 * 365).Ticks;
        for (var i = 0; i < 5_000; i++)
        {
            var utc = start + (long)(random.NextDouble() * span);
            var expected = TimeZoneInfo.ConvertTimeFromUtc(new DateTime(utc, DateTimeKind.Utc), zone).Ticks;
            Assert.Equal(expected, clock.LocalTicks(utc));
        }
    }

    [Fact]
    public void LocalDateAndTime_AroundTheSpringTransition_FollowsTheWallClock()
    {
        var clock = new ZoneClock(TimeZoneInfo.FindSystemTimeZoneById("Europe/Warsaw"));
        var before = new DateTimeOffset(2025, 3, 30, 0, 59, 59, TimeSpan.Zero).UtcTicks;

        Assert.Equal((new DateOnly(2025, 3, 30), (1 * 3600) + (59 * 60) + 59), clock.LocalDateAndTime(before));
        Assert.Equal((new DateOnly(2025, 3, 30), 3 * 3600), clock.LocalDateAndTime(before + TimeSpan.TicksPerSecond));
    }

    [Fact]
    public void ToInstant_LocalTimes_UseTheFeedTimezoneAcrossDaylightSaving()
    {
        var feed = Feeds.Valid();

        Assert.Equal(TimeSpan.FromHours(-4), feed.ToInstant(new DateTime(2024, 10, 1, 8, 0, 0), "rA").Offset);
        Assert.Equal(TimeSpan.FromHours(-5), feed.ToInstant(new DateTime(2024, 12, 1, 8, 0, 0), "rA").Offset);
        Assert.Equal(TimeSpan.FromHours(-7), feed.ToInstant(new DateTime(2024, 10, 1, 8, 0, 0), "rA", "west").Offset);
        Assert.Equal(new DateTimeOffset(2024, 3, 10, 3, 30, 0, TimeSpan.FromHours(-4)), feed.ToInstant(new DateTime(2024, 3, 10, 2, 30, 0), "rA"));
    }
}
