using System.Text.RegularExpressions;

namespace NexusCore.ClientsApi.Features.Clients;

/// <summary>The allow-lists and formats a client must satisfy; mirrored by the table's CHECK constraints.</summary>
public static partial class ClientRules
{
    public const int NameMaxLength = 200;
    public const int EmailMaxLength = 254;

    public static readonly IReadOnlyList<string> Statuses = ["active", "inactive", "pending"];
    public static readonly IReadOnlyList<string> ProgramTypes = ["PRIME", "LONGEVITY", "PERFORMANCE"];

    public static string StatusList => string.Join(", ", Statuses);
    public static string ProgramTypeList => string.Join(", ", ProgramTypes);

    /// <summary>Statuses are accepted in any letter case and stored lower-case.</summary>
    public static string? NormalizeStatus(string? value) =>
        value is null ? null : Statuses.FirstOrDefault(s => s.Equals(value.Trim(), StringComparison.OrdinalIgnoreCase));

    /// <summary>Program types are accepted in any letter case and stored upper-case.</summary>
    public static string? NormalizeProgramType(string? value) =>
        value is null ? null : ProgramTypes.FirstOrDefault(p => p.Equals(value.Trim(), StringComparison.OrdinalIgnoreCase));

    /// <summary>One @, a dot in the domain, no spaces or control characters: what a mail system will route.</summary>
    public static bool IsValidEmail(string? value) =>
        value is not null && value.Length <= EmailMaxLength && EmailPattern().IsMatch(value);

    public static bool HasNoControlCharacters(string? value) => value is null || !value.Any(char.IsControl);

    [GeneratedRegex(@"^[^@\s\p{C}]+@[^@\s\p{C}.]+(\.[^@\s\p{C}.]+)+$", RegexOptions.CultureInvariant)]
    private static partial Regex EmailPattern();
}
