using FluentValidation;
using FluentValidation.Validators;

namespace NexusCore.PerfApi.Contract;

/// <summary>
/// A text value that must be one of a fixed set (case included). The set is also what the OpenAPI document lists
/// as the parameter's <c>enum</c> (<see cref="ParameterSchemaProcessor"/>), so the check and the contract are one list.
/// </summary>
public sealed class OneOfValidator<T>(IReadOnlyList<string> values) : PropertyValidator<T, string>, IOneOf
{
    public IReadOnlyList<string> Values => values;

    public override string Name => "OneOfValidator";

    public override bool IsValid(ValidationContext<T> context, string value) => values.Contains(value, StringComparer.Ordinal);
}

public static class OneOfRule
{
    public static IRuleBuilderOptions<T, string> OneOf<T>(this IRuleBuilder<T, string> rule, IReadOnlyList<string> values) =>
        rule.SetValidator(new OneOfValidator<T>(values));
}
