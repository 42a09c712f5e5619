using Google.Protobuf;
using OpenTelemetry.Proto.Collector.Metrics.V1;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Proto.Common.V1;
using OpenTelemetry.Proto.Metrics.V1;
using OpenTelemetry.Proto.Resource.V1;
using OpenTelemetry.Proto.Trace.V1;

namespace NexusCore.PerfApi.Tests.Features.Otlp;

/// <summary>Builds OTLP messages with the generated classes, as an exporter would send them.</summary>
internal static class OtlpPayloads
{
    public static ExportTraceServiceRequest TraceRequest(string service, params Span[] spans)
    {
        var scope = new ScopeSpans { Scope = new InstrumentationScope { Name = "NexusCore.ClientsApi" } };
        scope.Spans.AddRange(spans);
        var resource = new ResourceSpans { Resource = Resource(service) };
        resource.ScopeSpans.Add(scope);
        var request = new ExportTraceServiceRequest();
        request.ResourceSpans.Add(resource);
        return request;
    }

    public static ExportMetricsServiceRequest MetricRequest(string service, params Metric[] metrics) => MetricRequest(service, "", metrics);

    public static ExportMetricsServiceRequest MetricRequest(string service, string instance, params Metric[] metrics)
    {
        var scope = new ScopeMetrics { Scope = new InstrumentationScope { Name = "NexusCore.ClientsApi" } };
        scope.Metrics.AddRange(metrics);
        var resource = new ResourceMetrics { Resource = Resource(service, instance) };
        resource.ScopeMetrics.Add(scope);
        var request = new ExportMetricsServiceRequest();
        request.ResourceMetrics.Add(resource);
        return request;
    }

    /// <summary>A span ending at <paramref name="end"/> after <paramref name="duration"/>, with the given attributes.</summary>
    public static Span Span(DateTimeOffset end, TimeSpan duration, params KeyValue[] attributes)
    {
        var span = new Span
        {
            TraceId = ByteString.CopyFrom(Enumerable.Range(1, 16).Select(i => (byte)i).ToArray()),
            SpanId = ByteString.CopyFrom([0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7, 0xA8]),
            Name = "query",
            Kind = OpenTelemetry.Proto.Trace.V1.Span.Types.SpanKind.Client,
            StartTimeUnixNano = Nanos(end - duration),
            EndTimeUnixNano = Nanos(end),
        };
        span.Attributes.AddRange(attributes);
        return span;
    }

    public static KeyValue Attribute(string key, string value) => new() { Key = key, Value = new AnyValue { StringValue = value } };

    public static KeyValue Attribute(string key, bool value) => new() { Key = key, Value = new AnyValue { BoolValue = value } };

    public static KeyValue Attribute(string key, long value) => new() { Key = key, Value = new AnyValue { IntValue = value } };

    public static Metric Gauge(string name, string unit, params NumberDataPoint[] points)
    {
        var gauge = new Gauge();
        gauge.DataPoints.AddRange(points);
        return new Metric { Name = name, Unit = unit, Gauge = gauge };
    }

    public static Metric Sum(string name, string unit, bool isMonotonic, AggregationTemporality temporality, params NumberDataPoint[] points)
    {
        var sum = new Sum { IsMonotonic = isMonotonic, AggregationTemporality = temporality };
        sum.DataPoints.AddRange(points);
        return new Metric { Name = name, Unit = unit, Sum = sum };
    }

    public static Metric Histogram(string name, string unit, AggregationTemporality temporality, params HistogramDataPoint[] points)
    {
        var histogram = new Histogram { AggregationTemporality = temporality };
        histogram.DataPoints.AddRange(points);
        return new Metric { Name = name, Unit = unit, Histogram = histogram };
    }

    public static NumberDataPoint Number(DateTimeOffset start, DateTimeOffset time, double value, params KeyValue[] attributes)
    {
        var point = new NumberDataPoint { StartTimeUnixNano = Nanos(start), TimeUnixNano = Nanos(time), AsDouble = value };
        point.Attributes.AddRange(attributes);
        return point;
    }

