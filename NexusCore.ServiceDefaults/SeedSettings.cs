using Microsoft.Extensions.Configuration;

namespace NexusCore.ServiceDefaults;

/// <summary>A flat name the seed gave a setting (<c>CACHE_TTL_FIND</c>) and the options key that owns it (<c>Cache:FindTtlSeconds</c>).</summary>
internal sealed record SeedSetting(string Name, string Key);

/// <summary>
/// The one place the seed's flat setting names are mapped onto the options keys the code binds. The services
/// read them through <see cref="SeedSettingsSource"/>; the AppHost forwards exactly these names to the services.
/// This file is compiled into both (the AppHost links it as source). README's configuration table is tested
/// against this list and the options types' defaults.
/// </summary>
internal static class SeedSettings
{
    public static readonly IReadOnlyList<SeedSetting> All =
    [
        new("CACHE_DEFAULT_TTL", "Cache:DefaultTtlSeconds"),
        new("CACHE_TTL_COUNT", "Cache:CountTtlSeconds"),
        new("CACHE_TTL_FIND", "Cache:FindTtlSeconds"),
        new("CACHE_TTL_SEARCH", "Cache:SearchTtlSeconds"),
        new("CACHE_TTL_ANALYTICS", "Cache:AnalyticsTtlSeconds"),
        new("CACHE_EAGER_REFRESH", "Cache:EagerRefreshThreshold"),
        new("DB_POOL_SIZE", "Database:PoolSize"),
        new("DB_WRITE_POOL_SIZE", "Database:WritePoolSize"),
        new("DB_LOOKUP_POOL_SIZE", "Database:LookupPoolSize"),
        new("DB_BULK_LOOKUP_CONCURRENCY", "Database:BulkLookupConcurrency"),
        new("DB_AUTO_PREPARE", "Database:AutoPrepare"),
        new("DB_CONNECTION_TIMEOUT", "Database:ConnectionTimeoutSeconds"),
        new("DB_COMMAND_TIMEOUT", "Database:CommandTimeoutSeconds"),
        new("DB_MAX_RETRIES", "Database:MaxRetries"),
        new("DB_RETRY_DELAY", "Database:RetryDelayMs"),
        new("PERFORMANCE_MONITORING", "PerformanceMonitoring:Enabled"),
        new("SLOW_QUERY_THRESHOLD", "SlowQuery:ThresholdSeconds"),
        new("CORS_ALLOWED_ORIGINS", "Cors:AllowedOrigins"),
    ];

    private static readonly Dictionary<string, SeedSetting> ByKey = All.ToDictionary(s => s.Key, StringComparer.OrdinalIgnoreCase);

    /// <summary>The seed's name of the setting at <paramref name="key"/> (<c>Section:Property</c>), or the key itself when the seed had none.</summary>
    public static string NameOf(string key) => ByKey.TryGetValue(key, out var setting) ? setting.Name : key;

    /// <summary>The setting as README and error messages name it: <c>CACHE_TTL_FIND (Cache:FindTtlSeconds)</c>.</summary>
    public static string Describe(string key) => ByKey.TryGetValue(key, out var setting) ? $"{setting.Name} ({setting.Key})" : key;

    internal static bool TryGetByKey(string key, out SeedSetting setting) => ByKey.TryGetValue(key, out setting!);

    /// <summary>
    /// Maps the seed's flat names onto their keys in <paramref name="configuration"/>, once: a flat name, when set,
    /// wins over its key set anywhere else (appsettings.json, <c>Cache__FindTtlSeconds</c>).
    /// </summary>
    public static IConfigurationManager AddSeedSettings(this IConfigurationManager configuration)
    {
        if (!configuration.Sources.OfType<SeedSettingsSource>().Any())
        {
            configuration.Add(new SeedSettingsSource(configuration));
        }

        return configuration;
    }
}

/// <summary>Answers each mapped key with its flat name's value, read live from the rest of the configuration.</summary>
internal sealed class SeedSettingsSource(IConfiguration root) : IConfigurationSource
{
    public IConfigurationProvider Build(IConfigurationBuilder builder) => new Provider(root);

    private sealed class Provider(IConfiguration root) : ConfigurationProvider
    {
        // Flat names are not keys of this provider, so reading one from the root never comes back here.
        public override bool TryGet(string key, out string? value)
        {
            value = SeedSettings.TryGetByKey(key, out var setting) ? Flat(setting) : null;
            return value is not null;
        }

        public override void Set(string key, string? value)
        {
            // Values are the flat names' own: a key set directly goes to the other sources.
        }

        public override IEnumerable<string> GetChildKeys(IEnumerable<string> earlierKeys, string? parentPath)
        {
            var prefix = parentPath is null ? "" : parentPath + ConfigurationPath.KeyDelimiter;
            var mine = SeedSettings.All
                .Where(s => s.Key.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) && Flat(s) is not null)
                .Select(s => s.Key[prefix.Length..].Split(ConfigurationPath.KeyDelimiter)[0]);
            return earlierKeys.Concat(mine).Order(ConfigurationKeyComparer.Instance);
        }

        public override void Load()
        {
        }

        private string? Flat(SeedSetting setting) => root[setting.Name] is { Length: > 0 } text ? text : null;
    }
}
