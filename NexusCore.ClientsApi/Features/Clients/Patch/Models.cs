using System.ComponentModel.DataAnnotations;
using FastEndpoints;
using FluentValidation;

namespace NexusCore.ClientsApi.Features.Clients.Patch;

/// <summary>The fields to change; absent (or null) fields keep their value. At least one is needed.</summary>
public sealed class Request
{
    /// <summary>The client's id, a whole number from 1 (the route's, never the body's).</summary>
    [RouteParam, ParseErrorCode("id_invalid"), Range(1, long.MaxValue)]
    public long Id { get; init; }

    /// <summary>
    /// <c>*</c> or one or more ETags (weak ones count as strong): the change applies only to a version named,
    /// else 412. A header only: a body's <c>ifMatch</c> is an unknown field.
    /// </summary>
    [FromHeader("If-Match", IsRequired = false, RemoveFromSchema = true)]
    public string? IfMatch { get; init; }

    /// <summary>1 to 200 characters, without control characters.</summary>
    [MinLength(1), MaxLength(ClientRules.NameMaxLength)]
    public string? Name { get; init; }

    [MaxLength(ClientRules.EmailMaxLength)]
    public string? Email { get; init; }

    /// <summary>active, inactive or pending.</summary>
    public string? Status { get; init; }

    /// <summary>PRIME, LONGEVITY or PERFORMANCE.</summary>
    public string? ProgramType { get; init; }
}

public sealed class Validator : Validator<Request>
{
    public Validator()
    {
        RuleFor(r => r.Id).ClientId();
        RuleFor(r => r)
            .Must(r => r.Name is not null || r.Email is not null || r.Status is not null || r.ProgramType is not null)
            .WithName("body").WithMessage("Give at least one of name, email, status, programType.").WithErrorCode("empty_patch");
        RuleFor(r => r.Name).ClientName().When(r => r.Name is not null);
        RuleFor(r => r.Email).ClientEmail().When(r => r.Email is not null);
        RuleFor(r => r.Status).ClientStatus();
        RuleFor(r => r.ProgramType).ClientProgramType().When(r => r.ProgramType is not null);
    }
}
