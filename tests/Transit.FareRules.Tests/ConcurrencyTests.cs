namespace Transit.FareRules.Tests;

public class ConcurrencyTests
{
    [Fact]
    public void Price_FromManyThreads_GivesTheSameResultsAsOneThread()
    {
        var feed = FareFeed.Load(Paths.TestFeed("metro-city"));
        var journeys = LegsFile.Parse(File.ReadAllText(Path.Combine(Paths.Root, "tests", "data", "legs", "metro-city.csv")), feed)
            .Select(j => j.Legs).ToArray();
        var expected = journeys.Select(j => new FareEngine(feed).Price(j).Total).ToArray();
        var shared = new FareEngine(feed);
        var work = Enumerable.Range(0, 4_000).ToArray();

        var totals = new long[work.Length];
        Parallel.ForEach(work, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => totals[i] = shared.Price(journeys[i % journeys.Length]).Total);

        Assert.All(work, i => Assert.Equal(expected[i % journeys.Length], totals[i]));
    }
}
