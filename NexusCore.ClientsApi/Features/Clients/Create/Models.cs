using FastEndpoints;
using FluentValidation;

namespace NexusCore.ClientsApi.Features.Clients.Create;

public sealed class Request
{
    public string? Name { get; init; }
    public string? Email { get; init; }

    /// <summary>active (default), inactive or pending.</summary>
    public string? Status { get; init; }

    /// <summary>PRIME, LONGEVITY or PERFORMANCE.</summary>
    public string? ProgramType { get; init; }
}

public sealed class Validator : Validator<Request>
{
    public Validator()
    {
        RuleFor(r => r.Name).ClientName();
        RuleFor(r => r.Email).ClientEmail();
        RuleFor(r => r.Status).ClientStatus();
        RuleFor(r => r.ProgramType).ClientProgramType();
    }
}
