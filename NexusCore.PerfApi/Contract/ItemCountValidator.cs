using FluentValidation;
using FluentValidation.Validators;

namespace NexusCore.PerfApi.Contract;

/// <summary>Bounds on how many items an array holds: checked, and documented as the array's <c>minItems</c>/<c>maxItems</c>.</summary>
internal interface IItemCount
{
    int? MinItems { get; }

    int? MaxItems { get; }
}

/// <summary>An array (when given) holds at least <see cref="MinItems"/> and at most <see cref="MaxItems"/> items.</summary>
public sealed class ItemCountValidator<T, TItem>(int? minItems, int? maxItems) : PropertyValidator<T, TItem[]?>, IItemCount
{
    public int? MinItems => minItems;

    public int? MaxItems => maxItems;

    public override string Name => "ItemCountValidator";

    public override bool IsValid(ValidationContext<T> context, TItem[]? value) =>
        value is null || (value.Length >= (minItems ?? 0) && value.Length <= (maxItems ?? int.MaxValue));
}

public static class ItemCountRules
{
    public static IRuleBuilderOptions<T, TItem[]?> MinItems<T, TItem>(this IRuleBuilder<T, TItem[]?> rule, int min) =>
        rule.SetValidator(new ItemCountValidator<T, TItem>(min, null));

    public static IRuleBuilderOptions<T, TItem[]?> MaxItems<T, TItem>(this IRuleBuilder<T, TItem[]?> rule, int max) =>
        rule.SetValidator(new ItemCountValidator<T, TItem>(null, max));
}
