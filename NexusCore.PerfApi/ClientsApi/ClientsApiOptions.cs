using System.ComponentModel.DataAnnotations;

namespace NexusCore.PerfApi.ClientsApi;

/// <summary>
/// Section <c>ClientsApi</c>: where ClientsApi is (resolved by Aspire service discovery) and which of PerfApi's
/// own configured API keys (<c>ApiKeys:Keys:&lt;name&gt;:Key</c>) it presents there.
/// </summary>
public sealed class ClientsApiOptions
{
    public const string Section = "ClientsApi";

    /// <summary>The service-discovery name the AppHost's <c>WithReference(clientsApi)</c> provides.</summary>
    [Required, Url]
    public string BaseAddress { get; set; } = "http://clients-api";

    /// <summary>The key sent to ClientsApi's admin-only cache clear.</summary>
    [Required]
    public string AdminKeyName { get; set; } = "admin";

    /// <summary>The key the benchmark reads with.</summary>
    [Required]
    public string ReaderKeyName { get; set; } = "reader";

    /// <summary>How long a cache clear may take, retries included, before PerfApi answers 503.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan CacheClearTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
