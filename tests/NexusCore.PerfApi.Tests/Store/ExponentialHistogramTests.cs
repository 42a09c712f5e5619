using NexusCore.PerfApi.Store;

namespace NexusCore.PerfApi.Tests.Store;

[NoStack]
public sealed class ExponentialHistogramTests
{
    private static double Exact(List<double> values, double q)
    {
        values.Sort();
        var rank = Math.Max(1, (int)Math.Ceiling(q * values.Count));
        return values[rank - 1];
    }

    private static List<double> LogNormal(int seed, int n, double medianMs, double sigma)
    {
        var random = new Random(seed);
        var values = new List<double>(n);
        for (var i = 0; i < n; i++)
        {
            var u1 = 1 - random.NextDouble();
            var u2 = random.NextDouble();
            var z = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
            values.Add(medianMs * Math.Exp(sigma * z));
        }

        return values;
    }

    [Theory]
    [InlineData(1, 0.3, 0.5)]
    [InlineData(2, 4.0, 1.5)]
    [InlineData(3, 0.05, 2.5)]
    public void PercentilesOfRecordedValuesAreWithinTheScalesRelativeErrorOfTheExactNearestRank(int seed, double median, double sigma)
    {
        var values = LogNormal(seed, 20_000, median, sigma);
        var histogram = new ExponentialHistogram();
        values.ForEach(histogram.Record);

        Assert.Equal(values.Count, histogram.Count);
        Assert.True(histogram.Counts.Length <= ExponentialHistogram.MaxBuckets);
        foreach (var q in new[] { 0.5, 0.95, 0.99 })
        {
            var exact = Exact(values, q);
            var reported = histogram.Quantile(q)!.Value;
            Assert.InRange(Math.Abs(reported - exact) / exact, 0, histogram.RelativeError + 1e-9);
        }

        Assert.Equal(values.Min(), histogram.Quantile(0));
        Assert.Equal(values.Max(), histogram.Quantile(1));
        Assert.Equal(values.Sum(), histogram.Sum, 6);
    }

    [Fact]
    public void AWideRangeLowersTheScaleSoTheBucketsStayWithinTheCap()
    {
        var histogram = new ExponentialHistogram();
        histogram.Record(0.001);
        histogram.Record(1_000_000);

        Assert.True(histogram.Counts.Length <= ExponentialHistogram.MaxBuckets);
        Assert.True(histogram.Scale < ExponentialHistogram.MaxScale);
        Assert.InRange(histogram.Quantile(0.5)!.Value, 0.001, 0.001 * (1 + histogram.RelativeError));
        Assert.Equal(1_000_000, histogram.Quantile(1));
    }

    [Fact]
    public void TwoInstancesAtDifferentScalesMergeAtTheCoarserOneWithoutLosingCounts()
    {
        var a = LogNormal(7, 5_000, 2, 0.8);
        var b = LogNormal(8, 5_000, 2, 0.8);
        var fine = new ExponentialHistogram(5);
        a.ForEach(fine.Record);
        var coarse = new ExponentialHistogram(3);
        b.ForEach(coarse.Record);

        var merged = new ExponentialHistogram();
        merged.Merge(fine);
        merged.Merge(coarse);

        Assert.Equal(3, merged.Scale);
        Assert.Equal(10_000, merged.Count);
        long total = merged.ZeroCount;
        foreach (var c in merged.Counts)
        {
            total += c;
        }

        Assert.Equal(10_000, total);
        var all = a.Concat(b).ToList();
        var exact = Exact(all, 0.99);
        Assert.InRange(Math.Abs(merged.Quantile(0.99)!.Value - exact) / exact, 0, merged.RelativeError + 1e-9);
    }

    [Fact]
    public void AnOpenTelemetryPointIsAddedBucketForBucketAndDownscaledWhenFinerThanTheMaximum()
    {
        // Scale 6: buckets 2^(i/64). Indices 64..127 cover (2, 4]; at scale 5 they fold pairwise into 32..63.
        var counts = new long[64];
        counts[0] = 10;   // index 64 -> (2, 2^(65/64)] -> scale 5 index 32
        counts[63] = 5;   // index 127 -> scale 5 index 63
        var histogram = new ExponentialHistogram();
        histogram.Add(scale: 6, zeroCount: 2, offset: 64, counts, count: 17, sum: 50, min: 0, max: 4);

        Assert.Equal(5, histogram.Scale);
        Assert.Equal(17, histogram.Count);
        Assert.Equal(2, histogram.ZeroCount);
        Assert.Equal(32, histogram.Offset);
        Assert.Equal(10, histogram.Counts[0]);
        Assert.Equal(5, histogram.Counts[^1]);
        Assert.Equal(0, histogram.Quantile(0.1));
        Assert.InRange(histogram.Quantile(0.5)!.Value, 2, Math.Pow(2, 33.0 / 32));
    }

    [Fact]
    public void AnEmptyHistogramHasNoQuantile() =>
        Assert.Null(new ExponentialHistogram().Quantile(0.5));
}
