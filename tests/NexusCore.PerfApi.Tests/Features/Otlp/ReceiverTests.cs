using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using OpenTelemetry.Proto.Collector.Metrics.V1;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Proto.Metrics.V1;
using static NexusCore.PerfApi.Tests.Features.Otlp.OtlpPayloads;

namespace NexusCore.PerfApi.Tests.Features.Otlp;

/// <summary>The OTLP/HTTP receiver through the running stack, checked through the telemetry summary.</summary>
[Collection(StackCollection.Name)]
public sealed class ReceiverTests(PerfApiStack stack)
{
    private const string Protobuf = "application/x-protobuf";
    private readonly HttpClient _http = stack.CreateClient("perf-api", "ingest");
    private readonly HttpClient _reader = stack.CreateClient("perf-api", "reader");

    [Fact]
    public async Task GoodTracesAnswerAnEmptyExportResponseAndTheirQuerySpansAreAggregated()
    {
        var before = await SummaryAsync();

        var response = await PostAsync("/v1/traces", Traces(querySpans: 7, otherSpans: 3).ToByteArray());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Protobuf, response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.Empty(body);
        Assert.Null(ExportTraceServiceResponse.Parser.ParseFrom(body).PartialSuccess);
        var after = await WaitForSummaryAsync(s => Spans(s, "aggregated") >= Spans(before, "aggregated") + 7);

        // ClientsApi exports to PerfApi all along, so the receiver's totals grow by at least this payload.
        Assert.True(Spans(after, "received") >= Spans(before, "received") + 10);
        Assert.True(Spans(after, "querySpans") >= Spans(before, "querySpans") + 7);
        Assert.True(Count(after, "payloads", "accepted") >= Count(before, "payloads", "accepted") + 1);
    }

    [Fact]
    public async Task AQueryDurationHistogramExportReachesAnalyticsWithItsCountPercentilesAndExemplar()
    {
        var seriesBefore = await ReceiverSeriesCountAsync();
        var now = DateTimeOffset.UtcNow;
        var point = ExponentialPoint(now.AddSeconds(-1), now, 4, [0.002, 0.003, 0.004, 0.005, 0.006, 0.007, 0.120],
            Attribute("nexuscore.query.type", "find"), Attribute("db.collection.name", "clients"), Attribute("db.operation.name", "by_id"));
        point.Exemplars.Add(Exemplar(0.120, now.AddMilliseconds(-200), "0af7651916cd43dd8448eb211c80319c"));
        var request = MetricRequest("receiver-tests", "receiver-tests-1", ExponentialHistogram(
            "nexuscore.query.duration", "s", AggregationTemporality.Delta, point));

        var response = await PostAsync("/v1/metrics", request.ToByteArray());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await Eventually.ThatAsync(async () => await ReceiverSeriesCountAsync() >= seriesBefore + 7, TimeSpan.FromSeconds(15), "the histogram's queries in analytics");
        Assert.Equal(seriesBefore + 7, await ReceiverSeriesCountAsync());
        var analytics = JsonDocument.Parse(await _reader.GetStringAsync("/api/v1/performance/analytics?window=1h")).RootElement;
        var series = analytics.GetProperty("series").EnumerateArray()
            .Single(s => s.GetProperty("service").GetString() == "receiver-tests" && s.GetProperty("operation").GetString() == "by_id");
        Assert.Contains(series.GetProperty("exemplars").EnumerateArray(), e => e.GetProperty("traceId").GetString() == "0af7651916cd43dd8448eb211c80319c");
        Assert.InRange(series.GetProperty("maxMs").GetDouble(), 120, 120.0001);
    }

    [Fact]
    public async Task GzipCompressedMetricsAreAggregated()
    {
        var before = await SummaryAsync();
        var now = DateTimeOffset.UtcNow;
        var metrics = MetricRequest("receiver-tests",
            Sum("db.client.connections.usage", "{connection}", isMonotonic: false, AggregationTemporality.Cumulative,
                Integer(now.AddMinutes(-1), now, 3, Attribute("state", "idle")),
                Integer(now.AddMinutes(-1), now, 2, Attribute("state", "used"))),
            Histogram("nexuscore.query.duration", "s", AggregationTemporality.Cumulative,
                HistogramPoint(now.AddMinutes(-1), now, 0.02, [0.005, 0.01], [1, 1, 1], Attribute("nexuscore.query.type", "find"))));

        var response = await PostAsync("/v1/metrics", Gzip(metrics.ToByteArray()), gzip: true);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Protobuf, response.Content.Headers.ContentType?.MediaType);
        Assert.Null(ExportMetricsServiceResponse.Parser.ParseFrom(await response.Content.ReadAsByteArrayAsync()).PartialSuccess);
        var after = await WaitForSummaryAsync(s => Count(s, "metricPoints", "aggregated") >= Count(before, "metricPoints", "aggregated") + 3);
        Assert.True(Count(after, "metricPoints", "received") >= Count(before, "metricPoints", "received") + 3);

