using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Google.Protobuf;
using OpenTelemetry.Proto.Metrics.V1;
using static NexusCore.PerfApi.Tests.Features.Otlp.OtlpPayloads;

namespace NexusCore.PerfApi.Tests.Features.Otlp;

/// <summary>Each ingest limit as a sender meets it: the status, the problem's code, and the limit's value.</summary>
[Collection(StackCollection.Name)]
public sealed class IngestLimitProblemTests(PerfApiStack stack)
{
    private const string Protobuf = "application/x-protobuf";
    private readonly HttpClient _http = stack.CreateClient("perf-api", "ingest");
    private readonly PerfApiClient _perf = new(stack);

    [Fact]
    public async Task AGzippedExportOfTenThousandAndOneSpansIs413TooManySpans()
    {
        var now = DateTimeOffset.UtcNow;
        var spans = Enumerable.Range(0, 10_001).Select(_ => Span(now, TimeSpan.FromMilliseconds(1))).ToArray();
        var before = await _perf.GetAsync("/api/v1/performance/telemetry/summary");

        var (problem, limit) = await RefusedAsync("/v1/traces", Gzip(TraceRequest("limit-tests", spans).ToByteArray()), HttpStatusCode.RequestEntityTooLarge, gzip: true);

        Assert.Equal(("https://nexuscore.dev/problems/payload-too-large", "too_many_spans", 10_000), (problem.Type, Assert.Single(problem.Errors).Code, limit));
        var after = await _perf.GetAsync("/api/v1/performance/telemetry/summary");
        Assert.Equal(before.GetProperty("payloads").Long("overItemLimit") + 1, after.GetProperty("payloads").Long("overItemLimit"));
    }

    [Fact]
    public async Task AnExportOfTenThousandAndOneDataPointsIs413TooManyDataPoints()
    {
        var now = DateTimeOffset.UtcNow;
        var gauge = Gauge("limit.gauge", "1", [.. Enumerable.Range(0, 10_001).Select(i => Number(now, now, i))]);

        var (problem, limit) = await RefusedAsync("/v1/metrics", MetricRequest("limit-tests", gauge).ToByteArray(), HttpStatusCode.RequestEntityTooLarge);

        Assert.Equal(("too_many_data_points", 10_000), (Assert.Single(problem.Errors).Code, limit));
    }

    [Fact]
    public async Task ASpanWithSixtyFiveAttributesIs400TooManyAttributes()
    {
        var span = Span(DateTimeOffset.UtcNow, TimeSpan.FromMilliseconds(1), [.. Enumerable.Range(0, 65).Select(i => Attribute($"a{i}", "v"))]);

        var (problem, limit) = await RefusedAsync("/v1/traces", TraceRequest("limit-tests", span).ToByteArray(), HttpStatusCode.BadRequest);

        Assert.Equal(("https://nexuscore.dev/problems/validation", "too_many_attributes", 64), (problem.Type, Assert.Single(problem.Errors).Code, limit));
    }

    [Fact]
    public async Task AHistogramPointWithOneHundredAndSixtyOneBucketsIs400TooManyBuckets()
    {
        var now = DateTimeOffset.UtcNow;
        var point = HistogramPoint(now.AddMinutes(-1), now, 1, [.. Enumerable.Range(1, 320).Select(i => (double)i)], new ulong[321]);

        var (problem, limit) = await RefusedAsync("/v1/metrics", MetricRequest("limit-tests", Histogram("limit.histogram", "s", AggregationTemporality.Cumulative, point)).ToByteArray(), HttpStatusCode.BadRequest);

        Assert.Equal(("too_many_buckets", 320), (Assert.Single(problem.Errors).Code, limit));
    }

    [Fact]
    public async Task AServiceNameOfTenThousandCharactersIsCutTo256AndItsSeriesIsKept()
    {
        var prefix = $"cut-{Guid.NewGuid():N}-";
        var service = prefix + new string('x', 10_000);
        // Query figures come from the duration histogram: one query, with a 5,000-character table name too.
        var now = DateTimeOffset.UtcNow;
        var point = ExponentialPoint(now.AddSeconds(-1), now, 4, [0.003],
            Attribute("nexuscore.query.type", "find"), Attribute("db.collection.name", new string('t', 5_000)), Attribute("db.operation.name", "by_id"));
        var before = await _perf.GetAsync("/api/v1/performance/telemetry/summary");

        var response = await PostAsync("/v1/metrics", MetricRequest(service, ExponentialHistogram("nexuscore.query.duration", "s", AggregationTemporality.Delta, point)).ToByteArray());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var series = await Eventually.WaitAsync(async () => (await _perf.GetAsync("/api/v1/performance/analytics?window=1h")).Items("series")
            .Select(s => (JsonElement?)s).FirstOrDefault(s => s!.Value.Text("service").StartsWith(prefix, StringComparison.Ordinal)), "the cut series");
        Assert.Equal((service[..256], new string('t', 256), 1L), (series.Text("service"), series.Text("table"), series.Long("count")));
        var after = await _perf.GetAsync("/api/v1/performance/telemetry/summary");
        Assert.True(after.GetProperty("payloads").Long("truncated") >= before.GetProperty("payloads").Long("truncated") + 1);
    }

