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

    /// <summary>
    /// The status when <paramref name="value"/> is one exactly as documented (lower-case, no spaces), else null. The
    /// OpenAPI document lists these values as an enum; accepting another letter case would accept what the contract
    /// calls invalid, which a schema-driven client or fuzzer rightly treats as a break.
    /// </summary>
    public static string? NormalizeStatus(string? value) =>
        value is null ? null : Statuses.FirstOrDefault(s => s.Equals(value, StringComparison.Ordinal));

    /// <summary>The program type when <paramref name="value"/> is one exactly as documented (upper-case), else null.</summary>
    public static string? NormalizeProgramType(string? value) =>
        value is null ? null : ProgramTypes.FirstOrDefault(p => p.Equals(value, StringComparison.Ordinal));

    /// <summary>One @, a dot in the domain, no spaces or control characters: what a mail system will route.</summary>
    public static bool IsValidEmail(string? value) =>
        value is not null && value.Length <= EmailMaxLength && EmailPattern().IsMatch(value);

    public static bool HasNoControlCharacters(string? value) => value is null || !value.Any(char.IsControl);

    [GeneratedRegex(@"^[^@\s\p{C}]+@[^@\s\p{C}.]+(\.[^@\s\p{C}.]+)+$", RegexOptions.CultureInvariant)]
    private static partial Regex EmailPattern();
}