        // The pool levels arrived as sent (ClientsApi's own metrics arrive meanwhile, under its own service).
        var metricsPage = JsonDocument.Parse(await _reader.GetStringAsync("/api/v1/performance/metrics")).RootElement;
        var pool = metricsPage.GetProperty("connectionPool").GetProperty("pools").EnumerateArray().Single(p => p.GetProperty("service").GetString() == "receiver-tests");
        Assert.Equal((2, 3), (pool.GetProperty("active").GetInt32(), pool.GetProperty("idle").GetInt32()));
    }

    [Fact]
    public async Task GzipCompressedTracesAreAggregated()
    {
        var before = await SummaryAsync();

        var response = await PostAsync("/v1/traces", Gzip(Traces(querySpans: 4, otherSpans: 0).ToByteArray()), gzip: true);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await WaitForSummaryAsync(s => Spans(s, "aggregated") >= Spans(before, "aggregated") + 4);
    }

    [Fact]
    public async Task RandomBytesAre400AndTheNextGoodPayloadIsStillIngested()
    {
        var noise = new byte[4096];
        new Random(20260302).NextBytes(noise);

        var response = await PostAsync("/v1/traces", noise);

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("https://nexuscore.dev/problems/validation", problem.Type);
        Assert.Equal("protobuf_invalid", Assert.Single(problem.Errors).Code);
        await AssertTheNextGoodPayloadIsIngestedAsync();
    }

    [Fact]
    public async Task ATruncatedPayloadIs400AndTheNextGoodPayloadIsStillIngested()
    {
        var whole = Traces(querySpans: 20, otherSpans: 0).ToByteArray();

        var response = await PostAsync("/v1/traces", whole[..(whole.Length * 2 / 3)]);

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("protobuf_invalid", Assert.Single(problem.Errors).Code);
        await AssertTheNextGoodPayloadIsIngestedAsync();
    }

    [Fact]
    public async Task ABodyThatIsNotGzipThoughDeclaredSoIs400()
    {
        var response = await PostAsync("/v1/traces", Traces(querySpans: 1, otherSpans: 0).ToByteArray(), gzip: true);

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("gzip_invalid", Assert.Single(problem.Errors).Code);
    }

    [Theory]
    [InlineData("/v1/traces", "application/json", "OTLP/JSON is not supported: send binary protobuf as application/x-protobuf.")]
    [InlineData("/v1/metrics", "text/plain", "Send OTLP as application/x-protobuf.")]
    [InlineData("/v1/metrics", null, "Send OTLP as application/x-protobuf.")]
    public async Task AnyContentTypeButProtobufIs415(string path, string? contentType, string reason)
    {
        var before = await SummaryAsync();
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes("{\"resourceSpans\":[]}"));
        content.Headers.ContentType = contentType is null ? null : new MediaTypeHeaderValue(contentType);

        var response = await _http.PostAsync(path, content);

        var problem = await Problem.ReadAsync(response, HttpStatusCode.UnsupportedMediaType);
        Assert.Equal("https://nexuscore.dev/problems/unsupported-media-type", problem.Type);
        var error = Assert.Single(problem.Errors);
        Assert.Equal(("content_type_unsupported", reason), (error.Code, error.Reason));
        var after = await SummaryAsync();
        Assert.Equal(Count(before, "payloads", "unsupportedMediaType") + 1, Count(after, "payloads", "unsupportedMediaType"));
    }

    [Fact]
    public async Task AnUnknownContentEncodingIs415()
    {
        using var content = new ByteArrayContent(Traces(querySpans: 1, otherSpans: 0).ToByteArray());
        content.Headers.ContentType = new MediaTypeHeaderValue(Protobuf);
        content.Headers.ContentEncoding.Add("br");

        var response = await _http.PostAsync("/v1/traces", content);

        var problem = await Problem.ReadAsync(response, HttpStatusCode.UnsupportedMediaType);
        Assert.Equal("content_encoding_unsupported", Assert.Single(problem.Errors).Code);
    }

    [Fact]
    public async Task ATenMegabytePayloadIs413AndTheNextGoodPayloadIsStillIngested()
    {
        var before = await SummaryAsync();
        var huge = new byte[10 * 1024 * 1024];
        new Random(7).NextBytes(huge);

        var response = await PostAsync("/v1/traces", huge);

        var problem = await Problem.ReadAsync(response, HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal("https://nexuscore.dev/problems/payload-too-large", problem.Type);
        Assert.Equal("payload_too_large", Assert.Single(problem.Errors).Code);
        Assert.Equal(Count(before, "payloads", "tooLarge") + 1, Count(await SummaryAsync(), "payloads", "tooLarge"));
        await AssertTheNextGoodPayloadIsIngestedAsync();
    }

    [Fact]
    public async Task AGzipBombIs413ThoughItsCompressedBodyIsSmall()
    {
        var bomb = Gzip(new byte[64 * 1024 * 1024]);
        Assert.True(bomb.Length < 256 * 1024, $"the bomb is {bomb.Length} bytes compressed");

        var response = await PostAsync("/v1/metrics", bomb, gzip: true);

        var problem = await Problem.ReadAsync(response, HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal("payload_too_large", Assert.Single(problem.Errors).Code);
        await AssertTheNextGoodPayloadIsIngestedAsync();
    }

    [Fact]
    public async Task OtlpRoutesAreNotUnderTheApiPrefix()
    {
        var response = await PostAsync("/api/v1/v1/traces", Traces(querySpans: 1, otherSpans: 0).ToByteArray());

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    private async Task AssertTheNextGoodPayloadIsIngestedAsync()
    {
        var before = await SummaryAsync();

        var response = await PostAsync("/v1/traces", Traces(querySpans: 3, otherSpans: 1).ToByteArray());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await WaitForSummaryAsync(s => Spans(s, "aggregated") >= Spans(before, "aggregated") + 3);
    }

    /// <summary>How many queries the receiver-tests series of analytics holds over the last hour.</summary>
    private async Task<long> ReceiverSeriesCountAsync()
    {
        var analytics = JsonDocument.Parse(await _reader.GetStringAsync("/api/v1/performance/analytics?window=1h")).RootElement;
        return analytics.GetProperty("series").EnumerateArray()
            .Where(s => s.GetProperty("service").GetString() == "receiver-tests" && s.GetProperty("operation").GetString() == "by_id")
            .Sum(s => s.GetProperty("count").GetInt64());
    }

    private static ExportTraceServiceRequest Traces(int querySpans, int otherSpans)
    {
        var now = DateTimeOffset.UtcNow;
        var spans = Enumerable.Range(0, querySpans)
            .Select(i => Span(now, TimeSpan.FromMilliseconds(2 + i),
                Attribute("nexuscore.query.type", "find"),
                Attribute("db.collection.name", "clients"),
                Attribute("db.operation.name", "by_id"),
                Attribute("nexuscore.cache.hit", i % 2 == 0)))
            .Concat(Enumerable.Range(0, otherSpans).Select(_ => Span(now, TimeSpan.FromMilliseconds(5), Attribute("http.request.method", "GET"))));
        return TraceRequest("receiver-tests", [.. spans]);
    }

    private async Task<HttpResponseMessage> PostAsync(string path, byte[] body, bool gzip = false)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(Protobuf);
        if (gzip)
        {
            content.Headers.ContentEncoding.Add("gzip");
        }

        return await _http.PostAsync(path, content);
    }

    private static byte[] Gzip(byte[] bytes)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal))
        {
            gzip.Write(bytes);
        }

        return output.ToArray();
    }

    [Fact]
    public async Task ClientsApiSendsPerfApiItsQuerySpansOnlyNotItsRequestSpans()
    {
        // Cached reads: each request makes a server span and one logical-query span; only the latter is
        // PerfApi's business, so every span PerfApi receives from here on is a query span. Sampled traces, so that
        // every one of these fast reads is exported.
        var reader = stack.CreateSampledClient("clients-api", "reader");
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("/api/v1/optimized/clients/dashboard")).StatusCode);
        var before = await SummaryAsync();
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("/api/v1/optimized/clients/dashboard")).StatusCode);
        }

        var after = await WaitForSummaryAsync(s => Spans(s, "querySpans") >= Spans(before, "querySpans") + 20);

        Assert.Equal(Spans(after, "querySpans") - Spans(before, "querySpans"), Spans(after, "received") - Spans(before, "received"));
    }

    private async Task<JsonElement> SummaryAsync()
    {
        var response = await _reader.GetAsync("/api/v1/performance/telemetry/summary");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
    }

    /// <summary>Aggregation happens behind a queue: poll the summary until it shows what was sent.</summary>
    private async Task<JsonElement> WaitForSummaryAsync(Func<JsonElement, bool> condition)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (true)
        {
            var summary = await SummaryAsync();
            if (condition(summary))
            {
                return summary;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), deadline.Token);
        }
    }

    private static long Spans(JsonElement summary, string name) => Count(summary, "spans", name);

    private static long Count(JsonElement summary, string group, string name) => summary.GetProperty(group).GetProperty(name).GetInt64();
}
