using Transit.Simulation;

namespace Transit.Simulation.Tests;

/// <summary>
/// Trip chaining against the ground truth on the realistic population (docs/analytics.md, "Accuracy"): the floors are
/// the targets, at least 80 % of bus boardings given a destination and at least 85 % of those right.
/// </summary>
public sealed class ChainingAccuracyTests(ITestOutputHelper output)
{
    private static readonly DateOnly Tuesday = new(2026, 11, 24);

    [Fact]
    public void SyntheticCity_Realistic_BusDestinationsForAtLeast80PercentAnd85PercentOfThoseRight()
    {
        var accuracy = ChainingAccuracy.Measure(CityModel.Synthetic, riders: 1_500, seed: 7, Tuesday);
        output.WriteLine(accuracy.Format());

        Assert.Equal(0, accuracy.UnmatchedRiderDays);
        AssertFloors(accuracy.Total("bus"), 0.80, 0.85);
        AssertFloors(accuracy.Total("metro"), 0.95, 0.95);
    }

    [Fact]
    public void Zakroczym_Realistic_BusDestinationsForAtLeast80PercentAnd85PercentOfThoseRight()
    {
        var city = CityModel.FromFeed(Repository.PathOf("tests", "data", "gtfs", "zakroczym"));
        var accuracy = ChainingAccuracy.Measure(city, riders: 800, seed: 7, Tuesday);
        output.WriteLine(accuracy.Format());

        Assert.Equal(0, accuracy.UnmatchedRiderDays);
        AssertFloors(accuracy.Total("bus"), 0.80, 0.85);
    }

    private static void AssertFloors(AccuracyCell cell, double inferred, double right)
    {
        Assert.True(cell.Legs > 300, $"{cell.Mode}: only {cell.Legs} legs");
        Assert.True(cell.InferredShare >= inferred, $"{cell.Mode}: {cell.InferredShare:P1} given a destination, floor {inferred:P0}");
        Assert.True(cell.RightShare >= right, $"{cell.Mode}: {cell.RightShare:P1} of those right, floor {right:P0}");
    }
}
