namespace Transit.Testing;

/// <summary>The repository the tests run in: the folder holding Transit.sln above the test binaries.</summary>
public static class Repository
{
    private static readonly Lazy<string> RootFolder = new(FindRoot);

    /// <summary>The repository's root folder.</summary>
    /// <exception cref="InvalidOperationException">No Transit.sln above the test binaries.</exception>
    public static string Root => RootFolder.Value;

    /// <summary>A path under the repository's root.</summary>
    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Transit.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Transit.sln not found above " + AppContext.BaseDirectory);
    }
}
