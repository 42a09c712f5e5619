using Google.Protobuf.Collections;
using OpenTelemetry.Proto.Collector.Metrics.V1;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Proto.Common.V1;
using OpenTelemetry.Proto.Metrics.V1;

namespace NexusCore.PerfApi.Ingest;

/// <summary>
/// Cuts the strings of a parsed OTLP message to the receiver's lengths before the decoders read them, so that no
/// sender-chosen string longer than <see cref="OtlpReceiverOptions.MaxAttributeLength"/> becomes (part of) a
/// series key: attribute keys and values (service names are resource attributes), metric names and units. Statement
/// texts (<c>db.query.text</c>, <c>db.statement</c>) keep up to <see cref="OtlpReceiverOptions.MaxStatementTextLength"/>.
/// An array or map value longer than the limit as text becomes that text, cut. Runs only when
/// <see cref="OtlpLimits"/> saw a string long enough to need it, so a typical export costs nothing here.
/// </summary>
internal static class OtlpTruncation
{
    /// <returns>Whether anything was cut.</returns>
    public static bool Apply(ExportTraceServiceRequest request, OtlpReceiverOptions limits)
    {
        var cut = false;
        foreach (var resource in request.ResourceSpans)
        {
            cut |= Attributes(resource.Resource?.Attributes, limits);
            foreach (var scope in resource.ScopeSpans)
            {
                foreach (var span in scope.Spans)
                {
                    cut |= Attributes(span.Attributes, limits);
                }
            }
        }

        return cut;
    }

    /// <inheritdoc cref="Apply(ExportTraceServiceRequest, OtlpReceiverOptions)"/>
    public static bool Apply(ExportMetricsServiceRequest request, OtlpReceiverOptions limits)
    {
        var cut = false;
        foreach (var resource in request.ResourceMetrics)
        {
            cut |= Attributes(resource.Resource?.Attributes, limits);
            foreach (var scope in resource.ScopeMetrics)
            {
                foreach (var metric in scope.Metrics)
                {
                    var (name, unit) = (Cut(metric.Name, limits.MaxAttributeLength), Cut(metric.Unit, limits.MaxAttributeLength));
                    if (!ReferenceEquals(name, metric.Name) || !ReferenceEquals(unit, metric.Unit))
                    {
                        (metric.Name, metric.Unit, cut) = (name, unit, true);
                    }

                    cut |= metric.DataCase switch
                    {
                        Metric.DataOneofCase.Gauge => Points(metric.Gauge.DataPoints, p => p.Attributes, limits),
                        Metric.DataOneofCase.Sum => Points(metric.Sum.DataPoints, p => p.Attributes, limits),
                        Metric.DataOneofCase.Histogram => Points(metric.Histogram.DataPoints, p => p.Attributes, limits),
                        Metric.DataOneofCase.ExponentialHistogram => Points(metric.ExponentialHistogram.DataPoints, p => p.Attributes, limits),
                        _ => false,
                    };
                }
            }
        }

        return cut;
    }

    /// <summary>The first <paramref name="max"/> characters, not splitting a surrogate pair; the same instance when short enough.</summary>
    public static string Cut(string text, int max)
    {
        if (text.Length <= max)
        {
            return text;
        }

        var length = char.IsHighSurrogate(text[max - 1]) ? max - 1 : max;
        return text[..length];
    }

    private static bool Points<T>(RepeatedField<T> points, Func<T, RepeatedField<KeyValue>> attributes, OtlpReceiverOptions limits)
    {
        var cut = false;
        foreach (var point in points)
        {
            cut |= Attributes(attributes(point), limits);
        }

        return cut;
    }

    private static bool Attributes(RepeatedField<KeyValue>? attributes, OtlpReceiverOptions limits)
    {
        if (attributes is null)
        {
            return false;
        }

        var cut = false;
        foreach (var attribute in attributes)
        {
            var key = Cut(attribute.Key, limits.MaxAttributeLength);
            if (!ReferenceEquals(key, attribute.Key))
            {
                (attribute.Key, cut) = (key, true);
            }

            var max = attribute.Key is "db.query.text" or "db.statement" ? limits.MaxStatementTextLength : limits.MaxAttributeLength;
            cut |= Value(attribute.Value, max);
        }

        return cut;
    }

    private static bool Value(AnyValue? value, int max)
    {
        switch (value?.ValueCase)
        {
            case AnyValue.ValueOneofCase.StringValue when value.StringValue.Length > max:
                value.StringValue = Cut(value.StringValue, max);
                return true;
            case AnyValue.ValueOneofCase.BytesValue when value.BytesValue.Length * 2 > max:
            case AnyValue.ValueOneofCase.ArrayValue or AnyValue.ValueOneofCase.KvlistValue:
                var text = OtlpAttributes.Text(value) ?? "";
                if (text.Length <= max)
                {
                    return false;
                }

                value.StringValue = Cut(text, max);
                return true;
            default:
                return false;
        }
    }
}
