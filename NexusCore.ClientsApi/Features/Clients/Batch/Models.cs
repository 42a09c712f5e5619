using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using FastEndpoints;
using FluentValidation;

namespace NexusCore.ClientsApi.Features.Clients.Batch;

public enum BatchMode
{
    /// <summary>All items or none: one failing item rolls everything back.</summary>
    Atomic,

    /// <summary>Each item succeeds or fails on its own and reports its own status.</summary>
    PerItem,
}

public enum BatchOp
{
    Create,
    Update,
    Upsert,
    Delete,
}

public sealed class Request
{
    public const int MaxItems = 1000;

    /// <summary>
    /// 1 to 255 visible ASCII characters: a retry with the same key and body replays the first answer, with
    /// another body it is 422, while the first still runs 409. A header only: a body's <c>idempotencyKey</c> is an unknown field.
    /// </summary>
    [FromHeader("Idempotency-Key", IsRequired = false, RemoveFromSchema = true)]
    public string? IdempotencyKey { get; init; }

    /// <summary>atomic (default): all items or none; perItem: each item succeeds or fails on its own.</summary>
    [DefaultValue("atomic")]
    public BatchMode Mode { get; init; } = BatchMode.Atomic;

    /// <summary>1 to 1,000 operations.</summary>
    [Required, MinLength(1), MaxLength(MaxItems)]
    public List<Item>? Items { get; init; }
}

/// <summary>
/// One operation. <c>create</c>: name, email, programType, status (default active). <c>upsert</c>: the
/// same, keyed by email: creates the client or replaces its name, status and program type.
/// <c>update</c>: id plus the fields to change. <c>delete</c>: id.
/// </summary>
public sealed class Item
{
    [Required]
    public BatchOp? Op { get; init; }
    public long? Id { get; init; }
    public string? Name { get; init; }
    public string? Email { get; init; }
    public string? Status { get; init; }
    public string? ProgramType { get; init; }
}

public sealed class Validator : Validator<Request>
{
    public Validator()
    {
        RuleFor(r => r.Items)
            // Must rather than NotEmpty: FastEndpoints' schema would read NotEmpty as a string's minLength.
            .Must(items => items is { Count: > 0 }).WithMessage("items must hold at least one operation.").WithErrorCode("items_required")
            .Must(items => items is null || items.Count <= Request.MaxItems)
            .WithMessage($"items may hold at most {Request.MaxItems} operations.").WithErrorCode("too_many_items");
        RuleForEach(r => r.Items).NotNull()
            .WithMessage("items[{CollectionIndex}] is null: each item must be an operation object.").WithErrorCode("item_required");
        RuleFor(r => r.IdempotencyKey)
            .Must(k => k is null || (k.Length is > 0 and <= 255 && k.All(c => c is > ' ' and < '\u007f')))
            .WithName("Idempotency-Key")
            .WithMessage("Idempotency-Key must be 1 to 255 visible ASCII characters.").WithErrorCode("idempotency_key_invalid");
    }
}

/// <summary>The rules for one item, by operation.</summary>
public sealed class ItemValidator : AbstractValidator<Item>
{
    public ItemValidator()
    {
        RuleFor(i => i.Op).NotNull().WithMessage("op must be create, update, upsert or delete.").WithErrorCode("op_required");

        When(i => i.Op is BatchOp.Create or BatchOp.Upsert, () =>
        {
            RuleFor(i => i.Id).Null().WithMessage("id is not allowed here: the database assigns it.").WithErrorCode("id_not_allowed");
            RuleFor(i => i.Name).ClientName();
            RuleFor(i => i.Email).ClientEmail();
            RuleFor(i => i.Status).ClientStatus();
            RuleFor(i => i.ProgramType).ClientProgramType();
        });

        When(i => i.Op is BatchOp.Update, () =>
        {
            RuleFor(i => i.Id).NotNull().GreaterThan(0).WithMessage("id must be a client's id.").WithErrorCode("id_required");
            RuleFor(i => i)
                .Must(i => i.Name is not null || i.Email is not null || i.Status is not null || i.ProgramType is not null)
                .WithName("item").WithMessage("An update needs at least one of name, email, status, programType.").WithErrorCode("empty_update");
            RuleFor(i => i.Name).ClientName().When(i => i.Name is not null);
            RuleFor(i => i.Email).ClientEmail().When(i => i.Email is not null);
            RuleFor(i => i.Status).ClientStatus();
            RuleFor(i => i.ProgramType).ClientProgramType().When(i => i.ProgramType is not null);
        });

        When(i => i.Op is BatchOp.Delete, () =>
        {
            RuleFor(i => i.Id).NotNull().GreaterThan(0).WithMessage("id must be a client's id.").WithErrorCode("id_required");
            RuleFor(i => i)
                .Must(i => i.Name is null && i.Email is null && i.Status is null && i.ProgramType is null)
                .WithName("item").WithMessage("A delete takes only an id.").WithErrorCode("fields_not_allowed");
        });
    }
}

/// <summary>The outcome of a batch: counts, then one entry per item in request order.</summary>
public sealed record Response(BatchMode Mode, int Succeeded, int Failed, IReadOnlyList<ItemResult> Items);

/// <summary>
/// One item's outcome: HTTP-like <c>Status</c> (201 created, 200 updated, 204 deleted, 400, 404, 409)
/// and, on success, the client's id and version; on failure a problem naming what went wrong.
/// </summary>
public sealed record ItemResult(
    int Index,
    BatchOp Op,
    int Status,
    long? Id,
    int? Version,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ItemProblem? Problem)
{
    [JsonIgnore]
    public bool Succeeded => Status < 300;
}

public sealed record ItemProblem(string Type, string Detail, IReadOnlyList<ItemError> Errors);

public sealed record ItemError(string Name, string Reason, string Code);