    [Fact]
    public async Task WhenEveryTurnAndTheLineAreTakenTheNextExportIs429WithRetryAfterAndTheOthersAreServed()
    {
        // Senders that send half a body and wait hold the four turns and the line of 64 behind them. Kestrel gives
        // a body 5 s before it drops a stalled one, so the line must fill within that: on a loaded machine it may
        // not, and the scenario is tried again (at most three times) rather than waited on longer.
        var body = TraceRequest("limit-tests-busy", Span(DateTimeOffset.UtcNow, TimeSpan.FromMilliseconds(1))).ToByteArray();
        using var stalledClient = stack.CreateClient("perf-api", "ingest");
        HttpResponseMessage? refused = null;
        List<Task<HttpStatusCode>> stalled = [];
        for (var attempt = 0; attempt < 3 && refused is null; attempt++)
        {
            var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            stalled = Enumerable.Range(0, 4 + 64).Select(_ => PostStalledAsync(stalledClient, body, release.Task)).ToList();
            try
            {
                var deadline = DateTime.UtcNow.AddSeconds(4);
                while (refused is null && DateTime.UtcNow < deadline)
                {
                    using var probeTimeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
                    try
                    {
                        var response = await PostAsync("/v1/traces", body, ct: probeTimeout.Token);
                        refused = response.StatusCode == HttpStatusCode.TooManyRequests ? response : null;
                    }
                    catch (TaskCanceledException)
                    {
                        // Still in the line: not full yet.
                    }
                }
            }
            finally
            {
                release.SetResult();
            }

            if (refused is null)
            {
                await Task.WhenAll(stalled);
            }
        }

        Assert.True(refused is not null, "no 429 in three attempts to fill every turn and the line");
        Assert.Equal("1", refused!.Headers.RetryAfter?.ToString());
        var text = await refused.Content.ReadAsStringAsync();
        var problem = await Problem.ReadAsync(refused, HttpStatusCode.TooManyRequests);
        Assert.Equal(("https://nexuscore.dev/problems/rate-limited", "ingest_busy"), (problem.Type, Assert.Single(problem.Errors).Code));
        Assert.Equal(4, JsonDocument.Parse(text).RootElement.Long("limit"));

        // Those in line were served once the bodies came (a turn held past the read deadline is a 408).
        var statuses = await Task.WhenAll(stalled);
        Assert.All(statuses, s => Assert.Contains(s, new[] { HttpStatusCode.OK, HttpStatusCode.RequestTimeout, HttpStatusCode.TooManyRequests }));
        Assert.True(statuses.Count(s => s == HttpStatusCode.OK) >= 60, string.Join(",", statuses));
    }

    [Fact]
    public async Task ABodyThatDoesNotArriveWithinTheReadDeadlineIs408AndFreesItsTurn()
    {
        var body = TraceRequest("limit-tests-slow", Span(DateTimeOffset.UtcNow, TimeSpan.FromMilliseconds(1))).ToByteArray();
        var before = await _perf.GetAsync("/api/v1/performance/telemetry/summary");
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stalledClient = stack.CreateClient("perf-api", "ingest");
        var stalled = PostStalledAsync(stalledClient, body, release.Task);
        try
        {
            await Eventually.WaitAsync(async () =>
            {
                var summary = await _perf.GetAsync("/api/v1/performance/telemetry/summary");
                return summary.GetProperty("payloads").Long("tooSlow") > before.GetProperty("payloads").Long("tooSlow") ? summary : null;
            }, "the slow body refused", TimeSpan.FromSeconds(15));
        }
        finally
        {
            release.SetResult();
        }

        await stalled;
        Assert.Equal(HttpStatusCode.OK, (await PostAsync("/v1/traces", body)).StatusCode);
    }

    private async Task<(Problem Problem, long Limit)> RefusedAsync(string path, byte[] body, HttpStatusCode status, bool gzip = false)
    {
        var response = await PostAsync(path, body, gzip);
        var text = await response.Content.ReadAsStringAsync();
        var problem = await Problem.ReadAsync(response, status);
        return (problem, JsonDocument.Parse(text).RootElement.Long("limit"));
    }

    private async Task<HttpResponseMessage> PostAsync(string path, byte[] body, bool gzip = false, CancellationToken ct = default)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(Protobuf);
        if (gzip)
        {
            content.Headers.ContentEncoding.Add("gzip");
        }

        var response = await _http.PostAsync(path, content, ct);
        await response.Content.LoadIntoBufferAsync(ct);
        return response;
    }

    /// <summary>Posts a body that stops halfway until <paramref name="release"/>; the answer's status, or 0 if the connection broke.</summary>
    private static async Task<HttpStatusCode> PostStalledAsync(HttpClient client, byte[] body, Task release)
    {
        try
        {
            using var content = new StalledContent(body, release);
            content.Headers.ContentType = new MediaTypeHeaderValue(Protobuf);
            using var response = await client.PostAsync("/v1/traces", content);
            return response.StatusCode;
        }
        catch (HttpRequestException)
        {
            // PerfApi answered 408 and closed while the rest of the body was still to be sent.
            return HttpStatusCode.RequestTimeout;
        }
    }

    private sealed class StalledContent(byte[] body, Task release) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            await stream.WriteAsync(body.AsMemory(0, body.Length / 2));
            await stream.FlushAsync();
            await release;
            await stream.WriteAsync(body.AsMemory(body.Length / 2));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = body.Length;
            return true;
        }
    }
}
