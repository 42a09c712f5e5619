using OpenTelemetry.Proto.Collector.Metrics.V1;
using OpenTelemetry.Proto.Metrics.V1;

namespace NexusCore.PerfApi.Ingest;

/// <summary>
/// Turns an OTLP metrics export into <see cref="MetricPoint"/>s: gauges, sums, explicit-bucket and exponential
/// histograms (scale, zero count, positive buckets; negative ones are not durations and are left out) with their
/// exemplars. Points flagged as having no recorded value, and metric kinds
/// this receiver does not declare (summaries), are counted as unsupported. Points carrying a NaN or an infinity
/// (value, sum, min, max or bucket bound) are dropped and counted: no level or count is infinite, and one such
/// point would otherwise poison every figure summed from its series.
/// </summary>
internal static class MetricsDecoder
{
    private const uint NoRecordedValue = (uint)DataPointFlags.NoRecordedValueMask;

    public static MetricBatch Decode(ExportMetricsServiceRequest request)
    {
        var points = new List<MetricPoint>();
        int received = 0, unsupported = 0, nonFinite = 0;
        foreach (var resourceMetrics in request.ResourceMetrics)
        {
            var (service, instance) = OtlpAttributes.ServiceOf(resourceMetrics.Resource);
            foreach (var scopeMetrics in resourceMetrics.ScopeMetrics)
            {
                foreach (var metric in scopeMetrics.Metrics)
                {
                    var template = new MetricPoint { Service = service, Instance = instance, Name = metric.Name, Unit = metric.Unit, Kind = MetricKind.Gauge };
                    switch (metric.DataCase)
                    {
                        case Metric.DataOneofCase.Gauge:
                            Numbers(metric.Gauge.DataPoints, template, MetricTemporality.Unspecified, isMonotonic: false);
                            break;
                        case Metric.DataOneofCase.Sum:
                            Numbers(metric.Sum.DataPoints, template with { Kind = MetricKind.Sum }, Temporality(metric.Sum.AggregationTemporality), metric.Sum.IsMonotonic);
                            break;
                        case Metric.DataOneofCase.Histogram:
                            Histograms(metric.Histogram, template with { Kind = MetricKind.Histogram });
                            break;
                        case Metric.DataOneofCase.ExponentialHistogram:
                            ExponentialHistograms(metric.ExponentialHistogram, template with { Kind = MetricKind.ExponentialHistogram });
                            break;
                        default:
                            received++;
                            unsupported++;
                            break;
                    }
                }
            }
        }

        return new MetricBatch(points, received, unsupported, nonFinite);

        void Numbers(IReadOnlyList<NumberDataPoint> dataPoints, MetricPoint template, MetricTemporality temporality, bool isMonotonic)
        {
            received += dataPoints.Count;
            foreach (var point in dataPoints)
            {
                if ((point.Flags & NoRecordedValue) != 0 || point.ValueCase == NumberDataPoint.ValueOneofCase.None)
                {
                    unsupported++;
                    continue;
                }

                var value = point.ValueCase == NumberDataPoint.ValueOneofCase.AsInt ? point.AsInt : point.AsDouble;
                if (!double.IsFinite(value))
                {
                    nonFinite++;
                    continue;
                }

                points.Add(template with
                {
                    Temporality = temporality,
                    IsMonotonic = isMonotonic,
                    Attributes = OtlpAttributes.Sorted(point.Attributes),
                    StartUnixNanos = Nanos(point.StartTimeUnixNano),
                    TimeUnixNanos = Nanos(point.TimeUnixNano),
                    Value = value,
                });
            }
        }

        void Histograms(Histogram histogram, MetricPoint template)
        {
            received += histogram.DataPoints.Count;
            foreach (var point in histogram.DataPoints)
            {
                if ((point.Flags & NoRecordedValue) != 0)
                {
                    unsupported++;
                    continue;
                }

                if (!Finite(point.HasSum, point.Sum, point.HasMin, point.Min, point.HasMax, point.Max) || !point.ExplicitBounds.All(double.IsFinite))
                {
                    nonFinite++;
                    continue;
                }

                points.Add(template with
                {
                    Temporality = Temporality(histogram.AggregationTemporality),
                    Attributes = OtlpAttributes.Sorted(point.Attributes),
                    StartUnixNanos = Nanos(point.StartTimeUnixNano),
                    TimeUnixNanos = Nanos(point.TimeUnixNano),
                    Count = Count(point.Count),
                    Sum = point.HasSum ? point.Sum : 0,
                    Min = point.HasMin ? point.Min : null,
                    Max = point.HasMax ? point.Max : null,
                    Bounds = [.. point.ExplicitBounds],
                    BucketCounts = point.BucketCounts.Select(Count).ToArray(),
                    Exemplars = Exemplars(point.Exemplars),
                });
            }
        }

        void ExponentialHistograms(ExponentialHistogram histogram, MetricPoint template)
        {
            received += histogram.DataPoints.Count;
            foreach (var point in histogram.DataPoints)
            {
                if ((point.Flags & NoRecordedValue) != 0)
                {
                    unsupported++;
                    continue;
                }

                if (!Finite(point.HasSum, point.Sum, point.HasMin, point.Min, point.HasMax, point.Max))
                {
                    nonFinite++;
                    continue;
                }

                points.Add(template with
                {
                    Temporality = Temporality(histogram.AggregationTemporality),
                    Attributes = OtlpAttributes.Sorted(point.Attributes),
                    StartUnixNanos = Nanos(point.StartTimeUnixNano),
                    TimeUnixNanos = Nanos(point.TimeUnixNano),
                    Count = Count(point.Count),
                    Sum = point.HasSum ? point.Sum : 0,
                    Min = point.HasMin ? point.Min : null,
                    Max = point.HasMax ? point.Max : null,
                    Scale = point.Scale,
                    ZeroCount = Count(point.ZeroCount),
                    Offset = point.Positive?.Offset ?? 0,
                    BucketCounts = point.Positive is { } positive ? positive.BucketCounts.Select(Count).ToArray() : [],
                    Exemplars = Exemplars(point.Exemplars),
                });
            }
        }
    }

