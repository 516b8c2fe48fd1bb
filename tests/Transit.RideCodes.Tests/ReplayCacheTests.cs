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

    [Fact]
    public void TryAdd_SweepsEntriesExpiringExactlyNow()
    {
        var cache = new ReplayCache();
        cache.TryAdd(new ReplayKey(1, 0), Now.AddSeconds(60), Now);
        cache.TryAdd(new ReplayKey(2, 0), Now.AddSeconds(61), Now);
        cache.TryAdd(new ReplayKey(3, 0), Now.AddSeconds(120), Now.AddSeconds(60));
        Assert.Equal(2, cache.Count);
        Assert.False(cache.Contains(new ReplayKey(1, 0), Now.AddSeconds(60)));
        Assert.True(cache.Contains(new ReplayKey(2, 0), Now.AddSeconds(60)));
    }

    [Fact]
    public void TryAdd_KeyAddedAgainAfterExpiry_OldQueueEntryDoesNotEvictTheNewOne()
    {
        var cache = new ReplayCache(capacity: 3);
        var a = new ReplayKey(1, 0);
        var key = new ReplayKey(7, 7);
        cache.TryAdd(a, Now.AddSeconds(1000), Now);
        Assert.True(cache.TryAdd(key, Now.AddSeconds(60), Now));

        // a, still fresh, stands in front of the expired first entry of key, so the re-add leaves that entry queued.
        Assert.True(cache.TryAdd(key, Now.AddSeconds(180), Now.AddSeconds(61)));
        cache.TryAdd(new ReplayKey(2, 0), Now.AddSeconds(1000), Now.AddSeconds(70));

        // Full: a goes, then the stale queue entry of key is passed over, and key, held until 180 s, stays.
        cache.TryAdd(new ReplayKey(3, 0), Now.AddSeconds(1000), Now.AddSeconds(71));
        Assert.False(cache.Contains(a, Now.AddSeconds(71)));
        Assert.True(cache.Contains(key, Now.AddSeconds(71)));
        Assert.False(cache.TryAdd(key, Now.AddSeconds(300), Now.AddSeconds(179)));
        Assert.Equal(3, cache.Count);
    }

    [Fact]
    public void TryAdd_AtCapacity_ForgetsExactlyOneOldest()
    {
        var cache = new ReplayCache(capacity: 3);
        Assert.Equal(3, cache.Capacity);
        for (var i = 0UL; i < 4; i++)
        {
            cache.TryAdd(new ReplayKey(i, 0), Now.AddHours(1), Now);
        }

        Assert.Equal(3, cache.Count);
        Assert.False(cache.Contains(new ReplayKey(0, 0), Now));
        Assert.True(cache.Contains(new ReplayKey(1, 0), Now));
    }

    [Fact]
    public void Construction_AndHoldUntil_RefuseBadArguments()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReplayCache(0));
        Assert.Equal(1, new ReplayCache(1).Capacity);
        Assert.Equal(ReplayCache.DefaultCapacity, new ReplayCache().Capacity);
        Assert.Throws<ArgumentNullException>(() => ReplayCache.HoldUntil(null!, TimeSpan.FromSeconds(60)));
    }
}
