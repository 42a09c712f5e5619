using Microsoft.Extensions.Configuration;
using NexusCore.ServiceDefaults;

namespace NexusCore.AppHost;

/// <summary>
/// The seed's operational settings (<see cref="SeedSettings.All"/>, the list the services map onto their options), forwarded from the AppHost's configuration (environment, command
/// line, user secrets) to the services, so <c>CACHE_DEFAULT_TTL=60 ./run.sh</c> reaches ClientsApi.
/// </summary>
internal static class SeedSettingsExtensions
{
    public static IResourceBuilder<T> WithSeedSettings<T>(this IResourceBuilder<T> service, IConfiguration configuration)
        where T : IResourceWithEnvironment
    {
        foreach (var setting in SeedSettings.All)
        {
            if (configuration[setting.Name] is { Length: > 0 } value)
            {
                service.WithEnvironment(setting.Name, value);
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
