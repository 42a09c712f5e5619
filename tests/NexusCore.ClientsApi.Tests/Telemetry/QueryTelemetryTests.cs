using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using NexusCore.ClientsApi.Telemetry;
using NexusCore.ServiceDefaults;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace NexusCore.ClientsApi.Tests.Telemetry;

/// <summary>What PerfApi's figures are made of: ClientsApi's <c>nexuscore.query.duration</c> as its OpenTelemetry pipeline exports it.</summary>
[NoStack]
public sealed class QueryTelemetryTests
{
    [Fact]
    public void TheDurationIsABase2ExponentialHistogramTaggedWithTheErrorTypeWhoseExemplarNamesTheTrace()
    {
        var exported = new List<Metric>();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddMetrics();
        services.AddSingleton<QueryTelemetry>();
        services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics.AddMeter(QueryTelemetry.SourceName).AddInMemoryExporter(exported))
            .WithTracing(tracing => tracing.AddSource(QueryTelemetry.SourceName));
        QueryTelemetry.AddQueryDurationView(services);
        using var provider = services.BuildServiceProvider();
        var meters = provider.GetRequiredService<MeterProvider>();
        _ = provider.GetRequiredService<TracerProvider>();
        var telemetry = provider.GetRequiredService<QueryTelemetry>();

        string traceId;
        using (var query = telemetry.Start("find", "SELECT"))
        {
            traceId = Activity.Current!.TraceId.ToHexString();
            query.CacheHit = false;
            query.Fail(new TimeoutException("the message is never exported"));
        }

        using (var query = telemetry.Start("find", "SELECT"))
        {
            query.CacheHit = true;
        }

        meters.ForceFlush();

        var metric = Assert.Single(exported, m => m.Name == QueryTelemetry.DurationInstrument);
        Assert.Equal((MetricType.ExponentialHistogram, "s"), (metric.MetricType, metric.Unit));
        var points = new List<MetricPoint>();
        foreach (ref readonly var point in metric.GetMetricPoints())
        {
            points.Add(point);
        }

        Assert.Equal(2, points.Count);
        var failed = Assert.Single(points, p => Tags(p).ContainsKey(QueryTelemetry.ErrorTypeTag));
        Assert.Equal("TimeoutException", Tags(failed)[QueryTelemetry.ErrorTypeTag]);
        Assert.Equal((false, "find", "clients"), (Tags(failed)[QueryTelemetry.CacheHitTag], Tags(failed)[QueryTelemetry.QueryTypeTag], Tags(failed)[QueryTelemetry.TableTag]));
        Assert.Equal(1, failed.GetHistogramCount());
        Assert.DoesNotContain(Tags(failed).Values, v => v is string text && text.Contains("message", StringComparison.Ordinal));

        Assert.True(failed.TryGetExemplars(out var exemplars));
        var traces = new List<string>();
        foreach (ref readonly var exemplar in exemplars)
        {
            traces.Add(exemplar.TraceId.ToHexString());
        }

