using FastEndpoints;
using NexusCore.ClientsApi.Caching;
using NexusCore.ClientsApi.Extensions;

namespace NexusCore.ClientsApi.Features.Cache.Statistics;

public sealed record QueryTypeStatistics(long Hits, long Misses, long Stale, decimal HitRate, long Refreshes);

/// <summary>
/// This instance's cache figures since it started; <c>HitRate</c> is a percentage of reads served from
/// the cache (stale included); <c>Refreshes</c> counts entries refreshed in the background ahead of
/// their TTL (eager refresh), each one query that no request waited for.
/// </summary>
public sealed record Response(
    string Instance,
    IReadOnlyDictionary<string, QueryTypeStatistics> ByQueryType,
    long Hits,
    long Misses,
    long Stale,
    decimal HitRate,
    long Entries,
    decimal SizeMb);

/// <summary>No parameters: any query parameter is a 400.</summary>
public sealed class Request;

/// <summary><c>GET /api/v1/cache/statistics</c> (admin): hits and misses by query type, hit rate, entries, size.</summary>
public sealed class Endpoint(CacheMetrics metrics) : Endpoint<Request, Response>
{
    public override void Configure()
    {
        Get("statistics");
        Group<CacheGroup>();
        Roles(ApiRoles.Admin);
        Description(d => d.ClearDefaultProduces().WithName("getCacheStatistics").Produces<Response>().Problems());
        Summary(s =>
        {
            s.Summary = "Cache statistics of this instance";
            s.Description = "Hits, misses, stale serves and eager refreshes by query type, hit rate, entries and size, since this instance started. Role: admin.";
            s.RetryAfterHeaders(unavailable: false);
        });
    }

    public override async Task HandleAsync(Request request, CancellationToken ct)
    {
        var snapshot = metrics.Snapshot();
        var byType = snapshot.ToDictionary(
            s => CacheMetrics.Name(s.Key),
            s => new QueryTypeStatistics(s.Value.Hits, s.Value.Misses, s.Value.Stale, Rate(s.Value.Hits + s.Value.Stale, s.Value.Misses), s.Value.Refreshes));
        long hits = snapshot.Values.Sum(s => s.Hits), misses = snapshot.Values.Sum(s => s.Misses), stale = snapshot.Values.Sum(s => s.Stale);
        await Send.OkAsync(new Response(
            $"{Environment.MachineName}:{Environment.ProcessId}",
            byType,
            hits,
            misses,
            stale,
            Rate(hits + stale, misses),
            metrics.Entries,
            Math.Round(metrics.SizeBytes / 1024m / 1024m, 3)), ct);
    }

    private static decimal Rate(long served, long missed) =>
        served + missed == 0 ? 0m : Math.Round(100m * served / (served + missed), 2, MidpointRounding.AwayFromZero);
}
