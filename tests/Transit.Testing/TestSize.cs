namespace Transit.Testing;

/// <summary>
/// The test-size switch: <c>TRANSIT_TEST_SIZE=full</c> runs the soak, fuzz, crash and end-to-end tests at their
/// documented full size (docs/benchmarks.md); anything else (<c>./run-tests</c> sets <c>ci</c>) runs them small.
/// </summary>
public static class TestSize
{
    /// <summary>The environment variable that selects the size.</summary>
    public const string Variable = "TRANSIT_TEST_SIZE";

    /// <summary>True when the variable says <c>full</c> (in any case).</summary>
    public static bool Full => string.Equals(Environment.GetEnvironmentVariable(Variable), "full", StringComparison.OrdinalIgnoreCase);
}
