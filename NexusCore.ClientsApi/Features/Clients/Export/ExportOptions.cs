using System.ComponentModel.DataAnnotations;

namespace NexusCore.ClientsApi.Features.Clients.Export;

/// <summary>Section <c>Export</c>.</summary>
public sealed class ExportOptions
{
    public const string Section = "Export";

    /// <summary>The longest an export's query may run (seconds); a million rows stream in a few seconds.</summary>
    [Range(1, 3600)]
    public int CommandTimeoutSeconds { get; init; } = 300;
}
