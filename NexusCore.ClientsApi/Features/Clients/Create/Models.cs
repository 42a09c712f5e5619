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
        RuleFor(r => r.Name)
            .Must(n => !string.IsNullOrWhiteSpace(n)).WithMessage("name is required.").WithErrorCode("name_required")
            .MaximumLength(ClientRules.NameMaxLength).WithErrorCode("name_too_long")
            .Must(ClientRules.HasNoControlCharacters).WithMessage("name must not contain control characters.").WithErrorCode("name_invalid");

        RuleFor(r => r.Email)
            .Must(e => !string.IsNullOrWhiteSpace(e)).WithMessage("email is required.").WithErrorCode("email_required")
            .Must(e => ClientRules.IsValidEmail(e?.Trim())).WithMessage("email must be a valid email address.").WithErrorCode("email_invalid")
            .When(r => !string.IsNullOrWhiteSpace(r.Email), ApplyConditionTo.CurrentValidator);

        RuleFor(r => r.Status)
            .Must(s => ClientRules.NormalizeStatus(s) is not null)
            .When(r => r.Status is not null)
            .WithMessage($"status must be one of: {ClientRules.StatusList}.")
            .WithErrorCode("status_unknown");

        RuleFor(r => r.ProgramType)
            .Must(p => !string.IsNullOrWhiteSpace(p)).WithMessage("programType is required.").WithErrorCode("program_type_required")
            .Must(p => ClientRules.NormalizeProgramType(p) is not null)
            .When(r => !string.IsNullOrWhiteSpace(r.ProgramType), ApplyConditionTo.CurrentValidator)
            .WithMessage($"programType must be one of: {ClientRules.ProgramTypeList}.")
            .WithErrorCode("program_type_unknown");
    }
}
