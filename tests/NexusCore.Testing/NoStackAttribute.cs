using Xunit.Abstractions;
using Xunit.Sdk;

namespace NexusCore.Testing;

/// <summary>
/// Marks a test class that needs no stack: no PostgreSQL, no Redis, no AppHost (neither booted nor built), no
/// child process. Its tests carry the trait <c>Stack=none</c>, which <c>./test.sh --fast</c> selects. Opt-in on
/// purpose: a class without it only runs in the full suite, so a stack test is never picked by mistake, and
/// <see cref="NoStackCheck"/> fails any marked class that reaches a stack anyway.
/// </summary>
[TraitDiscoverer("NexusCore.Testing.NoStackTraitDiscoverer", "NexusCore.Testing")]
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class NoStackAttribute : Attribute, ITraitAttribute
{
    public const string TraitName = "Stack";

    public const string TraitValue = "none";

    /// <summary>The <c>dotnet test</c> filter that selects these tests.</summary>
    public const string Filter = TraitName + "=" + TraitValue;
}

/// <summary>Gives every test of a <see cref="NoStackAttribute"/> class the trait <c>Stack=none</c>.</summary>
public sealed class NoStackTraitDiscoverer : ITraitDiscoverer
{
    public IEnumerable<KeyValuePair<string, string>> GetTraits(IAttributeInfo traitAttribute) =>
        [new(NoStackAttribute.TraitName, NoStackAttribute.TraitValue)];
}