        Assert.Equal([traceId], traces);
    }

    [Fact]
    public void TheSpansDurationIsTheValueTheHistogramRecordedForIt()
    {
        // The benchmark's calibration compares PerfApi's percentiles with the query spans' durations: the
        // two must be one measurement, not two clocks read a scheduler's preemption apart.
        var exported = new List<Metric>();
        var spans = new List<Activity>();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddMetrics();
        services.AddSingleton<QueryTelemetry>();
        services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics.AddMeter(QueryTelemetry.SourceName).AddInMemoryExporter(exported))
            .WithTracing(tracing => tracing.AddSource(QueryTelemetry.SourceName).AddInMemoryExporter(spans));
        QueryTelemetry.AddQueryDurationView(services);
        using var provider = services.BuildServiceProvider();
        var meters = provider.GetRequiredService<MeterProvider>();
        var tracer = provider.GetRequiredService<TracerProvider>();
        var telemetry = provider.GetRequiredService<QueryTelemetry>();

        using (telemetry.Start("find", "SELECT"))
        {
            // Long enough that a second clock read later would differ by many ticks.
            var until = Stopwatch.GetTimestamp() + (Stopwatch.Frequency / 50);
            while (Stopwatch.GetTimestamp() < until)
            {
                Thread.SpinWait(100);
            }
        }

        meters.ForceFlush();
        tracer.ForceFlush();

        var span = Assert.Single(spans);
        var metric = Assert.Single(exported, m => m.Name == QueryTelemetry.DurationInstrument);
        double? recorded = null;
        foreach (ref readonly var point in metric.GetMetricPoints())
        {
            recorded = point.GetHistogramSum();
        }

        Assert.InRange(span.Duration.TotalSeconds, 0.02, 5);
        // Activity durations are whole ticks (100 ns): equal to the recorded seconds within one tick.
        Assert.Equal(recorded!.Value, span.Duration.TotalSeconds, 7);
    }

    [Fact]
    public void AnL1HitInAnUnsampledTraceRecordsTheHistogramButNoSpan()
    {
        using var reads = new Reads(ratio: 0);

        using (var request = reads.Request())
        {
            Assert.False(request.Recorded);
            using var query = reads.Telemetry.StartRead("find");
            query.CacheHit = true;
            query.Rows = 1;
        }

        Assert.Equal(["GET api/v1/clients/{id}"], reads.Ended.Select(s => s.DisplayName));
        var point = Assert.Single(reads.Points());
        Assert.Equal((1L, true, "find"), (point.GetHistogramCount(), Tags(point)[QueryTelemetry.CacheHitTag], Tags(point)[QueryTelemetry.QueryTypeTag]));
    }

    [Fact]
    public void AnL1HitInASampledTraceRecordsItsSpanWithTheHistogramsDuration()
    {
        using var reads = new Reads(ratio: 1);

        using (var request = reads.Request())
        {
            Assert.True(request.Recorded);
            using var query = reads.Telemetry.StartRead("find");
            query.CacheHit = true;
            query.Rows = 1;
        }

        Assert.Equal(["find clients", "GET api/v1/clients/{id}"], reads.Ended.Select(s => s.DisplayName));
        var span = reads.Ended[0];
        Assert.Equal(reads.Ended[1].SpanId, span.ParentSpanId);
        Assert.Equal((true, 1, "SELECT"), (span.GetTagItem(QueryTelemetry.CacheHitTag), span.GetTagItem(QueryTelemetry.RowsTag), span.GetTagItem(QueryTelemetry.OperationTag)));
        var point = Assert.Single(reads.Points());
        Assert.Equal(point.GetHistogramSum(), span.Duration.TotalSeconds, 7);
    }

    [Fact]
    public void AReadThatReachesPostgresInAnUnsampledTraceMakesItsSpanThereFromTheReadsStartAndPostgresNestsUnderIt()
    {
        using var reads = new Reads(ratio: 0);
        using var postgres = new ActivitySource(QueryTelemetry.SourceName);

        DateTime asked;
        using (var request = reads.Request())
        {
            using var query = reads.Telemetry.StartRead("find");
            asked = DateTime.UtcNow;
            Spin(TimeSpan.FromMilliseconds(5));
            query.Span();
            var span = Activity.Current!;
            Assert.Equal("find clients", span.DisplayName);
            Assert.InRange(span.StartTimeUtc, asked.AddSeconds(-1), asked.AddMilliseconds(1));
            using (postgres.StartActivity("postgresql"))
            {
            }

            query.Span();
            Assert.Same(span, Activity.Current);
            query.CacheHit = false;
        }

        Assert.Equal(["postgresql", "find clients", "GET api/v1/clients/{id}"], reads.Ended.Select(s => s.DisplayName));
        Assert.Equal(reads.Ended[1].SpanId, reads.Ended[0].ParentSpanId);
        Assert.Equal(false, reads.Ended[1].GetTagItem(QueryTelemetry.CacheHitTag));
        Assert.Equal(Assert.Single(reads.Points()).GetHistogramSum(), reads.Ended[1].Duration.TotalSeconds, 7);
    }

    [Fact]
    public void AFailedOrSlowReadInAnUnsampledTraceStillMakesItsSpanSoTailSamplingCanExportIt()
    {
        using var reads = new Reads(ratio: 0, slowSeconds: 0.02);

        using (reads.Request())
        {
            using var failed = reads.Telemetry.StartRead("search");
            failed.Fail(new TimeoutException("never exported"));
        }

        using (reads.Request())
        {
            using var slow = reads.Telemetry.StartRead("find");
            slow.CacheHit = true;
            Spin(TimeSpan.FromMilliseconds(25));
        }

        using (reads.Request())
        {
            using var fast = reads.Telemetry.StartRead("find");
            fast.CacheHit = true;
        }

        var spans = reads.Ended.Where(s => s.Source.Name == QueryTelemetry.SourceName).ToList();
        Assert.Equal(["search clients", "find clients"], spans.Select(s => s.DisplayName));
        Assert.Equal((ActivityStatusCode.Error, "TimeoutException"), (spans[0].Status, spans[0].GetTagItem(QueryTelemetry.ErrorTypeTag)));
        Assert.InRange(spans[1].Duration, TimeSpan.FromMilliseconds(25), TimeSpan.FromSeconds(5));
        Assert.Equal(3, reads.Points().Sum(p => p.GetHistogramCount()));
    }

    [Fact]
    public void ARoutesOwnShorterThresholdAlsoKeepsADeferredReadsSpan()
    {
        var tracing = new TracingOptions { SlowRoutes = [new SlowRoute { Route = "api/v1/clients/{id}", ThresholdSeconds = 0.02 }] };
        using var reads = new Reads(ratio: 0, slowSeconds: 10, tracing);

        using (reads.Request())
        {
            using var slow = reads.Telemetry.StartRead("find");
            Spin(TimeSpan.FromMilliseconds(25));
        }

        Assert.Contains(reads.Ended, s => s.DisplayName == "find clients");
    }

    private static void Spin(TimeSpan duration)
    {
        var until = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < until)
        {
            Thread.SpinWait(100);
        }
    }

    /// <summary>
    /// ClientsApi's query telemetry behind ServiceDefaults' head sampler (every span recorded, <paramref name="ratio"/>
    /// of new traces sampled), with every span that ends captured before any tail decision, and the histogram exported
    /// in memory. A request is a root span of the test's own source, as ASP.NET Core's would be.
    /// </summary>
    private sealed class Reads : IDisposable
    {
        private readonly ServiceProvider _provider;
        private readonly ActivitySource _requests = new("NexusCore.Tests.Requests." + Guid.NewGuid().ToString("N"));
        private readonly List<Metric> _metrics = [];
        private readonly List<Activity> _ended = [];
        private readonly HashSet<ActivityTraceId> _traces = [];

        public Reads(double ratio, double slowSeconds = 1.0, TracingOptions? tracing = null)
        {
            var services = new ServiceCollection();
            services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
            services.AddMetrics();
            services.AddSingleton<QueryTelemetry>();
            services.Configure<SlowQueryOptions>(o => o.ThresholdSeconds = slowSeconds);
            services.AddSingleton(Options.Create(tracing ?? new TracingOptions()));
            services.AddOpenTelemetry()
                .WithMetrics(metrics => metrics.AddMeter(QueryTelemetry.SourceName).AddInMemoryExporter(_metrics))
                .WithTracing(tracing => tracing
                    .AddSource(QueryTelemetry.SourceName, _requests.Name)
                    .SetSampler(new RecordEverySpanSampler(ratio))
                    .AddProcessor(new Capture(this)));
            QueryTelemetry.AddQueryDurationView(services);
            _provider = services.BuildServiceProvider();
            _ = _provider.GetRequiredService<TracerProvider>();
            // Built before anything is measured: a measurement made before its listener exists is lost.
            _ = _provider.GetRequiredService<MeterProvider>();
            Telemetry = _provider.GetRequiredService<QueryTelemetry>();
            Activity.Current = null;
        }

        public QueryTelemetry Telemetry { get; }

        /// <summary>The spans of this fixture's requests, in the order they ended.</summary>
        public List<Activity> Ended
        {
            get
            {
                lock (_ended)
                {
                    return _ended.Where(s => _traces.Contains(s.TraceId)).ToList();
                }
            }
        }

        public Activity Request()
        {
            Activity.Current = null;
            var request = _requests.StartActivity("GET api/v1/clients/{id}", ActivityKind.Server)!;
            request.SetTag("http.route", "api/v1/clients/{id}");
            lock (_ended)
            {
                _traces.Add(request.TraceId);
            }

            return request;
        }

        public List<MetricPoint> Points()
        {
            _provider.GetRequiredService<MeterProvider>().ForceFlush();
            var points = new List<MetricPoint>();
            foreach (var metric in _metrics.Where(m => m.Name == QueryTelemetry.DurationInstrument))
            {
                foreach (ref readonly var point in metric.GetMetricPoints())
                {
                    points.Add(point);
                }
            }

            return points;
        }

        public void Dispose()
        {
            Activity.Current = null;
            _provider.Dispose();
            _requests.Dispose();
        }

        private sealed class Capture(Reads reads) : BaseProcessor<Activity>
        {
            public override void OnEnd(Activity data)
            {
                lock (reads._ended)
                {
                    reads._ended.Add(data);
                }
            }
        }
    }

    private static Dictionary<string, object?> Tags(MetricPoint point)
    {
        var tags = new Dictionary<string, object?>();
        foreach (var tag in point.Tags)
        {
            tags[tag.Key] = tag.Value;
        }

        return tags;
    }
}
