using System.ComponentModel.DataAnnotations;
using FastEndpoints;
using FluentValidation;

namespace NexusCore.ClientsApi.Features.Clients.ByIds;

public sealed class Request
{
    public const int MaxIds = 1000;

    /// <summary>1 to 1,000 client ids (each a whole number from 1); repeated ids are answered once.</summary>
    [Required, MinLength(1), MaxLength(MaxIds)]
    public long[]? Ids { get; init; }
}

public sealed class Validator : Validator<Request>
{
    public Validator()
    {
        RuleFor(r => r.Ids)
            // Must rather than NotEmpty: FastEndpoints' schema would read NotEmpty as a string's minLength.
            .Must(ids => ids is { Length: > 0 }).WithMessage("ids must list at least one id.").WithErrorCode("ids_required")
            .Must(ids => ids is null || ids.Length <= Request.MaxIds)
            .WithMessage($"ids may list at most {Request.MaxIds} ids.").WithErrorCode("too_many_ids")
            .Must(ids => ids is null || ids.All(id => id > 0)).WithMessage("ids must be positive.").WithErrorCode("id_invalid");
    }
}

/// <summary>The clients found, in the order their ids were asked for (each once), and the ids not found.</summary>
public sealed record Response(IReadOnlyList<Client> Items, IReadOnlyList<long> Missing) : Caching.IRowCount
{
    [System.Text.Json.Serialization.JsonIgnore]
    public int Rows => Items.Count;
}
