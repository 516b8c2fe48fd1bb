namespace Transit.Simulation.Tests;

/// <summary>The repository the tests run in (its test feeds live in tests/data).</summary>
internal static class Repository
{
    /// <summary>The folder holding Transit.sln above the test binaries.</summary>
    public static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Transit.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("no Transit.sln above the test folder");
    }
}
