using System.Xml.Linq;

namespace Transit.Cli.Tests;

/// <summary>
/// Tests reach the code through its libraries, never through the <c>transit</c> command: only the command's own tests
/// compile against it. Other test projects may run it as a child process (a build-only reference with
/// <c>ReferenceOutputAssembly="false"</c>, tests/Directory.Build.targets), which gives them none of its types.
/// </summary>
public class TestReferenceTests
{
    private const string OwnTests = "Transit.Cli.Tests";

    [Fact]
    public void TestProjects_OtherThanTheCommandsOwn_NeitherReferenceNorLinkTheCommand()
    {
        var offenders = Directory.GetFiles(Repository.PathOf("tests"), "*.csproj", SearchOption.AllDirectories)
            .Concat(Directory.GetFiles(Repository.PathOf("tests"), "Directory.Build.*"))
            .Where(file => !file.Contains($"{Path.DirectorySeparatorChar}{OwnTests}{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(file => CommandReferences(file).Select(reference => $"{Path.GetRelativePath(Repository.Root, file)}: {reference}"))
            .ToList();

        Assert.True(offenders.Count == 0, "test projects reaching into tools/Transit.Cli:\n" + string.Join('\n', offenders));
        Assert.Contains(Directory.GetFiles(Repository.PathOf("tests"), "*.csproj", SearchOption.AllDirectories), f => f.EndsWith($"{OwnTests}.csproj", StringComparison.Ordinal));
    }

    [Fact]
    public void Command_GrantsItsInternalsOnlyToItsOwnTests()
    {
        var project = XDocument.Load(Repository.PathOf("tools", "Transit.Cli", "Transit.Cli.csproj"));
        var granted = project.Descendants("InternalsVisibleTo").Select(e => (string?)e.Attribute("Include")).ToList();

        Assert.Equal([OwnTests], granted);
    }

    [Fact]
    public void CommandReferences_SeeAReferenceALinkedFileAndAllowABuildOnlyReference()
    {
        var file = Path.Combine(Path.GetTempPath(), $"transit-reference-{Guid.NewGuid():N}.csproj");
        try
        {
            File.WriteAllText(file, """
                <Project>
                  <ItemGroup>
                    <ProjectReference Include="../../tools/Transit.Cli/Transit.Cli.csproj" />
                    <ProjectReference Include="..\..\tools\Transit.Cli\Transit.Cli.csproj" ReferenceOutputAssembly="false" />
                    <ProjectReference Include="../../tools/Transit.Simulation.Harness/Transit.Simulation.Harness.csproj" />
                    <Compile Include="../../tools/Transit.Cli/Bench/Something.cs" Link="Something.cs" />
                  </ItemGroup>
                </Project>
                """);

            Assert.Equal(
                ["ProjectReference ../../tools/Transit.Cli/Transit.Cli.csproj", "Compile ../../tools/Transit.Cli/Bench/Something.cs"],
                CommandReferences(file));
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>The items of an MSBuild file that compile against or compile in the command's code.</summary>
    private static List<string> CommandReferences(string file) =>
        [.. XDocument.Load(file).Descendants()
            .Where(e => e.Name.LocalName is "ProjectReference" or "Compile" or "Reference")
            .Select(e => (Item: e, Include: ((string?)e.Attribute("Include") ?? "").Replace('\\', '/')))
            .Where(x => x.Include.Contains("Transit.Cli/", StringComparison.OrdinalIgnoreCase)
                || x.Include.EndsWith("Transit.Cli.csproj", StringComparison.OrdinalIgnoreCase))
            .Where(x => !(x.Item.Name.LocalName == "ProjectReference"
                && string.Equals((string?)x.Item.Attribute("ReferenceOutputAssembly"), "false", StringComparison.OrdinalIgnoreCase)))
            .Select(x => $"{x.Item.Name.LocalName} {x.Include}")];
}
