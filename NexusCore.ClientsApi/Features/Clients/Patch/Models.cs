using FastEndpoints;
using FluentValidation;

namespace NexusCore.ClientsApi.Features.Clients.Patch;

/// <summary>The fields to change; absent (or null) fields keep their value.</summary>
public sealed class Request
{
    public long Id { get; init; }

    [FromHeader("If-Match", IsRequired = false)]
    public string? IfMatch { get; init; }

    public string? Name { get; init; }
    public string? Email { get; init; }
    public string? Status { get; init; }
    public string? ProgramType { get; init; }
}

public sealed class Validator : Validator<Request>
{
    public Validator()
    {
        RuleFor(r => r)
            .Must(r => r.Name is not null || r.Email is not null || r.Status is not null || r.ProgramType is not null)
            .WithName("body").WithMessage("Give at least one of name, email, status, programType.").WithErrorCode("empty_patch");
        RuleFor(r => r.Name).ClientName().When(r => r.Name is not null);
        RuleFor(r => r.Email).ClientEmail().When(r => r.Email is not null);
        RuleFor(r => r.Status).ClientStatus();
        RuleFor(r => r.ProgramType).ClientProgramType().When(r => r.ProgramType is not null);
    }
}
