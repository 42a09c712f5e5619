using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OpenTelemetry.Metrics;

namespace NexusCore.PerfApi.Tests.Features.Analytics;

[Collection(StackCollection.Name)]
public sealed class AnalyticsTests(PerfApiStack stack)
{
    private readonly PerfApiClient _perf = new(stack);

    [Fact]
    public async Task TwoReplicasHistogramsOneDeltaOneCumulativeAddUpToExactCountMeanMaxAndPercentilesWithinTheBucketError()
    {
        using var first = new TestTelemetry(stack, "analytics-percentiles", "replica-1", temporality: MetricReaderTemporalityPreference.Delta);
        using var second = new TestTelemetry(stack, first.Service, "replica-2", exactService: true);

        // 5, 15, … 95 ms from one replica, shuffled; 10, 20, … 100 ms from the other, in order.
        var traces = new List<string>();
        var durations = new List<double>();
        foreach (var ms in Enumerable.Range(0, 10).Select(i => 5 + (i * 10)).OrderBy(_ => Random.Shared.Next()))
        {
            traces.Add(first.RecordQuery(ms / 1000.0, "find"));
            durations.Add(ms);
        }

        foreach (var ms in Enumerable.Range(1, 10).Select(i => i * 10))
        {
            traces.Add(second.RecordQuery(ms / 1000.0, "find"));
            durations.Add(ms);
        }

        durations.Sort();
        var series = await Eventually.WaitAsync(async () => Find(await _perf.GetAsync("/api/v1/performance/analytics"), first.Service, 20),
            "both replicas' queries in analytics");

        Assert.Equal(("clients", "SELECT", "find", 20L), (series.Text("table"), series.Text("operation"), series.Text("queryType"), series.Long("count")));
        Assert.Equal(durations.Average(), series.Number("meanMs"), 6);
        Assert.Equal(durations[^1], series.Number("maxMs"), 6);
        AssertWithinHistogramError(NearestRank(durations, 0.50), series.Number("p50Ms"));
        AssertWithinHistogramError(NearestRank(durations, 0.95), series.Number("p95Ms"));
        AssertWithinHistogramError(NearestRank(durations, 0.99), series.Number("p99Ms"));
        Assert.Equal(0, series.Long("errors"));

        // The measurements were made in sampled spans: exemplars name their traces, slowest first.
        var exemplars = series.Items("exemplars").ToList();
        Assert.InRange(exemplars.Count, 1, 5);
        Assert.All(exemplars, e => Assert.Contains(e.Text("traceId"), traces));
        Assert.Equal(exemplars.Select(e => e.Number("durationMs")).OrderDescending(), exemplars.Select(e => e.Number("durationMs")));

        var page = await _perf.GetAsync("/api/v1/performance/analytics");
        Assert.Equal(20 / page.Number("rateSeconds"), Find(page, first.Service, 20)!.Value.Number("throughputPerSecond"), 9);
        Assert.Equal(60, page.Number("pointSeconds"));
        Assert.Equal(5, series.Items("timeSeries").Count());
        Assert.Equal(20, series.Items("timeSeries").Sum(p => p.Long("count")));

        // An hour is sixty one-minute roll-ups, each with its p95.
        var hour = await _perf.GetAsync("/api/v1/performance/analytics?window=1h");
        Assert.Equal(("1h", 60.0), (hour.Text("window"), hour.Number("pointSeconds")));
        var points = Find(hour, first.Service, 20)!.Value.Items("timeSeries").ToList();
        Assert.Equal(60, points.Count);
        Assert.Equal(20, points.Sum(p => p.Long("count")));
        Assert.All(points.Where(p => p.Long("count") > 0), p => Assert.InRange(p.Number("p95Ms"), durations[0], durations[^1]));
    }

