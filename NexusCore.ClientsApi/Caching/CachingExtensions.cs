using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using ZiggyCreatures.Caching.Fusion;
using ZiggyCreatures.Caching.Fusion.Backplane.StackExchangeRedis;
using ZiggyCreatures.Caching.Fusion.Serialization.SystemTextJson;

namespace NexusCore.ClientsApi.Caching;

internal static class CachingExtensions
{
    /// <summary>
    /// FusionCache over a size-bounded memory cache (L1), Redis (L2) and the Redis backplane, all on
    /// the Aspire-managed connection to <c>cache</c>, which reconnects by itself after an outage.
    /// </summary>
    public static void AddResponseCaching(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<CacheOptions>()
            .BindConfiguration(CacheOptions.Section)
            .PostConfigure<IConfiguration>(ApplySeedSettings)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        builder.Services.AddSingleton(sp => new MemoryCache(new MemoryCacheOptions
        {
            SizeLimit = sp.GetRequiredService<IOptions<CacheOptions>>().Value.MaxMemoryMb * 1024L * 1024L,
            TrackStatistics = true,
            CompactionPercentage = 0.2,
        }));

        // FusionCache's own entries (tag and clear markers) are tiny: give them a size so the
        // memory cache's SizeLimit accepts them; responses set their real size when produced.
        var defaults = new FusionCacheEntryOptions { Size = 64 };
        builder.Services.AddFusionCache()
            .WithOptions(options =>
            {
                options.DefaultEntryOptions = defaults;
                options.TagsDefaultEntryOptions = defaults.Duplicate();
                options.DistributedCacheCircuitBreakerDuration = TimeSpan.FromSeconds(2);
                options.BackplaneCircuitBreakerDuration = TimeSpan.FromSeconds(2);
                options.ReThrowOriginalExceptions = true;
                options.FailSafeActivationLogLevel = LogLevel.Information;
                options.DistributedCacheErrorsLogLevel = LogLevel.Warning;
                options.BackplaneErrorsLogLevel = LogLevel.Warning;
            })
            .WithCacheKeyPrefix("nexuscore:clients:")
            .WithMemoryCache(sp => sp.GetRequiredService<MemoryCache>())
            // Fields included: FusionCache's own L2 metadata holds value tuples, which System.Text.Json
            // skips otherwise (FusionCache warns about exactly this at startup).
            .WithSerializer(new FusionCacheSystemTextJsonSerializer(new System.Text.Json.JsonSerializerOptions { IncludeFields = true }))
            .WithDistributedCache(sp => new RedisCache(new RedisCacheOptions
            {
                ConnectionMultiplexerFactory = () => Task.FromResult(sp.GetRequiredService<IConnectionMultiplexer>()),
            }))
            .WithBackplane(sp => new RedisBackplane(new RedisBackplaneOptions
            {
                ConnectionMultiplexerFactory = () => Task.FromResult(sp.GetRequiredService<IConnectionMultiplexer>()),
            }));

        builder.Services.AddSingleton<CacheMetrics>();
        builder.Services.AddSingleton<ReadCache>();
        builder.Services.AddSingleton<CacheInvalidator>();
        builder.Services.AddHealthChecks().AddCheck<RedisHealthCheck>("redis");
    }

    /// <summary>
    /// The seed's flat settings (environment variables) win over the <c>Cache</c> section. The default TTL
    /// (<c>CACHE_DEFAULT_TTL</c> or <c>Cache:DefaultTtlSeconds</c>), when set, is the TTL of every query type
    /// that has none of its own set; a type's own setting wins over it; with neither, a type keeps its default.
    /// </summary>
    private static void ApplySeedSettings(CacheOptions options, IConfiguration configuration)
    {
        static int? Seconds(IConfiguration c, string key) => int.TryParse(c[key], out var value) ? value : null;

        var fallback = Seconds(configuration, "CACHE_DEFAULT_TTL") ?? Seconds(configuration, $"{CacheOptions.Section}:{nameof(CacheOptions.DefaultTtlSeconds)}");
        options.DefaultTtlSeconds = fallback ?? options.DefaultTtlSeconds;
        int Ttl(string flat, string property, int bound) =>
            Seconds(configuration, flat) ?? (configuration[$"{CacheOptions.Section}:{property}"] is not null ? bound : fallback ?? bound);

        options.CountTtlSeconds = Ttl("CACHE_TTL_COUNT", nameof(CacheOptions.CountTtlSeconds), options.CountTtlSeconds);
        options.FindTtlSeconds = Ttl("CACHE_TTL_FIND", nameof(CacheOptions.FindTtlSeconds), options.FindTtlSeconds);
        options.SearchTtlSeconds = Ttl("CACHE_TTL_SEARCH", nameof(CacheOptions.SearchTtlSeconds), options.SearchTtlSeconds);
        options.AnalyticsTtlSeconds = Ttl("CACHE_TTL_ANALYTICS", nameof(CacheOptions.AnalyticsTtlSeconds), options.AnalyticsTtlSeconds);
        if (double.TryParse(configuration["CACHE_EAGER_REFRESH"], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var threshold))
        {
            options.EagerRefreshThreshold = threshold;
        }
    }
}

/// <summary>
/// Redis down makes the API degraded, not unhealthy: reads fall back to memory and Postgres, so the
/// instance must stay in rotation (<c>/health</c> still answers 200, with "Degraded").
/// </summary>
internal sealed class RedisHealthCheck(IConnectionMultiplexer redis) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var latency = await redis.GetDatabase().PingAsync().WaitAsync(TimeSpan.FromSeconds(1), cancellationToken);
            return HealthCheckResult.Healthy($"Redis answered in {latency.TotalMilliseconds:0.0} ms");
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            return HealthCheckResult.Degraded("Redis is unreachable: serving from memory and Postgres", ex);
        }
    }
}
