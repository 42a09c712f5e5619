using FastEndpoints;
using NexusCore.PerfApi.Analysis.Performance;
using NexusCore.PerfApi.Store;
using NexusCore.PerfApi.Store.History;
using Npgsql;

namespace NexusCore.PerfApi.Features.Analytics;

/// <summary>
/// <c>GET /api/v1/performance/analytics?window=5m|15m|1h|24h|7d</c> (reader): per service, table, operation and query
/// type: count, throughput, p50/p95/p99, cache hit rate, errors and a time series, busiest first. Windows memory
/// holds are read from memory; longer ones, and short ones that reach back before a restart, from history
/// (<see cref="QueryHistory"/>).
/// </summary>
public sealed class Endpoint(PerformanceReader reader, QueryHistory history) : EndpointWithoutRequest<Response>
{
    /// <summary>Windows up to this many store buckets are drawn bucket by bucket; longer ones per latency roll-up.</summary>
    public const int MaxBucketPoints = 30;

    public override void Configure()
    {
        Get("analytics");
        Group<PerformanceGroup>();
        Roles(ApiRoles.Reader);
        Description(d => d.Produces<Response>().ProducesProblemFE(400).ProducesProblemFE(401).ProducesProblemFE(403).ProducesProblemFE(503));
        Summary(s => s.Summary = "Query analytics per service, table, operation and query type (window 5m, 15m, 1h, 24h or 7d)");
    }

    public override async Task HandleAsync(CancellationToken ct)
    {
        var parameters = new QueryParameters(HttpContext.Request.Query, "window");
        var window = parameters.Window("window", TimeWindow.FiveMinutes, TimeWindow.WithHistory);
        if (parameters.Errors.Count > 0)
        {
            await this.SendQueryErrorsAsync(parameters.Errors, ct);
            return;
        }

        if (await history.NeededAsync(window.Span, ct))
        {
            HistoryWindow figures;
            try
            {
                figures = await history.ReadAsync(window.Span, PointWidth(window.Span), ct);
            }
            catch (NpgsqlException ex)
            {
                // Postgres could not be reached or refused the read: said, with the SQLSTATE, never PostgreSQL's text.
                HttpContext.Response.Headers.RetryAfter = "5";
                await Send.ResultAsync(TypedResults.Problem(
                    detail: $"The history of window {window.Name} could not be read from the database.",
                    statusCode: StatusCodes.Status503ServiceUnavailable,
                    extensions: new Dictionary<string, object?> { ["code"] = "history_unavailable", ["sqlState"] = (ex as PostgresException)?.SqlState }));
                return;
            }

            await Send.OkAsync(FromHistory(window, figures), ct);
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

    /// <summary>Points of a history window: a minute up to 1 h, an hour up to a day, six hours beyond (24 or 28 points).</summary>
    public static TimeSpan PointWidth(TimeSpan window) =>
        window <= TimeSpan.FromHours(1) ? TimeSpan.FromMinutes(1) : window <= TimeSpan.FromDays(1) ? TimeSpan.FromHours(1) : TimeSpan.FromHours(6);

    /// <summary>
    /// Per (service, table, operation, query type), the cache outcomes merged. Durations are kept in seconds; answers are
    /// in ms. Throughput is over the whole window; rows are not kept in history (0); points carry no p95.
    /// </summary>
    private Response FromHistory(TimeWindow window, HistoryWindow figures)
    {
        var series = new List<Series>();
        foreach (var group in figures.Series.GroupBy(s => (s.Key.Service, s.Key.Table, s.Key.Operation, s.Key.QueryType)))
        {
            var durations = new ExponentialHistogram();
            long errors = 0;
            var lastSeen = DateTimeOffset.MinValue;
            foreach (var part in group)
            {
                durations.Merge(part.Durations);
                errors += part.Errors;
                lastSeen = part.LastMinute > lastSeen ? part.LastMinute : lastSeen;
            }

            if (durations.Count == 0)
            {
                continue;
            }

            var hits = group.Where(s => s.Key.CacheHit == true).Sum(s => s.Durations.Count);
            var misses = group.Where(s => s.Key.CacheHit == false).Sum(s => s.Durations.Count);
            // Every point of the window, the empty ones too, as memory's time series has.
            var byStart = group.SelectMany(s => s.Points).ToLookup(p => p.Start);
            var points = new List<Point>();
            for (var start = figures.From; start < figures.To; start += figures.PointWidth)
            {
                var parts = byStart[start].ToList();
                var count = parts.Sum(x => x.Count);
                points.Add(new Point(
                    start,
                    count,
                    count == 0 ? 0 : parts.Sum(x => x.Sum) / count * 1000,
                    parts.Count == 0 ? 0 : Math.Max(0, parts.Max(x => x.Max)) * 1000,
                    parts.Sum(x => x.Errors),
                    null));
            }
            series.Add(new Series(
                group.Key.Service, group.Key.Table, group.Key.Operation, group.Key.QueryType,
                durations.Count,
                durations.Count / window.Span.TotalSeconds,
                durations.Sum / durations.Count * 1000,
                double.IsFinite(durations.Max) ? durations.Max * 1000 : 0,
                durations.Quantile(0.50) * 1000,
                durations.Quantile(0.95) * 1000,
                durations.Quantile(0.99) * 1000,
                hits,
                misses,
                hits + misses == 0 ? null : hits * 100.0 / (hits + misses),
                errors,
                0,
                lastSeen,
                points));
        }

        series.Sort((a, b) => b.Count.CompareTo(a.Count));
        return new Response(window.Name, window.Span.TotalSeconds, figures.PointWidth.TotalSeconds, window.Span.TotalSeconds, reader.Now, series);
    }
}
