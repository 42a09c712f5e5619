using FastEndpoints;
using NexusCore.PerfApi.Analysis.Performance;
using NexusCore.PerfApi.Store;

namespace NexusCore.PerfApi.Features.Analytics;

/// <summary>
/// <c>GET /api/v1/performance/analytics?window=5m|15m|1h</c> (reader): per service, table, operation and query
/// type: count, throughput, p50/p95/p99, cache hit rate, errors and a time series, busiest first.
/// </summary>
public sealed class Endpoint(PerformanceReader reader) : EndpointWithoutRequest<Response>
{
    /// <summary>Windows up to this many store buckets are drawn bucket by bucket; longer ones per latency roll-up.</summary>
    public const int MaxBucketPoints = 30;

    public override void Configure()
    {
        Get("analytics");
        Group<PerformanceGroup>();
        Roles(ApiRoles.Reader);
        Description(d => d.Produces<Response>().ProducesProblemFE(400).ProducesProblemFE(401).ProducesProblemFE(403));
        Summary(s => s.Summary = "Query analytics per service, table, operation and query type (window 5m, 15m or 1h)");
    }

    public override async Task HandleAsync(CancellationToken ct)
    {
        var parameters = new QueryParameters(HttpContext.Request.Query, "window");
        var window = parameters.Window("window", TimeWindow.FiveMinutes);
        if (parameters.Errors.Count > 0)
        {
            await this.SendQueryErrorsAsync(parameters.Errors, ct);
            return;
        }

        var queries = reader.Store.Queries;
        var bucket = queries.Buckets.WidthNanos / 1e9;
        var rollup = queries.Histograms.WidthNanos / 1e9;
        var perBucket = window.Span.TotalSeconds / bucket <= MaxBucketPoints;
        var rateSeconds = reader.RateSeconds(window.Span);

        var series = new List<Series>();
        foreach (var entry in queries.List(window.Span))
        {
            var key = entry.Key;
            var stats = entry.Stats;
            var filter = new QueryFilter(key.Service, key.Table, key.Operation, key.QueryType);
            series.Add(new Series(
                key.Service, key.Table, key.Operation, key.QueryType,
                stats.Count,
                stats.Count / rateSeconds,
                stats.MeanMs,
                stats.MaxMs,
                stats.P50Ms,
                stats.P95Ms,
                stats.P99Ms,
                stats.CacheHits,
                stats.CacheMisses,
                stats.CacheHitRatio * 100,
                stats.Errors,
                stats.Rows,
                entry.LastSeen,
                perBucket ? BucketPoints(window.Span, filter) : RollupPoints(window.Span, filter)));
        }

        await Send.OkAsync(
            new Response(window.Name, window.Span.TotalSeconds, perBucket ? bucket : rollup, rateSeconds, reader.Now, series), ct);
    }

    private IReadOnlyList<Point> BucketPoints(TimeSpan window, QueryFilter filter) =>
        reader.Store.Queries.Timeline(window, filter).Select(p => new Point(p.Start, p.Count, p.MeanMs, p.MaxMs, p.Errors, null)).ToList();

    /// <summary>Buckets merged per latency roll-up, each with the roll-up's p95.</summary>
    private IReadOnlyList<Point> RollupPoints(TimeSpan window, QueryFilter filter)
    {
        var queries = reader.Store.Queries;
        var rollupTicks = queries.Histograms.WidthNanos / 100;
        var buckets = queries.Timeline(window, filter)
            .GroupBy(p => p.Start.UtcTicks - (p.Start.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) % rollupTicks)
            .ToDictionary(g => g.Key, g => g.ToList());
        return queries.RollupQuantiles(window, 0.95, filter).Select(rollup =>
        {
            var parts = buckets.GetValueOrDefault(rollup.Start.UtcTicks) ?? [];
            var count = parts.Sum(p => p.Count);
            return new Point(
                rollup.Start,
                count,
                count == 0 ? 0 : parts.Sum(p => p.MeanMs * p.Count) / count,
                parts.Count == 0 ? 0 : parts.Max(p => p.MaxMs),
                parts.Sum(p => p.Errors),
                rollup.ValueMs);
        }).ToList();
    }
}
