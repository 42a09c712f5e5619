using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using NexusCore.PerfApi.Store;
using Npgsql;

namespace NexusCore.PerfApi.Tests.Features.Analytics;

[Collection(StackCollection.Name)]
public sealed class AnalyticsTests(PerfApiStack stack)
{
    // FROM generate_series gives the workload a series of its own: the AppHost, running in the test process,
    // checks Postgres with SELECT 1, and its spans would join a table-less SELECT series.
    private const string TimedSql = "SELECT $1::int AS run, pg_sleep($2) FROM generate_series(1, 1)";

    private readonly PerfApiClient _perf = new(stack);

    [Fact]
    public async Task PercentilesCountAndMeanMatchTheSpansTheWorkloadProducedWithinTheHistogramError()
    {
        await using var db = await ClientsDb.OpenAsync(stack, "perf-tests-percentiles");
        using var telemetry = new TestTelemetry(stack, "analytics-percentiles");

        // 20 statements sleeping 5, 10, … 100 ms, in a shuffled order.
        foreach (var (run, ms) in Enumerable.Range(1, 20).Select(i => (i, i * 5)).OrderBy(_ => Random.Shared.Next()))
        {
            await using var command = db.CreateCommand(TimedSql);
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = run });
            command.Parameters.Add(new NpgsqlParameter<double> { TypedValue = ms / 1000.0 });
            await command.ExecuteNonQueryAsync();
        }

        var durations = telemetry.SpansOf(TimedSql).Select(s => s.Duration.TotalMilliseconds).Order().ToList();
        Assert.Equal(20, durations.Count);

        var series = await Eventually.WaitAsync(async () => Find(await _perf.GetAsync("/api/v1/performance/analytics"), telemetry.Service, 20),
            "the workload's series in analytics");

        Assert.Equal(("generate_series", "SELECT", "sql", 20L), (series.Text("table"), series.Text("operation"), series.Text("queryType"), series.Long("count")));
        Assert.Equal(durations.Average(), series.Number("meanMs"), 3);
        Assert.Equal(durations[^1], series.Number("maxMs"), 3);
        AssertWithinHistogramError(NearestRank(durations, 0.50), series.Number("p50Ms"));
        AssertWithinHistogramError(NearestRank(durations, 0.95), series.Number("p95Ms"));
        AssertWithinHistogramError(NearestRank(durations, 0.99), series.Number("p99Ms"));
        Assert.Equal(0, series.Long("errors"));
        var page = await _perf.GetAsync("/api/v1/performance/analytics");
        Assert.Equal(20 / page.Number("rateSeconds"), Find(page, telemetry.Service, 20)!.Value.Number("throughputPerSecond"), 9);
        Assert.Equal(20, series.Items("timeSeries").Sum(p => p.Long("count")));
        Assert.Equal(10, page.Number("pointSeconds"));

        // Beyond 5 minutes the points are the one-minute latency roll-ups, each with its p95.
        var hour = await _perf.GetAsync("/api/v1/performance/analytics?window=1h");
        Assert.Equal(("1h", 60.0), (hour.Text("window"), hour.Number("pointSeconds")));
        var points = Find(hour, telemetry.Service, 20)!.Value.Items("timeSeries").ToList();
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
        }, "ClientsApi's find spans in analytics");

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
        Assert.InRange(reported, exact * (1 - LatencyHistogram.RelativeError) - 0.001, exact * (1 + LatencyHistogram.RelativeError) + 0.001);
}
