using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Registry;
using NexusCore.ClientsApi.Database;
using NexusCore.ClientsApi.Telemetry;
using ZiggyCreatures.Caching.Fusion;

namespace NexusCore.ClientsApi.Caching;

/// <summary>
/// Caches whole JSON responses of reads in FusionCache (memory L1, Redis L2, Redis backplane), keyed by
/// the normalized, validated request, each with its ETag. It only caches: the endpoints write what it
/// returns (<c>CachedReads.SendAsync</c>: the stored bytes as they are, ETag, 304 to a matching If-None-Match).
/// </summary>
public sealed class ReadCache(
    IFusionCache cache,
    IOptionsMonitor<CacheOptions> options,
    CacheMetrics metrics,
    QueryTelemetry telemetry,
    ResiliencePipelineProvider<string> pipelines,
    TimeProvider clock,
    CacheKeys keys)
{
    /// <summary>How every cached (and uncached) read is serialized, so a hit is byte-identical to a miss.</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    /// <summary>
    /// Returns the cached response for <paramref name="request"/> (a canonical description of a validated
    /// request), or runs <paramref name="produce"/> once per instance however many requests wait for it.
    /// </summary>
    public async Task<CacheResult> GetAsync<T>(
        QueryType type,
        string request,
        IReadOnlyCollection<string> tags,
        Func<CancellationToken, Task<T>> produce,
        Func<T, string>? etag,
        CancellationToken ct)
        where T : class =>
        (await GetOrNullAsync<T>(type, request, tags, async token => await produce(token), etag, ct))!;

    /// <summary>
    /// As <see cref="GetAsync{T}"/>, but a null from <paramref name="produce"/> (nothing found) is returned
    /// as null and never cached: an id that does not exist yet may exist a moment later.
    /// </summary>
    public async Task<CacheResult?> GetOrNullAsync<T>(
        QueryType type,
        string request,
        IReadOnlyCollection<string> tags,
        Func<CancellationToken, Task<T?>> produce,
        Func<T, string>? etag,
        CancellationToken ct)
        where T : class
    {
        // The logical query is the read as the caller sees it: a hit costs microseconds, a miss
        // includes Postgres (whose own spans nest under this one).
        using var query = telemetry.StartRead(CacheMetrics.Name(type));
        try
        {
            var result = await ReadAsync(type, request, tags, produce, etag, query, ct);
            query.CacheHit = result?.Outcome is CacheOutcome.Hit or CacheOutcome.Stale;
            query.Rows = result?.Response.Rows ?? 0;
            return result;
        }
        catch (Exception ex)
        {
            query.Fail(ex);
            throw;
        }
    }

    /// <summary>
    /// Pass as <c>etag</c> for a read sent by POST (by-ids): no ETag is computed or sent, and
    /// If-None-Match is not evaluated, since RFC 9110 §13.1.2 allows a 304 only for GET and HEAD and
    /// such a response has no URL a client could revalidate.
    /// </summary>
    public static string NoETag(object value) => "";

    private async Task<CacheResult?> ReadAsync<T>(
        QueryType type,
        string request,
        IReadOnlyCollection<string> tags,
        Func<CancellationToken, Task<T?>> produce,
        Func<T, string>? etag,
        QueryScope query,
        CancellationToken ct)
        where T : class
    {
        var settings = options.CurrentValue;
        if (!settings.Enabled)
        {
            query.Span();
            var fresh = await ProduceAsync(produce, etag, ct);
            metrics.Record(type, CacheOutcome.Bypass);
            return fresh is null ? null : new CacheResult(fresh, CacheOutcome.Bypass, TimeSpan.Zero);
        }

        var asked = clock.GetUtcNow().UtcDateTime;
        var produced = false;
        var entry = await cache.GetOrSetAsync<CachedResponse?>(
            keys.For(type, request),
            async (context, token) =>
            {
                produced = true;
                query.Span();
                var response = await ProduceAsync(produce, etag, token);
                if (response is null)
                {
                    context.Options.SkipMemoryCacheWrite = true;
                    context.Options.SkipDistributedCacheWrite = true;
                    return null;
                }

                // Sized entries let the memory cache's SizeLimit bound memory in bytes.
                context.Options.Size = response.Body.Length + 256;

                // A value just read from Postgres makes no other instance's entry stale (writes remove
                // those by tag, through the backplane): telling every instance about it is wasted work.
                context.Options.SkipBackplaneNotifications = true;
                return response;
            },
            options: EntryOptions(settings)[(int)type],
            tags: tags,
            token: ct);

        if (entry is null)
        {
            metrics.Record(type, CacheOutcome.Miss);
            return null;
        }

        var age = clock.GetUtcNow().UtcDateTime - entry.ProducedAt;
        // A miss is a read whose own query produced what it returns. An eager refresh runs this call's
        // factory in the background but returns the entry cached before the call: a hit.
        var outcome = age > settings.Ttl(type) ? CacheOutcome.Stale : produced && entry.ProducedAt >= asked ? CacheOutcome.Miss : CacheOutcome.Hit;
        metrics.Record(type, outcome);
        return new CacheResult(entry, outcome, age < TimeSpan.Zero ? TimeSpan.Zero : age);
    }

    private readonly ResiliencePipeline _retries = pipelines.GetPipeline(DatabaseOptions.ReadPipeline);

    private async Task<CachedResponse?> ProduceAsync<T>(Func<CancellationToken, Task<T?>> produce, Func<T, string>? etag, CancellationToken ct)
        where T : class
    {
        // Reads are idempotent: a transient Postgres error (restart, lost connection) is retried.
        var value = await _retries.ExecuteAsync(async token => await produce(token), ct);
        if (value is null)
        {
            return null;
        }

        var body = JsonSerializer.SerializeToUtf8Bytes(value, Json);
        return new CachedResponse(body, etag?.Invoke(value) ?? ContentETag(body), clock.GetUtcNow().UtcDateTime, (value as IRowCount)?.Rows ?? 1);
    }

    private EntryOptionsOf? _entryOptions;

    /// <summary>
    /// Each query type's entry options, built once per settings value (a reload makes a new one) rather than on every
    /// read. Shared safely: FusionCache copies them before a factory changes its entry's (adaptive caching).
    /// </summary>
    private FusionCacheEntryOptions[] EntryOptions(CacheOptions settings)
    {
        var built = Volatile.Read(ref _entryOptions);
        if (!ReferenceEquals(built?.Settings, settings))
        {
            built = new EntryOptionsOf(settings, Enum.GetValues<QueryType>().Select(type => EntryOptions(settings, type)).ToArray());
            Volatile.Write(ref _entryOptions, built);
        }

        return built!.ByType;
    }

    private sealed record EntryOptionsOf(CacheOptions Settings, FusionCacheEntryOptions[] ByType);

    private static FusionCacheEntryOptions EntryOptions(CacheOptions settings, QueryType type) => new()
    {
        Duration = settings.Ttl(type),
        IsFailSafeEnabled = settings.FailSafeMaxSeconds > 0,
        FailSafeMaxDuration = settings.Ttl(type) + TimeSpan.FromSeconds(settings.FailSafeMaxSeconds),
        FailSafeThrottleDuration = TimeSpan.FromSeconds(settings.FailSafeThrottleSeconds),
        EagerRefreshThreshold = settings.EagerRefreshThreshold > 0 ? (float)settings.EagerRefreshThreshold : null,
        FactorySoftTimeout = TimeSpan.FromMilliseconds(settings.FactorySoftTimeoutMs),
        FactoryHardTimeout = TimeSpan.FromMilliseconds(settings.FactoryHardTimeoutMs),
        AllowTimedOutFactoryBackgroundCompletion = true,
        // Redis is an accelerator, never on the request's critical path: L2 writes and backplane
        // messages go out in the background, and a slow Redis read gives up after 100 ms.
        AllowBackgroundDistributedCacheOperations = true,
        AllowBackgroundBackplaneOperations = true,
        DistributedCacheSoftTimeout = TimeSpan.FromMilliseconds(100),
        DistributedCacheHardTimeout = TimeSpan.FromMilliseconds(500),
    };

    /// <summary>
    /// The query type of a key made by <see cref="CacheKeys.For"/>, as FusionCache reports it (behind its key
    /// prefix), or null for a key of FusionCache's own (tags, clear markers).
    /// </summary>
    internal static QueryType? TypeOfKey(string key)
    {
        var segments = key.Split(':');
        return segments.Length >= 2 && Enum.TryParse<QueryType>(segments[^2], ignoreCase: true, out var type) ? type : null;
    }

    private static string ContentETag(byte[] body) =>
        "\"" + Convert.ToBase64String(SHA256.HashData(body).AsSpan(0, 12)).TrimEnd('=').Replace('+', '-').Replace('/', '_') + "\"";
}
