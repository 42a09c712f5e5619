using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using OpenTelemetry.Proto.Collector.Metrics.V1;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Proto.Common.V1;
using OpenTelemetry.Proto.Trace.V1;
using NexusCore.ServiceDefaults;

namespace NexusCore.PerfApi.Tests.Telemetry;

/// <summary>
/// Which traces leave ClientsApi and PerfApi, read from what they export to the dashboard's place (the stack's OTLP
/// capture, <see cref="PerfApiStack.Dashboard"/>): the real services, their real exporters, the stack's default
/// sample ratio (1 %). A later sampled request is the barrier: once its spans have arrived, an earlier request's
/// spans would have too.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class ExportedTracesTests(PerfApiStack stack)
{
    private const string Dashboard = "/api/v1/optimized/clients/dashboard";

    [Fact]
    public async Task ClientsApiExportsASampledCallersTraceWholeAndNothingOfAnUnsampledFastOne()
    {
        var reader = stack.CreateClient("clients-api", "reader");
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync(Dashboard)).StatusCode);
        var (unsampled, unsampledHeader) = TraceParents.New(sampled: false);
        var (sampled, sampledHeader) = TraceParents.New(sampled: true);

        Assert.Equal(HttpStatusCode.OK, (await SendAsync(reader, HttpMethod.Get, Dashboard, unsampledHeader)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(reader, HttpMethod.Get, Dashboard, sampledHeader)).StatusCode);
        await ArrivedAsync(sampled, "clients-api");

        var spans = Spans().Where(s => s.TraceId == sampled).ToList();
        var request = Assert.Single(spans, s => s.Kind == Span.Types.SpanKind.Server);
        Assert.Equal(("clients-api", "GET"), (request.Service, request.Attribute("http.request.method")));
        // The request's query span is in the same trace: the trace is whole.
        Assert.Contains(spans, s => s.Attribute("nexuscore.query.type") is not null);
        Assert.Null(request.Attribute("nexuscore.trace.kept"));
        Assert.DoesNotContain(Spans(), s => s.TraceId == unsampled);
    }

    [Fact]
    public async Task AnUnsampledRequestOverItsRoutesThresholdIsExportedAsSlow()
    {
        var admin = stack.CreateClient("clients-api", "admin");
        var (slow, header) = TraceParents.New(sampled: false);

        Assert.Equal(HttpStatusCode.OK, (await SendAsync(admin, HttpMethod.Get, "/" + PerfApiStack.SlowRoute, header)).StatusCode);
        await ArrivedAsync(slow, "clients-api");

        var request = Assert.Single(Spans(), s => s.TraceId == slow && s.Kind == Span.Types.SpanKind.Server);
        Assert.Equal(("slow", PerfApiStack.SlowRoute), (request.Attribute("nexuscore.trace.kept"), request.Attribute("http.route")?.Trim('/')));
    }

    [Fact]
    public async Task ProbesAndOtlpIngestMakeNoSpanAndNoRequestMetricInAnyService()
    {
        // Each noise request starts a sampled trace: were it traced at all, it would be exported.
        var noise = new List<string>();
        async Task Noise(HttpClient client, HttpMethod method, string path, HttpContent? body = null)
        {
            var (traceId, header) = TraceParents.New(sampled: true);
            noise.Add(traceId);
            var response = await SendAsync(client, method, path, header, body);
            Assert.True((int)response.StatusCode < 500, $"{method} {path}: {(int)response.StatusCode}");
        }

        foreach (var service in new[] { "clients-api", "perf-api" })
        {
            await Noise(stack.CreateClient(service), HttpMethod.Get, "/health");
            await Noise(stack.CreateClient(service), HttpMethod.Get, "/alive");
        }

        var perfReader = stack.CreateClient("perf-api", "reader");
        await Noise(stack.CreateClient("perf-api"), HttpMethod.Get, "/api/v1/performance/health");
        await Noise(perfReader, HttpMethod.Get, "/api/v1/performance/health/details");
        var otlp = new ByteArrayContent(new ExportMetricsServiceRequest().ToByteArray());
        otlp.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
        await Noise(stack.CreateClient("perf-api", "ingest"), HttpMethod.Post, "/v1/metrics", otlp);
        var traces = new ByteArrayContent(new ExportTraceServiceRequest().ToByteArray());
        traces.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
        await Noise(stack.CreateClient("perf-api", "ingest"), HttpMethod.Post, "/v1/traces", traces);

        // Real work on both services after the noise, and a metric export of each after that.
        var (clientsMarker, clientsHeader) = TraceParents.New(sampled: true);
        var (perfMarker, perfHeader) = TraceParents.New(sampled: true);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(stack.CreateClient("clients-api", "reader"), HttpMethod.Get, Dashboard, clientsHeader)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(perfReader, HttpMethod.Get, "/api/v1/performance/metrics", perfHeader)).StatusCode);
        await ArrivedAsync(clientsMarker, "clients-api");
        await ArrivedAsync(perfMarker, "perf-api");
        await Eventually.ThatAsync(
            () => Task.FromResult(RequestRoutes("perf-api").Any(r => r.EndsWith("performance/metrics", StringComparison.Ordinal))
                && RequestRoutes("clients-api").Any(r => r.EndsWith("dashboard", StringComparison.Ordinal))),
            TimeSpan.FromSeconds(30), "both services' request metrics, real requests included", TimeSpan.FromMilliseconds(200));

        // Nothing of the noise, and nothing like it from anyone during the whole run (PerfApi's ingest of ClientsApi's
        // exports every second included): no server span of a probe or ingest path, no client span of an exporter's call.
        var spans = Spans();
        Assert.Contains(spans, s => s.Service == "perf-api");
        Assert.DoesNotContain(spans, s => noise.Contains(s.TraceId));
        var noisy = spans.Where(s => IsNoise(s.Attribute("url.path")) || IsNoise(s.Attribute("http.route"))
            || s.Attribute("url.full") is { } url && (url.Contains("/v1/traces", StringComparison.Ordinal) || url.Contains("/v1/metrics", StringComparison.Ordinal) || url.Contains("/v1/logs", StringComparison.Ordinal))).ToList();
        Assert.True(noisy.Count == 0, $"{noisy.Count} noise spans, e.g. {noisy.FirstOrDefault()}");
        foreach (var service in new[] { "clients-api", "perf-api" })
        {
            Assert.DoesNotContain(RequestRoutes(service), IsNoise);
        }
    }

    /// <summary>A probe or OTLP path, as a request path or a route template (with or without its leading slash).</summary>
    private static bool IsNoise(string? path) =>
        path is not null && new[] { "health", "alive", "v1/traces", "v1/metrics", "v1/logs", "api/v1/performance/health" }
            .Any(p => path.TrimStart('/').StartsWith(p, StringComparison.OrdinalIgnoreCase));

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, string path, string traceparent, HttpContent? body = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body };
        request.Headers.Add(TraceParents.Header, traceparent);
        return await client.SendAsync(request);
    }

    private Task ArrivedAsync(string traceId, string service) => Eventually.ThatAsync(
        () => Task.FromResult(Spans().Any(s => s.TraceId == traceId && s.Service == service && s.Kind == Span.Types.SpanKind.Server)),
        TimeSpan.FromSeconds(30), $"{service}'s span of trace {traceId} reaching the capture", TimeSpan.FromMilliseconds(100));

    private IReadOnlyList<CapturedSpan> Spans() =>
        stack.Dashboard.Payloads("/v1/traces").SelectMany(body => ExportTraceServiceRequest.Parser.ParseFrom(body).ResourceSpans).SelectMany(resource =>
        {
            var service = Text(resource.Resource?.Attributes, "service.name") ?? "";
            return resource.ScopeSpans.SelectMany(scope => scope.Spans).Select(span => new CapturedSpan(
                service, Convert.ToHexStringLower(span.TraceId.Span), span.Name, span.Kind, span.Attributes.ToDictionary(a => a.Key, a => Text(a.Value))));
        }).ToList();

    /// <summary>The <c>http.route</c> of every <c>http.server.request.duration</c> point <paramref name="service"/> exported.</summary>
    private HashSet<string> RequestRoutes(string service) =>
        stack.Dashboard.Payloads("/v1/metrics").SelectMany(body => ExportMetricsServiceRequest.Parser.ParseFrom(body).ResourceMetrics)
            .Where(resource => Text(resource.Resource?.Attributes, "service.name") == service)
            .SelectMany(resource => resource.ScopeMetrics).SelectMany(scope => scope.Metrics)
            .Where(metric => metric.Name == "http.server.request.duration" && metric.Histogram is not null)
            .SelectMany(metric => metric.Histogram.DataPoints)
            .Select(point => Text(point.Attributes, "http.route") ?? "")
            .ToHashSet(StringComparer.Ordinal);

    private static string? Text(IEnumerable<KeyValue>? attributes, string key) =>
        attributes?.FirstOrDefault(a => a.Key == key) is { } found ? Text(found.Value) : null;

    private static string? Text(AnyValue? value) => value?.ValueCase switch
    {
        AnyValue.ValueOneofCase.StringValue => value.StringValue,
        AnyValue.ValueOneofCase.IntValue => value.IntValue.ToString(System.Globalization.CultureInfo.InvariantCulture),
        AnyValue.ValueOneofCase.BoolValue => value.BoolValue ? "true" : "false",
        AnyValue.ValueOneofCase.DoubleValue => value.DoubleValue.ToString(System.Globalization.CultureInfo.InvariantCulture),
        _ => null,
    };

    private sealed record CapturedSpan(string Service, string TraceId, string Name, Span.Types.SpanKind Kind, IReadOnlyDictionary<string, string?> Attributes)
    {
        public string? Attribute(string key) => Attributes.GetValueOrDefault(key);

        public override string ToString() => $"{Service} {Kind} '{Name}' {string.Join(", ", Attributes.Select(a => $"{a.Key}={a.Value}"))}";
    }
}
