namespace NexusCore.PerfApi.Ingest;

public enum MetricKind
{
    Gauge,
    Sum,
    Histogram,

    /// <summary>
    /// Base-2 exponential histogram: <c>nexuscore.query.duration</c> feeds the query roll-ups with its buckets;
    /// any other is kept as count and sum only.
    /// </summary>
    ExponentialHistogram,
}

public enum MetricTemporality
{
    Unspecified,
    Delta,
    Cumulative,
}

/// <summary>One decoded OTLP data point with its metric's identity; values still in the sender's unit.</summary>
public sealed record MetricPoint
{
    public required string Service { get; init; }

    /// <summary><c>service.instance.id</c>: two replicas' cumulative counters must not be subtracted from each other.</summary>
    public string Instance { get; init; } = "";

    public required string Name { get; init; }

    public string Unit { get; init; } = "";

    public required MetricKind Kind { get; init; }

    public MetricTemporality Temporality { get; init; }

    public bool IsMonotonic { get; init; }

    /// <summary>The point's attributes, sorted by key, values as text.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Attributes { get; init; } = [];

    public long StartUnixNanos { get; init; }

    public long TimeUnixNanos { get; init; }

    /// <summary>Gauge or sum value.</summary>
    public double Value { get; init; }

    /// <summary>Histogram count.</summary>
    public long Count { get; init; }

    /// <summary>Histogram sum.</summary>
    public double Sum { get; init; }

    public double? Min { get; init; }

    public double? Max { get; init; }

    /// <summary>Histogram explicit bounds; bucket i counts values in (bounds[i-1], bounds[i]].</summary>
    public IReadOnlyList<double> Bounds { get; init; } = [];

    public IReadOnlyList<long> BucketCounts { get; init; } = [];

    /// <summary>Exponential histogram: the scale of <see cref="BucketCounts"/> (base <c>2^(2^-scale)</c>).</summary>
    public int Scale { get; init; }

    /// <summary>Exponential histogram: values counted as zero (at most the sender's zero threshold).</summary>
    public long ZeroCount { get; init; }

    /// <summary>Exponential histogram: the index of the first positive bucket in <see cref="BucketCounts"/>.</summary>
    public int Offset { get; init; }

    /// <summary>Histogram exemplars: measurements the sender kept with the trace that was current when they were recorded.</summary>
    public IReadOnlyList<MetricExemplar> Exemplars { get; init; } = [];
}

/// <summary>One exemplar: a value (in the metric's unit), when it was recorded and, when a span was current, its ids (lower-case hex).</summary>
public sealed record MetricExemplar(double Value, long TimeUnixNanos, string? TraceId, string? SpanId);

/// <summary>What one OTLP metrics payload brought: the points kept and how many were received in all.</summary>
public sealed class MetricBatch(IReadOnlyList<MetricPoint> points, int receivedPoints, int unsupportedPoints, int nonFinitePoints = 0)
{
    public IReadOnlyList<MetricPoint> Points { get; } = points;

    public int ReceivedPoints { get; } = receivedPoints;

    /// <summary>Points of kinds the store does not keep (summaries) or marked as having no recorded value.</summary>
    public int UnsupportedPoints { get; } = unsupportedPoints;

    /// <summary>Points dropped for a NaN or infinite value, sum, minimum, maximum or bucket bound.</summary>
    public int NonFinitePoints { get; } = nonFinitePoints;
}
