using NexusCore.PerfApi.Features.Otlp.Metrics;
using NexusCore.PerfApi.Ingest;
using OpenTelemetry.Proto.Metrics.V1;
using static NexusCore.PerfApi.Tests.Features.Otlp.OtlpPayloads;

namespace NexusCore.PerfApi.Tests.Features.Otlp.Metrics;

[NoStack]
public sealed class DecoderTests
{
    private static readonly DateTimeOffset Start = new(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Time = new(2026, 3, 2, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void ExponentialHistogramsKeepScaleZeroCountPositiveBucketsAndExemplarsWithHexIds()
    {
        var point = ExponentialPoint(Start, Time, 3, [0, 0.001, 0.001, 0.004], Attribute("nexuscore.query.type", "find"));
        point.Exemplars.Add(Exemplar(0.004, Time, "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"));
        point.Exemplars.Add(new OpenTelemetry.Proto.Metrics.V1.Exemplar { AsInt = 2, TimeUnixNano = Nanos(Time) });
        point.Exemplars.Add(new OpenTelemetry.Proto.Metrics.V1.Exemplar { AsDouble = double.NaN, TimeUnixNano = Nanos(Time) });

        var batch = MetricsDecoder.Decode(MetricRequest("clients-api", "instance-1",
            ExponentialHistogram("nexuscore.query.duration", "s", AggregationTemporality.Delta, point)));

        var decoded = Assert.Single(batch.Points);
        Assert.Equal((MetricKind.ExponentialHistogram, MetricTemporality.Delta, 3, 1L, 4L), (decoded.Kind, decoded.Temporality, decoded.Scale, decoded.ZeroCount, decoded.Count));
        Assert.Equal(NexusCore.PerfApi.Store.ExponentialHistogram.IndexOf(3, 0.001), decoded.Offset);
        Assert.Equal(3, decoded.BucketCounts.Sum());
        Assert.Equal((2L, 1L), (decoded.BucketCounts[0], decoded.BucketCounts[^1]));
        Assert.Equal(
            [new MetricExemplar(0.004, (long)Nanos(Time), "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"), new MetricExemplar(2, (long)Nanos(Time), null, null)],
            decoded.Exemplars);
    }

    [Fact]
    public void GaugesSumsAndHistogramsBecomePointsWithSortedTextAttributes()
    {
        var request = MetricRequest("clients-api", "instance-1",
            Gauge("nexuscore.cache.entries", "{entry}", Integer(Start, Time, 1500, Attribute("query.type", "find"))),
            Sum("db.client.connections.usage", "{connection}", isMonotonic: false, AggregationTemporality.Cumulative,
                Integer(Start, Time, 3, Attribute("state", "idle"), Attribute("pool.name", "clientsdb"))),
            Histogram("nexuscore.query.duration", "s", AggregationTemporality.Cumulative,
                HistogramPoint(Start, Time, 0.25, [0.005, 0.01], [1, 2, 3], Attribute("nexuscore.cache.hit", true), Attribute("db.collection.name", "clients"))));

        var batch = MetricsDecoder.Decode(request);

        Assert.Equal(3, batch.ReceivedPoints);
        Assert.Equal(0, batch.UnsupportedPoints);
        var gauge = batch.Points[0];
        Assert.Equal(("clients-api", "instance-1", "nexuscore.cache.entries", MetricKind.Gauge, 1500.0), (gauge.Service, gauge.Instance, gauge.Name, gauge.Kind, gauge.Value));
        var usage = batch.Points[1];
        Assert.Equal((MetricKind.Sum, false, MetricTemporality.Cumulative), (usage.Kind, usage.IsMonotonic, usage.Temporality));
        Assert.Equal(["pool.name=clientsdb", "state=idle"], usage.Attributes.Select(a => $"{a.Key}={a.Value}"));
        Assert.Equal((long)Nanos(Start), usage.StartUnixNanos);
        Assert.Equal((long)Nanos(Time), usage.TimeUnixNanos);
        var histogram = batch.Points[2];
        Assert.Equal(("s", 6L, 0.25), (histogram.Unit, histogram.Count, histogram.Sum));
        Assert.Equal([0.005, 0.01], histogram.Bounds);
        Assert.Equal([1L, 2, 3], histogram.BucketCounts);
        Assert.Equal(["db.collection.name=clients", "nexuscore.cache.hit=true"], histogram.Attributes.Select(a => $"{a.Key}={a.Value}"));
    }

    [Fact]
    public void PointsWithoutARecordedValueAndMetricsWithoutDataAreCountedAsUnsupported()
    {
        var stale = Number(Start, Time, 1);
        stale.Flags = (uint)DataPointFlags.NoRecordedValueMask;
        var request = MetricRequest("clients-api",
            Gauge("nexuscore.cache.size", "By", stale, Number(Start, Time, 2048)),
            new Metric { Name = "legacy.summary" });

        var batch = MetricsDecoder.Decode(request);

        Assert.Equal(3, batch.ReceivedPoints);
        Assert.Equal(2, batch.UnsupportedPoints);
        Assert.Equal(2048, Assert.Single(batch.Points).Value);
    }

    [Fact]
    public void PointsWithANaNOrAnInfinityAreDroppedAndCountedAsNonFinite()
    {
        var request = MetricRequest("clients-api",
            Gauge("db.client.connection.max", "{connection}", Number(Start, Time, double.NaN), Number(Start, Time, 50)),
            Sum("nexuscore.cache.misses", "{request}", isMonotonic: true, AggregationTemporality.Cumulative,
                Number(Start, Time, double.PositiveInfinity), Number(Start, Time, double.NegativeInfinity), Number(Start, Time, -1e300)),
            Histogram("nexuscore.query.duration", "s", AggregationTemporality.Cumulative,
                HistogramPoint(Start, Time, double.NaN, [0.005], [1, 1]),
                HistogramPoint(Start, Time, 0.25, [0.005, double.PositiveInfinity], [1, 1, 0]),
                HistogramPoint(Start, Time, 0.25, [0.005], [1, 1])));

        var batch = MetricsDecoder.Decode(request);

        Assert.Equal((8, 0, 5), (batch.ReceivedPoints, batch.UnsupportedPoints, batch.NonFinitePoints));
        // A finite value, however absurd, is kept: the readers saturate it.
        Assert.Equal([50.0, -1e300, 0], batch.Points.Select(p => p.Value));
        Assert.Equal(0.25, batch.Points[2].Sum);
    }
}
