using FluentValidation;

namespace NexusCore.ClientsApi.Features.Clients;

/// <summary>The validation of each client field, shared by create, patch and batch items.</summary>
public static class ClientFieldRules
{
    public static IRuleBuilderOptions<T, string?> ClientName<T>(this IRuleBuilder<T, string?> rule) => rule
        .Must(n => !string.IsNullOrWhiteSpace(n)).WithMessage("name is required.").WithErrorCode("name_required")
        .Must(n => n is null || n.Trim().Length <= ClientRules.NameMaxLength)
        .WithMessage($"name must be at most {ClientRules.NameMaxLength} characters.").WithErrorCode("name_too_long")
        .Must(ClientRules.HasNoControlCharacters).WithMessage("name must not contain control characters.").WithErrorCode("name_invalid");

    public static IRuleBuilderOptions<T, string?> ClientEmail<T>(this IRuleBuilder<T, string?> rule) => rule
        .Must(e => !string.IsNullOrWhiteSpace(e)).WithMessage("email is required.").WithErrorCode("email_required")
        .Must(e => string.IsNullOrWhiteSpace(e) || ClientRules.IsValidEmail(e.Trim()))
        .WithMessage("email must be a valid email address.").WithErrorCode("email_invalid");

    public static IRuleBuilderOptions<T, string?> ClientStatus<T>(this IRuleBuilder<T, string?> rule) => rule
        .Must(s => s is null || ClientRules.NormalizeStatus(s) is not null)
        .WithMessage($"status must be one of: {ClientRules.StatusList}.").WithErrorCode("status_unknown");

    public static IRuleBuilderOptions<T, string?> ClientProgramType<T>(this IRuleBuilder<T, string?> rule) => rule
        .Must(p => !string.IsNullOrWhiteSpace(p)).WithMessage("programType is required.").WithErrorCode("program_type_required")
        .Must(p => string.IsNullOrWhiteSpace(p) || ClientRules.NormalizeProgramType(p) is not null)
        .WithMessage($"programType must be one of: {ClientRules.ProgramTypeList}.").WithErrorCode("program_type_unknown");

    /// <summary>
    /// A client id in a route: ids start at 1, so 0 and negative numbers are malformed (400), as digits that
    /// are not a number are, rather than ids no client has (404).
    /// </summary>
    public static IRuleBuilderOptions<T, long> ClientId<T>(this IRuleBuilder<T, long> rule) => rule
        .GreaterThanOrEqualTo(1).WithMessage("id must be a client's id: a whole number from 1.").WithErrorCode("id_invalid");
}
