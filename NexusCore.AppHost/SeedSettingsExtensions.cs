using Microsoft.Extensions.Configuration;

namespace NexusCore.AppHost;

/// <summary>
/// The seed's operational settings, forwarded from the AppHost's configuration (environment, command
/// line, user secrets) to the services, so <c>CACHE_DEFAULT_TTL=60 ./run.sh</c> reaches ClientsApi.
/// </summary>
internal static class SeedSettingsExtensions
{
    public static readonly string[] Names =
    [
        "CACHE_DEFAULT_TTL", "CACHE_TTL_COUNT", "CACHE_TTL_FIND", "CACHE_TTL_SEARCH", "CACHE_TTL_ANALYTICS", "CACHE_EAGER_REFRESH",
        "DB_POOL_SIZE", "DB_WRITE_POOL_SIZE", "DB_LOOKUP_POOL_SIZE", "DB_BULK_LOOKUP_CONCURRENCY", "DB_AUTO_PREPARE", "DB_CONNECTION_TIMEOUT", "DB_COMMAND_TIMEOUT", "DB_MAX_RETRIES", "DB_RETRY_DELAY",
        "PERFORMANCE_MONITORING", "SLOW_QUERY_THRESHOLD", "CORS_ALLOWED_ORIGINS",
    ];

    public static IResourceBuilder<T> WithSeedSettings<T>(this IResourceBuilder<T> service, IConfiguration configuration)
        where T : IResourceWithEnvironment
    {
        foreach (var name in Names)
        {
            if (configuration[name] is { Length: > 0 } value)
            {
                service.WithEnvironment(name, value);
            }
        }

        // Any other setting for one service: NexusCore:Services:<resource>:Environment:<NAME>=<value>,
        // e.g. --NexusCore:Services:clients-api:Environment:Cache__Enabled=false (the benchmark's "before").
        foreach (var setting in configuration.GetSection($"NexusCore:Services:{service.Resource.Name}:Environment").GetChildren())
        {
            service.WithEnvironment(setting.Key, setting.Value ?? "");
        }

        return service;
    }
}
