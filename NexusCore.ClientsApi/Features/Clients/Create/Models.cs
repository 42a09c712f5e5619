using System.ComponentModel.DataAnnotations;
using FastEndpoints;
using FluentValidation;

namespace NexusCore.ClientsApi.Features.Clients.Create;

public sealed class Request
{
    /// <summary>1 to 200 characters, without control characters.</summary>
    [Required, MaxLength(ClientRules.NameMaxLength)]
    public string? Name { get; init; }

    /// <summary>Unique whatever its letter case.</summary>
    [Required, MaxLength(ClientRules.EmailMaxLength)]
    public string? Email { get; init; }

    /// <summary>active (default), inactive or pending.</summary>
    public string? Status { get; init; }

    /// <summary>PRIME, LONGEVITY or PERFORMANCE.</summary>
    [Required]
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