    /// <summary>Finite exemplars, with their trace and span ids as hex when the sender gave them.</summary>
    private static IReadOnlyList<MetricExemplar> Exemplars(IReadOnlyList<Exemplar> exemplars)
    {
        if (exemplars.Count == 0)
        {
            return [];
        }

        var kept = new List<MetricExemplar>(exemplars.Count);
        foreach (var exemplar in exemplars)
        {
            var value = exemplar.ValueCase == Exemplar.ValueOneofCase.AsInt ? exemplar.AsInt : exemplar.AsDouble;
            if (double.IsFinite(value))
            {
                kept.Add(new MetricExemplar(
                    value,
                    Nanos(exemplar.TimeUnixNano),
                    Id(exemplar.TraceId, 16),
                    Id(exemplar.SpanId, 8)));
            }
        }

        return kept;
    }

    /// <summary>An id of the size the specification gives it, as lower-case hex; null when absent, all zero or malformed.</summary>
    private static string? Id(Google.Protobuf.ByteString bytes, int length) =>
        bytes.Length == length && bytes.Span.ContainsAnyExcept((byte)0) ? Convert.ToHexStringLower(bytes.Span) : null;

    private static MetricTemporality Temporality(AggregationTemporality temporality) => temporality switch
    {
        AggregationTemporality.Delta => MetricTemporality.Delta,
        AggregationTemporality.Cumulative => MetricTemporality.Cumulative,
        _ => MetricTemporality.Unspecified,
    };

    /// <summary>Whether a histogram's sum, min and max are finite where present.</summary>
    private static bool Finite(bool hasSum, double sum, bool hasMin, double min, bool hasMax, double max) =>
        (!hasSum || double.IsFinite(sum)) && (!hasMin || double.IsFinite(min)) && (!hasMax || double.IsFinite(max));

    private static long Nanos(ulong value) => (long)Math.Min(value, long.MaxValue);

    private static long Count(ulong value) => (long)Math.Min(value, long.MaxValue);
}
