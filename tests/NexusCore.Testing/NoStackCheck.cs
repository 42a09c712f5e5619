using System.Reflection;
using System.Reflection.Emit;
using Xunit;

namespace NexusCore.Testing;

/// <summary>
/// Why a <see cref="NoStackAttribute"/> class could need a stack after all, so <c>./test.sh --fast</c> never runs
/// one that does. A marked class must not share a fixture (a collection, a class fixture or a constructor parameter
/// of a <see cref="StackFixture"/>), and none of the code it can reach in its own test assembly (its methods, its
/// lambdas and async state machines, and every type of that assembly they use, followed through) may touch a
/// <see cref="StackFixture"/>, Aspire's hosting (the AppHost), an Npgsql connection or data source, Redis, or start
/// a process. Reading the IL errs on the side of refusing: a helper type is judged as a whole.
/// </summary>
public static class NoStackCheck
{
    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    /// <summary>Every problem of every marked class of <paramref name="assembly"/> that holds tests; empty when all is well.</summary>
    public static IReadOnlyList<string> Problems(Assembly assembly)
    {
        var marked = assembly.GetTypes().Where(t => t.IsDefined(typeof(NoStackAttribute), false) && HasTests(t)).ToList();
        var traits = assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly).Cast<MemberInfo>().Append(t))
            .Where(m => m.GetCustomAttributesData().Any(a => a.AttributeType == typeof(TraitAttribute)
                && a.ConstructorArguments is [{ Value: NoStackAttribute.TraitName }, _]))
            .Select(m => $"{Name(m)}: the trait {NoStackAttribute.TraitName} is given by hand; mark the class [NoStack] instead, so that it is checked.");
        return [.. traits, .. marked.SelectMany(Problems)];
    }

    /// <summary>The problems of one class, whether marked or not.</summary>
    public static IEnumerable<string> Problems(Type testClass)
    {
        if (testClass.GetCustomAttribute<CollectionAttribute>() is not null)
        {
            yield return $"{testClass.FullName} is in a test collection: a collection shares a fixture.";
        }

        foreach (var fixture in testClass.GetInterfaces()
            .Where(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IClassFixture<>))
            .Select(i => i.GetGenericArguments()[0])
            .Concat(testClass.GetConstructors().SelectMany(c => c.GetParameters()).Select(p => p.ParameterType))
            .Where(t => typeof(StackFixture).IsAssignableFrom(t)))
        {
            yield return $"{testClass.FullName} is given a {fixture.Name}.";
        }

        foreach (var reached in Reach(testClass))
        {
            yield return $"{testClass.FullName} reaches {reached}.";
        }
    }

    /// <summary>The forbidden members the code reachable from <paramref name="root"/> refers to.</summary>
    private static IEnumerable<string> Reach(Type root)
    {
        var assembly = root.Assembly;
        var seen = new HashSet<Type>();
        var queue = new Queue<Type>([root]);
        var found = new SortedSet<string>(StringComparer.Ordinal);
        while (queue.Count > 0)
        {
            var type = queue.Dequeue();
            if (!seen.Add(type))
            {
                continue;
            }

            if (Forbidden(type) is { } forbidden)
            {
                found.Add(forbidden);
                continue;
            }

            foreach (var nested in type.GetNestedTypes(BindingFlags.Public | BindingFlags.NonPublic))
            {
                queue.Enqueue(nested);
            }

            const BindingFlags declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
            var fieldTypes = type.GetFields(declared).Select(f => f.FieldType);
            var baseTypes = type.BaseType is { } b ? [b] : Array.Empty<Type>();
            foreach (var used in fieldTypes.Concat(baseTypes).SelectMany(Unwrap))
            {
                Use(used);
            }

            foreach (var method in type.GetMethods(declared).Cast<MethodBase>().Concat(type.GetConstructors(declared)))
            {
                foreach (var member in Members(method))
                {
                    if (Forbidden(member) is { } why)
                    {
                        found.Add(why);
                    }
                    else if ((member as Type ?? member.DeclaringType) is { } owner)
                    {
                        foreach (var used in Unwrap(owner))
                        {
                            Use(used);
                        }
                    }
                }
            }
        }

        return found;

        void Use(Type used)
        {
            if (Forbidden(used) is { } why)
            {
                found.Add(why);
            }
            else if (used.Assembly == assembly)
            {
                queue.Enqueue(used.IsGenericType ? used.GetGenericTypeDefinition() : used);
            }
        }
    }

    /// <summary>A type and its generic arguments, element types included.</summary>
    private static IEnumerable<Type> Unwrap(Type type)
    {
        if (type.HasElementType)
        {
            return Unwrap(type.GetElementType()!);
        }

        return type.IsGenericType ? [type, .. type.GetGenericArguments().Where(a => !a.IsGenericParameter).SelectMany(Unwrap)] : [type];
    }

    private static string? Forbidden(MemberInfo member)
    {
        var type = member as Type ?? member.DeclaringType;
        if (type is null)
        {
            return null;
        }

        var name = type.FullName ?? type.Name;
        if (typeof(StackFixture).IsAssignableFrom(type))
        {
            return $"{type.Name} (a stack)";
        }

        if (name.StartsWith("Aspire.Hosting", StringComparison.Ordinal) || name.StartsWith("Projects.", StringComparison.Ordinal))
        {
            return $"{name} (the AppHost)";
        }

        if (name.StartsWith("Npgsql.", StringComparison.Ordinal) && (name.Contains("Connection", StringComparison.Ordinal) || name.Contains("DataSource", StringComparison.Ordinal)))
        {
            return $"{name} (PostgreSQL)";
        }

        if (name.StartsWith("StackExchange.Redis", StringComparison.Ordinal))
        {
            return $"{name} (Redis)";
        }

        return type == typeof(System.Diagnostics.Process) && member.Name == nameof(System.Diagnostics.Process.Start)
            ? "Process.Start (a child process)"
            : null;
    }

    /// <summary>The types, methods and fields a method's IL refers to.</summary>
    private static IEnumerable<MemberInfo> Members(MethodBase method)
    {
        var il = method.GetMethodBody()?.GetILAsByteArray();
        if (il is null)
        {
            yield break;
        }

        var typeArgs = method.DeclaringType is { IsGenericType: true } declaring ? declaring.GetGenericArguments() : null;
        var methodArgs = method.IsGenericMethod ? method.GetGenericArguments() : null;
        var i = 0;
        while (i < il.Length)
        {
            short value = il[i] == 0xFE && i + 1 < il.Length ? (short)(0xFE00 | il[i + 1]) : il[i];
            if (!OpCodesByValue.TryGetValue(value, out var opCode))
            {
                yield break;
            }

            i += opCode.Size;
            switch (opCode.OperandType)
            {
                case OperandType.InlineMethod or OperandType.InlineField or OperandType.InlineType or OperandType.InlineTok:
                    var token = BitConverter.ToInt32(il, i);
                    MemberInfo? member = null;
                    try
                    {
                        member = method.Module.ResolveMember(token, typeArgs, methodArgs);
                    }
                    catch (Exception ex) when (ex is ArgumentException or TypeLoadException or BadImageFormatException or IOException)
                    {
                        // A token the module cannot resolve in this generic context: nothing to follow.
                    }

                    if (member is not null)
                    {
                        yield return member;
                    }

                    i += 4;
                    break;
                case OperandType.InlineSwitch:
                    i += 4 + (4 * BitConverter.ToInt32(il, i));
                    break;
                case OperandType.InlineI8 or OperandType.InlineR:
                    i += 8;
                    break;
                case OperandType.InlineBrTarget or OperandType.InlineI or OperandType.InlineSig or OperandType.InlineString or OperandType.ShortInlineR:
                    i += 4;
                    break;
                case OperandType.InlineVar:
                    i += 2;
                    break;
                case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar:
                    i += 1;
                    break;
            }
        }
    }

    private static bool HasTests(Type type) =>
        type.GetMethods().Any(m => m.IsDefined(typeof(FactAttribute), true));

    private static string Name(MemberInfo member) => member is Type t ? t.FullName ?? t.Name : $"{member.DeclaringType?.FullName}.{member.Name}";
}