    public static NumberDataPoint Integer(DateTimeOffset start, DateTimeOffset time, long value, params KeyValue[] attributes)
    {
        var point = new NumberDataPoint { StartTimeUnixNano = Nanos(start), TimeUnixNano = Nanos(time), AsInt = value };
        point.Attributes.AddRange(attributes);
        return point;
    }

    public static HistogramDataPoint HistogramPoint(
        DateTimeOffset start, DateTimeOffset time, double sum, double[] bounds, ulong[] counts, params KeyValue[] attributes)
    {
        var point = new HistogramDataPoint
        {
            StartTimeUnixNano = Nanos(start),
            TimeUnixNano = Nanos(time),
            Count = (ulong)counts.Sum(c => (long)c),
            Sum = sum,
        };
        point.ExplicitBounds.AddRange(bounds);
        point.BucketCounts.AddRange(counts);
        point.Attributes.AddRange(attributes);
        return point;
    }

    public static Metric ExponentialHistogram(string name, string unit, AggregationTemporality temporality, params ExponentialHistogramDataPoint[] points)
    {
        var histogram = new OpenTelemetry.Proto.Metrics.V1.ExponentialHistogram { AggregationTemporality = temporality };
        histogram.DataPoints.AddRange(points);
        return new Metric { Name = name, Unit = unit, ExponentialHistogram = histogram };
    }

    /// <summary>
    /// An exponential histogram point holding <paramref name="values"/> at <paramref name="scale"/>, as OpenTelemetry
    /// buckets them: bucket i counts (base^i, base^(i+1)]; zero and below in the zero count; min, max and sum exact.
    /// </summary>
    public static ExponentialHistogramDataPoint ExponentialPoint(
        DateTimeOffset start, DateTimeOffset time, int scale, IEnumerable<double> values, params KeyValue[] attributes)
    {
        var list = values.ToList();
        var point = new ExponentialHistogramDataPoint
        {
            StartTimeUnixNano = Nanos(start),
            TimeUnixNano = Nanos(time),
            Count = (ulong)list.Count,
            Sum = list.Sum(),
            Scale = scale,
            ZeroCount = (ulong)list.Count(v => v <= 0),
            Positive = new ExponentialHistogramDataPoint.Types.Buckets(),
        };
        if (list.Count > 0)
        {
            point.Min = list.Min();
            point.Max = list.Max();
        }

        var indexes = list.Where(v => v > 0).Select(v => NexusCore.PerfApi.Store.ExponentialHistogram.IndexOf(scale, v)).ToList();
        if (indexes.Count > 0)
        {
            var offset = indexes.Min();
            var counts = new ulong[indexes.Max() - offset + 1];
            indexes.ForEach(i => counts[i - offset]++);
            point.Positive.Offset = offset;
            point.Positive.BucketCounts.AddRange(counts);
        }

        point.Attributes.AddRange(attributes);
        return point;
    }

    /// <summary>An exemplar of <paramref name="value"/> recorded at <paramref name="time"/> in trace <paramref name="traceId"/> (32 hex digits).</summary>
    public static Exemplar Exemplar(double value, DateTimeOffset time, string traceId, string spanId = "00f067aa0ba902b7") => new()
    {
        AsDouble = value,
        TimeUnixNano = Nanos(time),
        TraceId = ByteString.CopyFrom(Convert.FromHexString(traceId)),
        SpanId = ByteString.CopyFrom(Convert.FromHexString(spanId)),
    };

    public static ulong Nanos(DateTimeOffset time) => (ulong)((time - DateTimeOffset.UnixEpoch).Ticks * 100);

    private static Resource Resource(string service, string instance = "")
    {
        var resource = new Resource();
        resource.Attributes.Add(Attribute("service.name", service));
        if (instance.Length > 0)
        {
            resource.Attributes.Add(Attribute("service.instance.id", instance));
        }

        return resource;
    }
}