    [Fact]
    public async Task CacheHitsAndMissesOfClientsApiReadsMatchItsXCacheHeaders()
    {
        // Sampled traces: PerfApi counts the spans ClientsApi exports, and a fast read is exported when its caller samples it.
        var writer = stack.CreateSampledClient("clients-api", "writer");
        var reader = stack.CreateSampledClient("clients-api", "reader");
        var ids = new List<long>();
        foreach (var name in new[] { "Grace Hopper", "Edsger Dijkstra", "Barbara Liskov" })
        {
            var created = await writer.PostAsJsonAsync("/api/v1/clients", new { name, email = $"perf.{Guid.NewGuid():N}@example.com", programType = "PRIME" });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            ids.Add((await created.Content.ReadFromJsonAsync<JsonElement>()).Long("id"));
        }

        var before = await FindTotalsAsync();
        var metricsBefore = await CacheSinceStartAsync("find");
        int hits = 0, misses = 0;
        foreach (var id in ids)
        {
            for (var i = 0; i < 4; i++)
            {
                var response = await reader.GetAsync($"/api/v1/clients/{id}");
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                switch (response.Headers.GetValues("X-Cache").Single())
                {
                    case "HIT" or "STALE": hits++; break;
                    default: misses++; break;
                }
            }
        }

        Assert.True(hits > 0 && misses > 0, $"{hits} hits, {misses} misses");
        var after = await Eventually.WaitAsync(async () =>
        {
            var totals = await FindTotalsAsync();
            return totals.Count >= before.Count + 12 ? JsonSerializer.SerializeToElement(new { totals.Count, totals.Hits, totals.Misses }) : null;
        }, "ClientsApi's find queries in analytics");

        Assert.Equal(before.Count + 12, after.Long("Count"));
        Assert.Equal(before.Hits + hits, after.Long("Hits"));
        Assert.Equal(before.Misses + misses, after.Long("Misses"));

        var metricsAfter = await CacheSinceStartAsync("find");
        Assert.Equal((metricsBefore.Hits + hits, metricsBefore.Misses + misses), (metricsAfter.Hits, metricsAfter.Misses));
        Assert.Equal(100.0 * metricsAfter.Hits / (metricsAfter.Hits + metricsAfter.Misses), metricsAfter.Rate, 9);

        var summary = (await _perf.GetAsync("/api/v1/performance/health/details")).GetProperty("summary");
        Assert.True(summary.Long("cacheHits") >= hits && summary.Long("cacheMisses") >= misses);
        Assert.Equal(100.0 * summary.Long("cacheHits") / (summary.Long("cacheHits") + summary.Long("cacheMisses")), summary.Number("cacheHitRatePercent"), 9);
        Assert.True(summary.Long("recentQueries") >= 12 + 3);
    }

    [Theory]
    [InlineData("window=2h", "window", "window_unknown")]
    [InlineData("window=", "window", "window_unknown")]
    [InlineData("service=clients-api", "service", "unknown_parameter")]
    public async Task ABadParameterIsA400NamingIt(string query, string name, string code)
    {
        var problem = await Problem.ReadAsync(await _perf.Http.GetAsync($"/api/v1/performance/analytics?{query}"), HttpStatusCode.BadRequest);

        var error = Assert.Single(problem.Errors);
        Assert.Equal((name, code), (error.Name, error.Code));
    }

    private async Task<(long Count, long Hits, long Misses)> FindTotalsAsync()
    {
        var find = (await _perf.GetAsync("/api/v1/performance/analytics?window=1h")).Items("series")
            .Where(s => s.Text("service") == "clients-api" && s.Text("queryType") == "find").ToList();
        return (find.Sum(s => s.Long("count")), find.Sum(s => s.Long("cacheHits")), find.Sum(s => s.Long("cacheMisses")));
    }

    private async Task<(long Hits, long Misses, double Rate)> CacheSinceStartAsync(string queryType)
    {
        var entry = (await _perf.GetAsync("/api/v1/performance/metrics")).GetProperty("cache").Items("byQueryType")
            .Select(e => (JsonElement?)e).FirstOrDefault(e => e!.Value.Text("queryType") == queryType);
        if (entry is not { } found)
        {
            return (0, 0, 0);
        }

        var since = found.GetProperty("sinceStart");
        return (since.Long("hits"), since.Long("misses"), since.NullableNumber("hitRatePercent") ?? 0);
    }

    private static JsonElement? Find(JsonElement page, string service, long count) =>
        page.Items("series").Select(s => (JsonElement?)s).FirstOrDefault(s => s!.Value.Text("service") == service && s.Value.Long("count") >= count);

    private static double NearestRank(IReadOnlyList<double> sorted, double quantile) =>
        sorted[Math.Clamp((int)Math.Ceiling(quantile * sorted.Count), 1, sorted.Count) - 1];

    private static void AssertWithinHistogramError(double exact, double reported) =>
        Assert.InRange(reported, (exact / ScaleFourError) - 0.001, (exact * ScaleFourError) + 0.001);

    /// <summary>1 + the largest relative error of a percentile at scale 4 (2.2 %): ClientsApi's 320 buckets keep at least that scale over 10 µs – 10 s.</summary>
    private static readonly double ScaleFourError = Math.Pow(2, 1.0 / 32);
}
