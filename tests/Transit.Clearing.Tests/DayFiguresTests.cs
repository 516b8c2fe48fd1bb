using Transit.Clearing.Reports;

namespace Transit.Clearing.Tests;

/// <summary>The day's figures reports read (the simulation's day report, run-day), against a day cleared by hand.</summary>
[Collection(ClearingCollection.Name)]
[Trait("Category", "Database")]
public sealed class DayFiguresTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Figures_ClearedBusDay_CountTapsJourneysUnpricedLegsRevenueAndChargesAsTheBooks()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        await world.Services.GetRequiredService<Gtfs.GtfsImporter>().ImportAsync(
            Repository.PathOf("tests", "data", "gtfs", "zakroczym"), new DateOnly(2026, 11, 1), CancellationToken.None);
        foreach (var rider in (string[])["ola", "piotr", "zofia"])
        {
            world.Rider(rider, category: "0");
        }

        var board = await world.AddDeviceAsync("z1-front", "0", "bus", stop: "100", route: "Z1");
        var alight = await world.AddDeviceAsync("z1-rear", "0", "bus-exit", stop: "117", route: "Z1");
        await world.UploadOkAsync(board, world.Tap(board, "ola", ClearingWorld.At(8, 0)), world.Tap(board, "piotr", ClearingWorld.At(9, 0)));
        // A refusal the gate made stays a stored tap, and never a billable one.
        await world.UploadOkAsync(alight,
            world.Tap(alight, "piotr", ClearingWorld.At(9, 20)), world.Tap(alight, "zofia", ClearingWorld.At(10, 0)),
            world.Tap(alight, "ola", ClearingWorld.At(11, 0), accepted: false, reason: "blocked"));
        var books = await world.ClearAsync();
        var figures = new DayFigures(world.Database.DataSource);

        var taps = await figures.TapsAsync(ClearingWorld.Day, CancellationToken.None);
        var journeys = await figures.JourneysAsync(ClearingWorld.Day, CancellationToken.None);
        var revenue = await figures.RevenueAsync(ClearingWorld.Day, CancellationToken.None);
        var charges = await figures.ChargesAsync(ClearingWorld.Day, CancellationToken.None);

        Assert.True(books.Balanced);
        Assert.Equal(new StoredTaps(All: 5, Billable: 4, RefusedByClearing: 0, DuplicateUses: 0), taps);
        // ola never tapped off (unpriced, the zone's dearest fare); zofia tapped off without boarding (a missing entry).
        Assert.Equal(new JourneyFigures(All: 3, Riders: 3, Legs: 3, Incomplete: 1, Capped: 0, UnpricedLegs: 1, UnpricedAmount: 500), journeys);
        Assert.Equal((books.UnpricedLegs, books.UnpricedAmount), (journeys.UnpricedLegs, journeys.UnpricedAmount));
        Assert.Equal("PLN", await figures.CurrencyAsync(ClearingWorld.Day, CancellationToken.None));
        var only = Assert.Single(revenue);
        Assert.Equal(("0", books.OperatorShares + books.Fees, books.Fees, books.OperatorShares), (only.OperatorId, only.Gross, only.Fee, only.Net));
        Assert.Equal((3L, books.Charges), (charges.Sum(c => c.Count), charges.Sum(c => c.Amount)));
        Assert.Empty(await figures.CappedRiderDaysAsync(ClearingWorld.Day, CancellationToken.None));
        Assert.Equal(0, await figures.BlockedAccountsAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Figures_DayWithoutTaps_AreZeroWithNoCurrency()
    {
        await using var world = await ClearingWorld.StartAsync(postgres);
        var figures = new DayFigures(world.Database.DataSource);

        Assert.Equal(new StoredTaps(0, 0, 0, 0), await figures.TapsAsync(ClearingWorld.Day, CancellationToken.None));
        Assert.Equal(new JourneyFigures(0, 0, 0, 0, 0, 0, 0), await figures.JourneysAsync(ClearingWorld.Day, CancellationToken.None));
        Assert.Equal("", await figures.CurrencyAsync(ClearingWorld.Day, CancellationToken.None));
        Assert.Empty(await figures.ChargesAsync(ClearingWorld.Day, CancellationToken.None));
    }
}
