using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using NexusCore.ClientsApi.Telemetry;
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
