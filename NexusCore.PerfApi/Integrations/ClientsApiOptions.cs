using System.ComponentModel.DataAnnotations;

namespace NexusCore.PerfApi.Integrations;

/// <summary>
/// Section <c>ClientsApi</c>: where ClientsApi is (resolved by Aspire service discovery) and how long a cache clear
/// there may take. PerfApi calls it with its caller's key (see <see cref="ClientsApiClient"/>).
/// </summary>
public sealed class ClientsApiOptions
{
    public const string Section = "ClientsApi";

    /// <summary>The service-discovery name the AppHost's <c>WithReference(clientsApi)</c> provides.</summary>
    [Required, Url]
    public string BaseAddress { get; set; } = "http://clients-api";

    /// <summary>How long a cache clear may take, retries included, before PerfApi answers 503.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan CacheClearTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
