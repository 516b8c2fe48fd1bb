using System.Reflection;

namespace Transit.Cli.Tests;

/// <summary>The seams between the parts, checked on the compiled assemblies rather than by reading the source.</summary>
public sealed class ArchitectureTests
{
    /// <summary>
    /// Assemblies whose namespaces may still use each other in loops: none since issue 13 layered the gate and clearing.
    /// Should one ever be listed while it is moved apart, the list may only shrink: an assembly that becomes free of
    /// loops fails <see cref="Namespaces_StillInLoops_AreListedOnlyWhileTheyAre"/> until it is taken off.
    /// </summary>
    private static readonly HashSet<string> StillInLoops = [];

    /// <summary>Every Transit assembly the command line ships with (it references all the others), and the command's own.</summary>
    public static TheoryData<string> Assemblies()
    {
        var data = new TheoryData<string> { typeof(Transit.Cli.CliApp).Assembly.GetName().Name! };
        foreach (var file in Directory.GetFiles(AppContext.BaseDirectory, "Transit.*.dll").Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileNameWithoutExtension(file);
            if (!name.EndsWith(".Tests", StringComparison.Ordinal))
            {
                data.Add(name);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Assemblies))]
    public void Namespaces_UseEachOtherWithoutLoops(string assemblyName)
    {
        var loops = Loops(assemblyName);

        if (!StillInLoops.Contains(assemblyName))
        {
            Assert.True(loops.Count == 0, $"{assemblyName}: namespaces that use each other in a loop:\n{string.Join("\n", loops)}");
        }
    }

    [Theory]
    [MemberData(nameof(Assemblies))]
    public void Namespaces_StillInLoops_AreListedOnlyWhileTheyAre(string assemblyName)
    {
        if (StillInLoops.Contains(assemblyName))
        {
            Assert.True(Loops(assemblyName).Count > 0, $"{assemblyName} has no namespace loop any more: take it off {nameof(StillInLoops)}");
        }
    }

    private static List<string> Loops(string assemblyName)
    {
        var graph = NamespaceGraph.Of(Assembly.Load(assemblyName));
        return [.. graph.Cycles().Select(cycle => string.Join("; ", graph.Explain(cycle)))];
    }

    /// <summary>
    /// What each assembly may not use (docs/architecture.md): the pure libraries neither a web framework nor a
    /// database, analytics' store no web framework, the gate nothing of clearing's.
    /// </summary>
    public static TheoryData<string, string[]> Forbidden() => new()
    {
        { "Transit.RideCodes", ["Microsoft.AspNetCore", "Npgsql", "Microsoft.Data.Sqlite"] },
        { "Transit.Gtfs", ["Microsoft.AspNetCore", "Npgsql", "Microsoft.Data.Sqlite"] },
        { "Transit.FareRules", ["Microsoft.AspNetCore", "Npgsql", "Microsoft.Data.Sqlite"] },
        { "Transit.Analytics", ["Microsoft.AspNetCore", "Npgsql", "Microsoft.Data.Sqlite"] },
        { "Transit.Simulation", ["Microsoft.AspNetCore", "Npgsql", "Microsoft.Data.Sqlite"] },
        { "Transit.Analytics.Store", ["Microsoft.AspNetCore", "Transit.Analytics.Web", "Transit.Clearing"] },
        { "Transit.GateAgent", ["Transit.Clearing", "Transit.Analytics", "Npgsql", "Transit.FareRules"] },
    };

    [Theory]
    [MemberData(nameof(Forbidden))]
    public void Assemblies_ReferenceOnlyWhatTheirLayerAllows(string assemblyName, string[] forbiddenPrefixes)
    {
        var used = Assembly.Load(assemblyName).GetReferencedAssemblies().Select(reference => reference.Name!).ToList();

        var wrong = used.Where(name => forbiddenPrefixes.Any(prefix => name == prefix || name.StartsWith(prefix + ".", StringComparison.Ordinal)));

        Assert.True(!wrong.Any(), $"{assemblyName} uses {string.Join(", ", wrong)}");
        Assert.Contains(used, name => name.StartsWith("System.", StringComparison.Ordinal)); // the list is read, not empty
    }

    [Fact]
    public void NamespaceGraph_FindsALoopOfTwoNamespaces()
    {
        // The check itself must be able to fail: these two namespaces of this test assembly use each other.
        var graph = NamespaceGraph.Of(typeof(ArchitectureTests).Assembly);

        var loop = Assert.Single(graph.Cycles(), c => c.Contains(typeof(LoopSample.First.A).Namespace!));

        Assert.Equal([typeof(LoopSample.First.A).Namespace!, typeof(LoopSample.Second.B).Namespace!], loop);
        Assert.Contains(graph.Explain(loop), use => use.Contains("A uses B", StringComparison.Ordinal));
    }
}
