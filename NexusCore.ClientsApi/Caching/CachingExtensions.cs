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
