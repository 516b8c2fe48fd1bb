// Two namespaces that use each other, on purpose: ArchitectureTests proves its check finds such a loop.
namespace Transit.Cli.Tests.LoopSample.First
{
    internal static class A
    {
        public static int Count() => Second.B.Items.Length;
    }
}

namespace Transit.Cli.Tests.LoopSample.Second
{
    internal static class B
    {
        public static readonly int[] Items = [1, 2];

        public static string Name() => nameof(First.A) + First.A.Count();
    }
}
