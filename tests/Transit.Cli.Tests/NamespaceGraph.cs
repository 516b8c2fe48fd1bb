using System.Reflection;
using System.Reflection.Emit;

namespace Transit.Cli.Tests;

/// <summary>
/// Which namespaces of one assembly use which, read from the compiled code: signatures, base types and every type,
/// method and field an IL instruction names (so a fully qualified name or a relative one counts as much as a using).
/// Compiler-generated types (lambdas' closures, async state machines) are nested and count as their outer type's.
/// </summary>
internal sealed class NamespaceGraph
{
    private const BindingFlags Declared =
        BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    private readonly Assembly _assembly;

    private NamespaceGraph(Assembly assembly) => _assembly = assembly;

    /// <summary>For each namespace, the namespaces it uses, with one example of a use ("Type → Type") for each edge.</summary>
    public Dictionary<string, Dictionary<string, string>> Edges { get; } = new(StringComparer.Ordinal);

    public static NamespaceGraph Of(Assembly assembly)
    {
        var graph = new NamespaceGraph(assembly);
        foreach (var type in assembly.GetTypes())
        {
            graph.AddUsesOf(type);
        }

        return graph;
    }

    /// <summary>Groups of namespaces that use each other in a loop (strongly connected components larger than one).</summary>
    public IReadOnlyList<IReadOnlyList<string>> Cycles()
    {
        var index = 0;
        var indices = new Dictionary<string, int>(StringComparer.Ordinal);
        var lowLinks = new Dictionary<string, int>(StringComparer.Ordinal);
        var stack = new Stack<string>();
        var onStack = new HashSet<string>(StringComparer.Ordinal);
        var cycles = new List<IReadOnlyList<string>>();

        void Visit(string node)
        {
            indices[node] = lowLinks[node] = index++;
            stack.Push(node);
            onStack.Add(node);
            foreach (var next in Edges.TryGetValue(node, out var targets) ? targets.Keys : Enumerable.Empty<string>())
            {
                if (!indices.ContainsKey(next))
                {
                    Visit(next);
                    lowLinks[node] = Math.Min(lowLinks[node], lowLinks[next]);
                }
                else if (onStack.Contains(next))
                {
                    lowLinks[node] = Math.Min(lowLinks[node], indices[next]);
                }
            }

            if (lowLinks[node] == indices[node])
            {
                var component = new List<string>();
                string member;
                do
                {
                    member = stack.Pop();
                    onStack.Remove(member);
                    component.Add(member);
                }
                while (member != node);

                if (component.Count > 1)
                {
                    component.Sort(StringComparer.Ordinal);
                    cycles.Add(component);
                }
            }
        }

        foreach (var node in Edges.Keys.Order(StringComparer.Ordinal).ToList())
        {
            if (!indices.ContainsKey(node))
            {
                Visit(node);
            }
        }

        return cycles;
    }

    /// <summary>The uses inside one cycle, for a failure message that says where to cut.</summary>
    public IEnumerable<string> Explain(IReadOnlyList<string> cycle) =>
        from user in cycle
        from edge in Edges[user]
        where cycle.Contains(edge.Key)
        select $"{user} → {edge.Key} (e.g. {edge.Value})";

    private void AddUsesOf(Type type)
    {
        Use(type, type.BaseType);
        foreach (var contract in type.GetInterfaces())
        {
            Use(type, contract);
        }

        foreach (var field in type.GetFields(Declared))
        {
            Use(type, field.FieldType);
        }

        foreach (var property in type.GetProperties(Declared))
        {
            Use(type, property.PropertyType);
        }

        foreach (var method in type.GetMethods(Declared).Cast<MethodBase>().Concat(type.GetConstructors(Declared)))
        {
            if (method is MethodInfo { ReturnType: var returns })
            {
                Use(type, returns);
            }

            foreach (var parameter in method.GetParameters())
            {
                Use(type, parameter.ParameterType);
            }

            foreach (var member in MembersNamedBy(method))
            {
                Use(type, member switch
                {
                    Type named => named,
                    _ => member.DeclaringType,
                });
                if (member is MethodInfo called)
                {
                    Use(type, called.ReturnType);
                }
            }
        }
    }

    private static IEnumerable<MemberInfo> MembersNamedBy(MethodBase method)
    {
        var il = method.GetMethodBody()?.GetILAsByteArray();
        if (il is null)
        {
            yield break;
        }

        var typeArguments = method.DeclaringType is { IsGenericType: true } declaring ? declaring.GetGenericArguments() : null;
        var methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
        for (var at = 0; at < il.Length;)
        {
            var value = il[at] == 0xFE ? (short)(0xFE00 | il[at + 1]) : il[at];
            at += il[at] == 0xFE ? 2 : 1;
            var opCode = OpCodesByValue[value];
            var operandStart = at;
            at += OperandSize(opCode, il, at);
            if (opCode.OperandType is OperandType.InlineType or OperandType.InlineMethod or OperandType.InlineField or OperandType.InlineTok)
            {
                MemberInfo? member;
                try
                {
                    member = method.Module.ResolveMember(BitConverter.ToInt32(il, operandStart), typeArguments, methodArguments);
                }
                catch (ArgumentException)
                {
                    member = null;
                }

                if (member is not null)
                {
                    yield return member;
                }
            }
        }
    }

    private static int OperandSize(OpCode opCode, byte[] il, int at) => opCode.OperandType switch
    {
        OperandType.InlineNone => 0,
        OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
        OperandType.InlineVar => 2,
        OperandType.InlineI8 or OperandType.InlineR => 8,
        OperandType.InlineSwitch => 4 + (4 * BitConverter.ToInt32(il, at)),
        _ => 4,
    };

    private void Use(Type user, Type? used)
    {
        if (used is null)
        {
            return;
        }

        while (used.HasElementType)
        {
            used = used.GetElementType()!;
        }

        if (used.IsGenericType && !used.IsGenericTypeDefinition)
        {
            foreach (var argument in used.GetGenericArguments())
            {
                Use(user, argument);
            }

            used = used.GetGenericTypeDefinition();
        }

        // Source generators (configuration binding, JSON, regular expressions) put their code in their own namespaces;
        // it calls ours and ours calls it by design, so only Transit's own namespaces count.
        if (used.IsGenericParameter || used.Assembly != _assembly || !IsOurs(used.Namespace) || !IsOurs(user.Namespace)
            || used.Namespace == user.Namespace)
        {
            return;
        }

        if (!Edges.TryGetValue(user.Namespace, out var targets))
        {
            Edges[user.Namespace] = targets = new Dictionary<string, string>(StringComparer.Ordinal);
        }

        targets.TryAdd(used.Namespace, $"{Outermost(user).Name} uses {Outermost(used).Name}");
    }

    private static bool IsOurs([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] string? name) => name is not null && name.StartsWith("Transit", StringComparison.Ordinal);

    private static Type Outermost(Type type)
    {
        while (type.DeclaringType is not null)
        {
            type = type.DeclaringType;
        }

        return type;
    }
}
