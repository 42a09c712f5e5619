using FastEndpoints;
using NexusCore.PerfApi.Analysis.Performance;
using NexusCore.PerfApi.Contract;

namespace NexusCore.PerfApi.Features.Metrics;

/// <summary>
/// <c>GET /api/v1/performance/metrics</c> (reader): queries (rate, mean, p95, from the <c>nexuscore.query.duration</c>
/// histogram), cache hits and misses by query type (the cache counters), cache entries and size, and connection
/// pools, over the last minute and since start.
/// </summary>
public sealed class Endpoint(PerformanceReader reader) : Endpoint<EmptyRequest, Response>
{
    public static readonly TimeSpan LastMinute = TimeSpan.FromMinutes(1);

    public override void Configure()
    {
        Get("metrics");
        Group<PerformanceGroup>();
        Roles(ApiRoles.Reader);
        Description(d => d.WithName("getMetrics").ClearDefaultProduces().Produces<Response>().ProducesProblems(OpenApiDescriptions.KeyedRoute));
        Summary(s =>
        {
            s.Summary = "Query, cache and connection pool metrics now";
            s.RateLimited();
        });
    }

    public override async Task HandleAsync(EmptyRequest request, CancellationToken ct)
    {
        var sinceStart = reader.SinceStart;
        var queryTypes = reader.QueryTypes(sinceStart);
        var queries = new QueryMetrics(
            Queries(LastMinute, null),
            Queries(sinceStart, null),
            queryTypes.Select(type => new QueryTypeFigures(type, Queries(LastMinute, type), Queries(sinceStart, type))).ToList());

        var cacheNow = reader.CacheLookups(LastMinute);
        var cacheSinceStart = reader.CacheLookups(sinceStart);
        var memory = reader.CacheMemory();
        var cache = new CacheMetrics(
            Cache(PerformanceReader.Total(cacheNow)),
            Cache(PerformanceReader.Total(cacheSinceStart)),
            cacheSinceStart.Select(total => new QueryTypeCacheFigures(
                total.QueryType,
                Cache(cacheNow.FirstOrDefault(c => c.QueryType == total.QueryType) ?? new CacheLookups(total.QueryType, 0, 0)),
                Cache(total))).ToList(),
            Saturating.Sum(memory.Select(m => m.Entries)),
            Saturating.Sum(memory.Select(m => m.SizeMb)),
            memory.Select(m => new CacheInstance(m.Service, m.Instance, m.Entries, m.SizeMb, m.LastSeen)).ToList());

        var pools = reader.Pools(LastMinute);
        var totals = PoolTotals.Of(pools);
        var pool = new PoolMetrics(
            totals.UtilizationPercent, totals.Active, totals.Idle, totals.Available, totals.Max,
            pools.Select(p => new Pool(
                p.Service, p.Instance, p.Pool, p.Used, p.Idle, p.Available, p.Max, p.UtilizationPercent, p.PeakUsed, p.PeakUtilizationPercent, p.LastSeen)).ToList());

        await Send.OkAsync(new Response(reader.Now, queries, cache, pool), ct);
    }

    private QueryFigures Queries(TimeSpan window, string? queryType)
    {
        var stats = reader.Queries(window, queryType);
        var seconds = reader.RateSeconds(window);
        return new QueryFigures(
            reader.Now - TimeSpan.FromSeconds(seconds),
            seconds,
            stats.Count,
            stats.Count / seconds,
            stats.Count == 0 ? null : stats.MeanMs,
            stats.P95Ms,
            stats.MaxMs,
            stats.Errors);
    }

    private static CacheFigures Cache(CacheLookups lookups) => new(lookups.Hits, lookups.Misses, lookups.HitRatePercent);
}
