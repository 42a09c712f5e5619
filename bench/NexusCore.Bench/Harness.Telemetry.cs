using System.Diagnostics;
using System.IO.Compression;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Google.Protobuf;
using NexusCore.Bench.Load;
using NexusCore.Bench.Reporting;
using NexusCore.Bench.Scenarios;
using NexusCore.Bench.Stack;
using NexusCore.Bench.Telemetry;
using OpenTelemetry.Proto.Collector.Metrics.V1;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Proto.Common.V1;
using OpenTelemetry.Proto.Metrics.V1;

namespace NexusCore.Bench;

/// <summary>
/// Issue 24's telemetry figures. A ClientsApi variant exports to the harness's own OTLP endpoint
/// (<see cref="OtlpRecorder"/>) with every trace sampled, under a known load: its query spans give the exact
/// percentiles of those requests; its metric exports, forwarded unchanged to PerfApi, give PerfApi's. Then the
/// recorded payloads are replayed into PerfApi from concurrent senders: data points and spans per second of
/// PerfApi's CPU, and its resident memory meanwhile.
/// </summary>
public sealed partial class Harness
{
    public const string Calibration = "calibration";
    public const string Replay = "replay";

    private async Task TelemetryAsync(StackEndpoints endpoints, Fixtures fixtures, CancellationToken ct)
    {
        Log("telemetry: a ClientsApi variant exporting to the harness (every trace sampled: the calibration needs the span of every request), then PerfApi's figures for the same requests");
        var reader = endpoints.ApiKey("reader");
        var ingest = endpoints.ApiKey("ingest");
        var service = $"clients-api-{Calibration}";
        await using var recorder = new OtlpRecorder();
        var overrides = new Dictionary<string, string?>(OtelAllEnvironment)
        {
            ["NexusCore__Telemetry__PerfApiEndpoint"] = recorder.Url.ToString(),
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
        };
        await using (var variant = await StartVariantAsync(endpoints, Calibration, overrides, ct))
        {
            // Cached hits and misses of one query type (find), then a mix, over a few connections.
            using var load = new HttpLoad(variant.Url, reader, options.LatencyConnections);
            var random = new Random(24);
            var hot = fixtures.HotIds;
            var max = fixtures.ReservedFrom - 1;
            await load.ClosedLoopAsync(options.LatencyConnections, TimeSpan.FromSeconds(Math.Max(2, Seconds * 2)), _ =>
            {
                long id;
                lock (random)
                {
                    id = random.NextDouble() < 0.8 ? hot[random.Next(hot.Count)] : 1 + random.NextInt64(max);
                }

                return new HttpRequestSpec("GET", Operations.ClientsApi + id);
            }, ct);

            // Every measurement is exported: wait until the last metric export covers the load's end
            // and the span batches stop growing (bounded: 20 s).
            var end = DateTimeOffset.UtcNow;
            await WaitUntilAsync(() => recorder.Metrics.Any(m => m.ReceivedAt > end.AddSeconds(2)), TimeSpan.FromSeconds(20), ct);
            var spans = -1;
            await WaitUntilAsync(() =>
            {
                var now = recorder.Traces.Count;
                var settled = now == spans;
                spans = now;
                return settled;
            }, TimeSpan.FromSeconds(20), ct, poll: TimeSpan.FromSeconds(1));
        }

        var exact = ExactDurations(recorder.Traces);
        Log($"calibration: {recorder.Traces.Count} trace and {recorder.Metrics.Count} metric payloads, {exact.Values.Sum(v => v.Count):N0} query spans in {exact.Count} series");

        // PerfApi's figures for the same requests: the metric payloads forwarded as recorded, in order.
        using var perf = new HttpClient { BaseAddress = endpoints.PerfApi, Timeout = TimeSpan.FromSeconds(30) };
        foreach (var payload in recorder.Metrics)
        {
            using var response = await PostOtlpAsync(perf, "v1/metrics", payload.Body, payload.ContentEncoding, ingest, ct);
            response.EnsureSuccessStatusCode();
        }

        var compared = new List<PercentileCheck>();
        await WaitUntilAsync(async () =>
        {
            compared = await CompareAsync(perf, reader, service, exact, ct);
            return compared.Count > 0 && compared.All(c => c.PerfApiCount == c.ExactCount);
        }, TimeSpan.FromSeconds(30), ct);
        _results.Telemetry = new TelemetryResult { Percentiles = compared };
        foreach (var c in compared)
        {
            Log($"calibration {c.Series}: {c.ExactCount:N0} spans, PerfApi counted {c.PerfApiCount:N0}; p99 exact {c.ExactP99Ms:0.000} ms, PerfApi {c.PerfApiP99Ms:0.000} ms ({c.P99ErrorPercent:0.00}%)");
        }

        await ReplayAsync(endpoints, recorder, ct);
    }

