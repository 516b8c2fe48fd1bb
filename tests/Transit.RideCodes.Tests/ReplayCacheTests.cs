using Transit.RideCodes;

namespace Transit.RideCodes.Tests;

public class ReplayCacheTests
{
    private static readonly DateTimeOffset Now = TestIssuer.Now;

    [Fact]
    public void TryAdd_SameKeyBeforeExpiry_Refused_AfterExpiry_Accepted()
    {
        var cache = new ReplayCache();
        var key = new ReplayKey(42, 7);
        Assert.True(cache.TryAdd(key, Now.AddSeconds(60), Now));
        Assert.False(cache.TryAdd(key, Now.AddSeconds(60), Now.AddSeconds(59)));
        Assert.True(cache.Contains(key, Now.AddSeconds(59)));
        Assert.False(cache.Contains(key, Now.AddSeconds(60)));
        Assert.True(cache.TryAdd(key, Now.AddSeconds(120), Now.AddSeconds(60)));
    }

    [Fact]
    public void TryAdd_BeyondCapacity_StaysBoundedForgettingOldestFirst()
    {
        var cache = new ReplayCache(capacity: 100);
        for (var i = 0UL; i < 1000; i++)
        {
            Assert.True(cache.TryAdd(new ReplayKey(i, 0), Now.AddHours(1), Now));
            Assert.True(cache.Count <= 100);
        }

        Assert.False(cache.Contains(new ReplayKey(0, 0), Now));
        Assert.True(cache.Contains(new ReplayKey(999, 0), Now));
        Assert.True(cache.Contains(new ReplayKey(900, 0), Now));
    }

    [Fact]
    public void TryAdd_ExpiredEntries_SweptAsTimeMoves()
    {
        var cache = new ReplayCache();
        for (var i = 0UL; i < 500; i++)
        {
            cache.TryAdd(new ReplayKey(i, 0), Now.AddSeconds(60), Now);
        }

        cache.TryAdd(new ReplayKey(10_000, 0), Now.AddSeconds(200), Now.AddSeconds(100));
        Assert.Equal(1, cache.Count);
    }
}
