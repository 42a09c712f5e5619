
using NexusCore.PerfApi.Store;
namespace NexusCore.PerfApi.Tests.Telemetry;

public sealed class LatencyHistogramTests
{
    [Fact]
    public void BucketsTileEveryDurationWithoutGapsOrOverlaps()
    {
        for (var index = 0; index < LatencyHistogram.BucketCount - 1; index++)
        {
            var lower = LatencyHistogram.LowerBoundOf(index);
            var width = LatencyHistogram.WidthOf(index);
            Assert.Equal(lower + width, LatencyHistogram.LowerBoundOf(index + 1));
            Assert.Equal(index, LatencyHistogram.IndexOf(lower));
            Assert.Equal(index, LatencyHistogram.IndexOf(lower + width - 1));
        }

        Assert.Equal(LatencyHistogram.BucketCount - 1, LatencyHistogram.IndexOf(LatencyHistogram.MaxTrackableNanos));
    }

    [Fact]
    public void EveryBucketIsAtMostOneSixteenthOfItsLowerBoundWide()
    {
        for (var index = 16; index < LatencyHistogram.BucketCount; index++)
        {
            Assert.True(
                LatencyHistogram.WidthOf(index) * 16 <= LatencyHistogram.LowerBoundOf(index),
                $"bucket {index} is {LatencyHistogram.WidthOf(index)} ns wide from {LatencyHistogram.LowerBoundOf(index)} ns");
        }
    }

    [Theory]
    [InlineData(0.50)]
    [InlineData(0.95)]
    [InlineData(0.99)]
    [InlineData(0.999)]
    public void PercentilesAreWithinTheDocumentedErrorOfTheExactNearestRankValue(double quantile)
    {
        // Log-uniform between 50 µs and 3 s: the spread of real query latencies, every bucket width exercised.
        var random = new Random(20260302);
        var values = Enumerable.Range(0, 100_000)
            .Select(_ => (long)Math.Exp(Math.Log(50_000) + (random.NextDouble() * (Math.Log(3e9) - Math.Log(50_000)))))
            .ToArray();
        var histogram = new LatencyHistogram();
        foreach (var value in values)
        {
            histogram.Record(value);
        }

        var accumulator = new HistogramAccumulator();
        histogram.AddTo(accumulator);
        Array.Sort(values);
        var exact = values[(int)Math.Ceiling(quantile * values.Length) - 1];

        var estimate = accumulator.ValueAtQuantileNanos(quantile)!.Value;

        Assert.InRange(Math.Abs(estimate - exact) / exact, 0, LatencyHistogram.RelativeError);
    }

    [Fact]
    public void MinAndMaxAreExactAndBoundTheExtremePercentiles()
    {
        var histogram = new LatencyHistogram();
        histogram.Record(1_234_567);
        histogram.Record(987_654_321);
        var accumulator = new HistogramAccumulator();
        histogram.AddTo(accumulator);

        Assert.Equal(1_234_567, histogram.MinNanos);
        Assert.Equal(987_654_321, histogram.MaxNanos);
        Assert.Equal(1_234_567, accumulator.ValueAtQuantileNanos(0));
        Assert.Equal(987_654_321, accumulator.ValueAtQuantileNanos(1));
    }

    [Fact]
    public void DurationsBelowSixteenNanosecondsAreCountedExactly()
    {
        var histogram = new LatencyHistogram();
        foreach (var value in new long[] { 3, 3, 7, 15 })
        {
            histogram.Record(value);
        }

        var accumulator = new HistogramAccumulator();
        histogram.AddTo(accumulator);

        Assert.Equal(3, accumulator.ValueAtQuantileNanos(0.5));
        Assert.Equal(7, accumulator.ValueAtQuantileNanos(0.75));
        Assert.Equal(15, accumulator.ValueAtQuantileNanos(1));
    }

    [Fact]
    public void NegativeAndHugeDurationsAreClampedIntoTheFirstAndLastBuckets()
    {
        var histogram = new LatencyHistogram();
        histogram.Record(-5);
        histogram.Record(long.MaxValue);

        Assert.Equal(2, histogram.Count);
        Assert.Equal(0, histogram.MinNanos);
        Assert.Equal(LatencyHistogram.MaxTrackableNanos, histogram.MaxNanos);
    }

    [Fact]
    public void HistogramsGrowTheirRangeInBothDirectionsAndMergeIntoOneAccumulator()
    {
        var first = new LatencyHistogram();
        first.Record(1_000_000);
        first.Record(10);
        first.Record(60_000_000_000);
        var second = new LatencyHistogram();
        second.Record(2_000_000);

        var accumulator = new HistogramAccumulator();
        first.AddTo(accumulator);
        second.AddTo(accumulator);

        Assert.Equal(4, accumulator.Count);
        Assert.Equal(10, accumulator.ValueAtQuantileNanos(0.25));
        Assert.InRange(accumulator.ValueAtQuantileNanos(0.5)!.Value, 1_000_000 * (1 - LatencyHistogram.RelativeError), 1_000_000 * (1 + LatencyHistogram.RelativeError));
        Assert.InRange(accumulator.ValueAtQuantileNanos(0.75)!.Value, 2_000_000 * (1 - LatencyHistogram.RelativeError), 2_000_000 * (1 + LatencyHistogram.RelativeError));
        Assert.Equal(60_000_000_000, accumulator.ValueAtQuantileNanos(1));
    }

    [Fact]
    public void ClearEmptiesTheHistogramForItsNextRollUp()
    {
        var histogram = new LatencyHistogram();
        histogram.Record(5_000_000);
        histogram.Clear();
        histogram.Record(7_000);

        var accumulator = new HistogramAccumulator();
        histogram.AddTo(accumulator);

        Assert.Equal(1, accumulator.Count);
        Assert.Equal(7_000, accumulator.ValueAtQuantileNanos(0.5));
    }

    [Fact]
    public void AnEmptyAccumulatorHasNoPercentiles() => Assert.Null(new HistogramAccumulator().ValueAtQuantileNanos(0.99));
}