    /// <summary>The recorded payloads into PerfApi from concurrent senders, as fast as it takes them.</summary>
    private async Task ReplayAsync(StackEndpoints endpoints, OtlpRecorder recorder, CancellationToken ct)
    {
        var ingest = endpoints.ApiKey("ingest");
        var reader = endpoints.ApiKey("reader");
        var seconds = Math.Max(3, Seconds * 3);

        // Each metric payload becomes many: delta temporality, times moved on by a microsecond per copy, so
        // every copy is new data PerfApi aggregates (a cumulative copy would be an ignored retry).
        var metrics = recorder.Metrics.Select(p => ExportMetricsServiceRequest.Parser.ParseFrom(Decompress(p))).ToList();
        var traces = recorder.Traces.Select(p => ExportTraceServiceRequest.Parser.ParseFrom(Decompress(p))).ToList();
        var bodies = new List<(string Path, byte[] Body, long Items)>();
        const int copies = 400;
        for (var copy = 0; copy < copies; copy++)
        {
            foreach (var request in metrics)
            {
                var shifted = AsDeltaCopy(request, copy);
                bodies.Add(("v1/metrics", shifted.ToByteArray(), CountPoints(shifted)));
            }

            if (copy < copies / 4)
            {
                foreach (var request in traces)
                {
                    var renamed = request.Clone();
                    foreach (var rs in renamed.ResourceSpans)
                    {
                        Rename(rs.Resource?.Attributes);
                    }

                    bodies.Add(("v1/traces", renamed.ToByteArray(), renamed.ResourceSpans.Sum(r => r.ScopeSpans.Sum(s => (long)s.Spans.Count))));
                }
            }
        }

        var pid = ServerPid(endpoints.PerfApi);
        using var summaryClient = new HttpClient { BaseAddress = endpoints.PerfApi };
        summaryClient.DefaultRequestHeaders.Add("X-Api-Key", reader);
        var before = await SummaryAsync(summaryClient, ct);
        var rssBefore = pid is { } p0 ? ProcessMemory.ResidentMb(p0) : null;
        double? rssPeak = rssBefore;
        var cpuBefore = pid is { } p1 ? ProcessMemory.CpuSeconds(p1) : null;
        var watch = Stopwatch.StartNew();
        var next = -1;
        long sent = 0, refused = 0, items = 0;
        const int senders = 4;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        using var perf = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = senders }) { BaseAddress = endpoints.PerfApi };
        var sampling = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested && pid is { } p)
            {
                if (ProcessMemory.ResidentMb(p) is { } rss && rss > (rssPeak ?? 0))
                {
                    rssPeak = rss;
                }

                await Task.Delay(100, CancellationToken.None);
            }
        }, CancellationToken.None);
        await Task.WhenAll(Enumerable.Range(0, senders).Select(async _ =>
        {
            while (!stop.IsCancellationRequested)
            {
                var i = Interlocked.Increment(ref next);
                if (i >= bodies.Count)
                {
                    break;
                }

                var (path, body, count) = bodies[i];
                using var response = await PostOtlpAsync(perf, path, body, null, ingest, ct);
                Interlocked.Increment(ref sent);
                if (response.IsSuccessStatusCode)
                {
                    Interlocked.Add(ref items, count);
                }
                else
                {
                    Interlocked.Increment(ref refused);
                }
            }
        }));
        var elapsed = watch.Elapsed.TotalSeconds;
        await stop.CancelAsync();
        await sampling;
        var cpuAfter = pid is { } p2 ? ProcessMemory.CpuSeconds(p2) : null;

        // What PerfApi counted as received, once its queue has drained into the store.
        Summary after = await SummaryAsync(summaryClient, ct);
        await WaitUntilAsync(async () => (after = await SummaryAsync(summaryClient, ct)).Pending == 0, TimeSpan.FromSeconds(30), ct);
        var received = after.Received - before.Received;
        var cpu = cpuAfter - cpuBefore;
        var result = _results.Telemetry ??= new TelemetryResult();
        result.ReplaySeconds = Math.Round(elapsed, 2);
        result.ReplayPayloads = sent;
        result.ReplayRefused = refused;
        result.ReplayItemsSent = items;
        result.ReplayItemsReceived = received;
        result.ReplayItemsPerSecond = Math.Round(received / elapsed);
        result.ReplayCpuSeconds = cpu is { } c ? Math.Round(c, 2) : null;
        result.ReplayItemsPerCpuSecond = cpu is > 0 ? Math.Round(received / cpu.Value) : null;
        result.PerfApiRssBeforeMb = rssBefore is { } rb ? Math.Round(rb) : null;
        result.PerfApiRssPeakMb = rssPeak is { } rp ? Math.Round(rp) : null;
        Log($"replay: {sent:N0} payloads ({refused:N0} refused) in {elapsed:0.0} s, {received:N0} points and spans received ({result.ReplayItemsPerSecond:N0}/s), "
            + $"PerfApi CPU {result.ReplayCpuSeconds} s → {result.ReplayItemsPerCpuSecond:N0} per CPU-second; resident {result.PerfApiRssBeforeMb} → peak {result.PerfApiRssPeakMb} MB");
    }

    private sealed record Summary(long Received, long Pending);

    private static async Task<Summary> SummaryAsync(HttpClient client, CancellationToken ct)
    {
        using var doc = await client.GetFromJsonAsync<JsonDocument>("api/v1/performance/telemetry/summary", ct) ?? throw new InvalidOperationException("No telemetry summary.");
        var root = doc.RootElement;
        return new Summary(
            root.GetProperty("spans").GetProperty("received").GetInt64() + root.GetProperty("metricPoints").GetProperty("received").GetInt64(),
            root.GetProperty("store").GetProperty("pendingItems").GetInt64());
    }

    private static async Task<HttpResponseMessage> PostOtlpAsync(HttpClient client, string path, byte[] body, string? encoding, string key, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
        if (!string.IsNullOrEmpty(encoding))
        {
            request.Content.Headers.ContentEncoding.Add(encoding);
        }

        request.Headers.Add("X-Api-Key", key);
        return await client.SendAsync(request, ct);
    }

    private static byte[] Decompress(RecordedPayload payload)
    {
        if (!string.Equals(payload.ContentEncoding, "gzip", StringComparison.OrdinalIgnoreCase))
        {
            return payload.Body;
        }

        using var input = new GZipStream(new MemoryStream(payload.Body), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }

    /// <summary>Query spans' durations in milliseconds per (table, operation, query type).</summary>
    private static Dictionary<string, List<double>> ExactDurations(IEnumerable<RecordedPayload> payloads)
    {
        var series = new Dictionary<string, List<double>>(StringComparer.Ordinal);
        foreach (var payload in payloads)
        {
            var request = ExportTraceServiceRequest.Parser.ParseFrom(Decompress(payload));
            foreach (var span in request.ResourceSpans.SelectMany(r => r.ScopeSpans).SelectMany(s => s.Spans))
            {
                string? Attribute(string name) => span.Attributes.FirstOrDefault(a => a.Key == name)?.Value?.StringValue;
                if (Attribute("nexuscore.query.type") is not { } type)
                {
                    continue;
                }

                var key = $"{Attribute("db.collection.name")}/{Attribute("db.operation.name")}/{type}";
                if (!series.TryGetValue(key, out var list))
                {
                    series[key] = list = [];
                }

                list.Add((span.EndTimeUnixNano - span.StartTimeUnixNano) / 1e6);
            }
        }

        return series;
    }

    /// <summary>PerfApi's analytics for the calibration service against the exact nearest-rank percentiles.</summary>
    private static async Task<List<PercentileCheck>> CompareAsync(HttpClient perf, string reader, string service, Dictionary<string, List<double>> exact, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/v1/performance/analytics?window=1h");
        request.Headers.Add("X-Api-Key", reader);
        using var response = await perf.SendAsync(request, ct);
        response.EnsureSuccessStatusCode();
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
        var checks = new List<PercentileCheck>();
        foreach (var s in doc.RootElement.GetProperty("series").EnumerateArray())
        {
            if (s.GetProperty("service").GetString() != service)
            {
                continue;
            }

            var key = $"{s.GetProperty("table").GetString()}/{s.GetProperty("operation").GetString()}/{s.GetProperty("queryType").GetString()}";
            if (!exact.TryGetValue(key, out var values) || values.Count == 0)
            {
                continue;
            }

            values.Sort();
            double Rank(double q) => values[Math.Max(1, (int)Math.Ceiling(q * values.Count)) - 1];
            double? P(string name) => s.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;
            var p99 = P("p99Ms");
            checks.Add(new PercentileCheck(
                key, values.Count, s.GetProperty("count").GetInt64(),
                Math.Round(Rank(0.50), 4), P("p50Ms"), Math.Round(Rank(0.99), 4), p99,
                p99 is { } v99 ? Math.Round(100 * Math.Abs(v99 - Rank(0.99)) / Rank(0.99), 2) : null));
        }

        return checks;
    }

    private static ExportMetricsServiceRequest AsDeltaCopy(ExportMetricsServiceRequest original, int copy)
    {
        var request = original.Clone();
        var shift = (ulong)copy * 1000;
        foreach (var rm in request.ResourceMetrics)
        {
            Rename(rm.Resource?.Attributes);
            foreach (var metric in rm.ScopeMetrics.SelectMany(s => s.Metrics))
            {
                switch (metric.DataCase)
                {
                    case Metric.DataOneofCase.Sum:
                        metric.Sum.AggregationTemporality = AggregationTemporality.Delta;
                        foreach (var point in metric.Sum.DataPoints)
                        {
                            point.TimeUnixNano += shift;
                            point.StartTimeUnixNano = point.TimeUnixNano - 1000;
                        }

                        break;
                    case Metric.DataOneofCase.Histogram:
                        metric.Histogram.AggregationTemporality = AggregationTemporality.Delta;
                        foreach (var point in metric.Histogram.DataPoints)
                        {
                            point.TimeUnixNano += shift;
                            point.StartTimeUnixNano = point.TimeUnixNano - 1000;
                        }

                        break;
                    case Metric.DataOneofCase.ExponentialHistogram:
                        metric.ExponentialHistogram.AggregationTemporality = AggregationTemporality.Delta;
                        foreach (var point in metric.ExponentialHistogram.DataPoints)
                        {
                            point.TimeUnixNano += shift;
                            point.StartTimeUnixNano = point.TimeUnixNano - 1000;
                        }

                        break;
                    case Metric.DataOneofCase.Gauge:
                        foreach (var point in metric.Gauge.DataPoints)
                        {
                            point.TimeUnixNano += shift;
                        }

                        break;
                }
            }
        }

        return request;
    }

    private static void Rename(Google.Protobuf.Collections.RepeatedField<KeyValue>? attributes)
    {
        var name = attributes?.FirstOrDefault(a => a.Key == "service.name");
        if (name is not null)
        {
            name.Value = new AnyValue { StringValue = $"clients-api-{Replay}" };
        }
    }

    private static long CountPoints(ExportMetricsServiceRequest request) =>
        request.ResourceMetrics.SelectMany(r => r.ScopeMetrics).SelectMany(s => s.Metrics).Sum(m => (long)(m.DataCase switch
        {
            Metric.DataOneofCase.Sum => m.Sum.DataPoints.Count,
            Metric.DataOneofCase.Gauge => m.Gauge.DataPoints.Count,
            Metric.DataOneofCase.Histogram => m.Histogram.DataPoints.Count,
            Metric.DataOneofCase.ExponentialHistogram => m.ExponentialHistogram.DataPoints.Count,
            _ => 0,
        }));

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, CancellationToken ct, TimeSpan? poll = null) =>
        await WaitUntilAsync(() => Task.FromResult(condition()), timeout, ct, poll);

    /// <summary>Polls until the condition holds or the timeout passes (then the caller reports what it has).</summary>
    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, CancellationToken ct, TimeSpan? poll = null)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout && !await condition())
        {
            await Task.Delay(poll ?? TimeSpan.FromMilliseconds(250), ct);
        }
    }
}
