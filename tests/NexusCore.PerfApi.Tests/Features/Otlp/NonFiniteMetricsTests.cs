using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Google.Protobuf;
using NexusCore.PerfApi.Store;
using OpenTelemetry.Proto.Collector.Metrics.V1;
using OpenTelemetry.Proto.Common.V1;
using OpenTelemetry.Proto.Metrics.V1;
using static NexusCore.PerfApi.Tests.Features.Otlp.OtlpPayloads;

namespace NexusCore.PerfApi.Tests.Features.Otlp;

/// <summary>
/// Metric points with NaN and infinite values, as a fuzzer sent them (cache counters, a pool's levels, the cache's
/// size): the receiver drops just those points, counts them and says so in a partial success, keeps the good points
/// of the same export, and every read route that sums metrics still answers.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class NonFiniteMetricsTests(PerfApiStack stack)
{
    private readonly HttpClient _ingest = stack.CreateClient("perf-api", "ingest");
    private readonly PerfApiClient _reader = new(stack);

    [Fact]
    public async Task NaNAndInfinitePointsAreDroppedAndCountedAndTheReadRoutesStillAnswerWithTheGoodPoints()
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var service = $"nonfinite-{suffix}";
        var (badType, goodType) = ($"nonfinite-bad-{suffix}", $"nonfinite-good-{suffix}");
        var now = DateTimeOffset.UtcNow;
        var start = now.AddSeconds(-1);
        var export = MetricRequest(service, "instance-1",
            // The fuzzer's payloads: hits NaN and misses +Inf of one query type; a pool whose max is NaN and whose
            // used count is +Inf; a cache whose size is NaN and whose entry count is -Inf.
            Sum(WellKnownMetrics.CacheHits, "{request}", isMonotonic: true, AggregationTemporality.Cumulative,
                Number(start, now, double.NaN, Attribute("query.type", badType)),
                Integer(start, now, 5, Attribute("query.type", goodType))),
            Sum(WellKnownMetrics.CacheMisses, "{request}", isMonotonic: true, AggregationTemporality.Cumulative,
                Number(start, now, double.PositiveInfinity, Attribute("query.type", badType)),
                Integer(start, now, 1, Attribute("query.type", goodType))),
            Gauge(WellKnownMetrics.ConnectionMax, "{connection}",
                Number(start, now, double.NaN, Pool("bad")),
                Integer(start, now, 10, Pool("good"))),
            Sum(WellKnownMetrics.ConnectionCount, "{connection}", isMonotonic: false, AggregationTemporality.Cumulative,
                Number(start, now, double.PositiveInfinity, [.. Pool("bad"), Attribute("db.client.connection.state", "used")]),
                Integer(start, now, 1, [.. Pool("good"), Attribute("db.client.connection.state", "used")]),
                Integer(start, now, 2, [.. Pool("good"), Attribute("db.client.connection.state", "idle")])),
            Gauge(WellKnownMetrics.CacheSize, "By", Number(now, now, double.NaN)),
            Gauge(WellKnownMetrics.CacheEntries, "{entry}", Number(now, now, double.NegativeInfinity)));
        var before = await NonFiniteCountAsync();

        var response = await PostAsync(export);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var partial = ExportMetricsServiceResponse.Parser.ParseFrom(await response.Content.ReadAsByteArrayAsync()).PartialSuccess;
        Assert.NotNull(partial);
        Assert.Equal(6, partial.RejectedDataPoints);
        Assert.Equal("6 data points had a NaN or infinite value and were dropped.", partial.ErrorMessage);
        Assert.Equal(before + 6, await NonFiniteCountAsync());

        // The good points of the same export arrive; the bad pool, query type and cache never exist.
        var metrics = await Eventually.WaitAsync(async () =>
        {
            var page = await _reader.GetAsync("/api/v1/performance/metrics");
            return PoolsOf(page, service).Any() ? page : null;
        }, "the good pool in metrics");
        var good = Assert.Single(PoolsOf(metrics, service));
        Assert.Equal(("good", 1L, 2L, 10L, 9L), (good.Text("name"), good.Long("active"), good.Long("idle"), good.Long("max"), good.Long("available")));
        Assert.Equal(10.0, good.Number("utilizationPercent"), 9);
        var byType = metrics.GetProperty("cache").Items("byQueryType").ToList();
        Assert.DoesNotContain(byType, t => t.Text("queryType") == badType);
        var counted = byType.Single(t => t.Text("queryType") == goodType).GetProperty("sinceStart");
        Assert.Equal((5L, 1L), (counted.Long("hits"), counted.Long("misses")));
        Assert.False(counted.TryGetProperty("source", out _));
        Assert.DoesNotContain(metrics.GetProperty("cache").Items("instances"), i => i.Text("service") == service);

        var health = await _reader.GetAsync("/api/v1/performance/health/details");
        Assert.Contains(health.Text("status"), new[] { "healthy", "degraded" });
        var totals = health.GetProperty("connectionPool");
        Assert.True(totals.Long("max") >= 10 && totals.Long("active") >= 1, totals.ToString());
        var recommendations = await _reader.GetAsync("/api/v1/performance/optimization/recommendations");
        Assert.Empty(recommendations.Items("failedRules"));
    }

    [Fact]
    public async Task NegativeLevelsAreReadAsZeroNotSummedIntoTheTotals()
    {
        var service = $"negative-{Guid.NewGuid().ToString("N")[..8]}";
        var now = DateTimeOffset.UtcNow;

        var response = await PostAsync(MetricRequest(service, "instance-1",
            Gauge(WellKnownMetrics.CacheSize, "By", Number(now, now, -1e300)),
            Gauge(WellKnownMetrics.CacheEntries, "{entry}", Integer(now, now, -5))));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(ExportMetricsServiceResponse.Parser.ParseFrom(await response.Content.ReadAsByteArrayAsync()).PartialSuccess);
        var instance = await Eventually.WaitAsync(async () =>
            (await _reader.GetAsync("/api/v1/performance/metrics")).GetProperty("cache").Items("instances")
                .Select(i => (JsonElement?)i).FirstOrDefault(i => i!.Value.Text("service") == service),
            "the cache instance in metrics");
        Assert.Equal((0L, 0.0), (instance.Long("entries"), instance.Number("sizeMb")));
    }

    private async Task<HttpResponseMessage> PostAsync(ExportMetricsServiceRequest request)
    {
        using var content = new ByteArrayContent(request.ToByteArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
        return await _ingest.PostAsync("/v1/metrics", content);
    }

    private async Task<long> NonFiniteCountAsync() =>
        (await _reader.GetAsync("/api/v1/performance/telemetry/summary")).GetProperty("metricPoints").Long("nonFinite");

    private static KeyValue[] Pool(string name) => [Attribute("db.client.connection.pool.name", name)];

    private static IEnumerable<JsonElement> PoolsOf(JsonElement metrics, string service) =>
        metrics.GetProperty("connectionPool").Items("pools").Where(p => p.Text("service") == service);
}
