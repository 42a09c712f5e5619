using System.Numerics;

namespace NexusCore.PerfApi.Store;

/// <summary>
/// A compact log-linear histogram of durations in nanoseconds (the HdrHistogram layout, written small).
/// Values below 16 ns are counted exactly; above, every power-of-two range [2^e, 2^(e+1)) is split into
/// 16 equal sub-buckets, so a bucket is at most 1/16 of its lower bound wide. A percentile is reported as
/// the middle of the bucket holding it, which is within <see cref="RelativeError"/> (1/32 = 3.125 %) of
/// the true nearest-rank value, and never outside the exact min and max. Durations above 2^43 ns
/// (about 2.4 hours) are counted in the last bucket.
/// </summary>
/// <remarks>
/// Only the range of buckets actually used is allocated and it grows on demand, so a roll-up of a query
/// whose latencies span five octaves holds about 80 counters, not <see cref="BucketCount"/>. Not thread-safe:
/// the owning series serializes access.
/// </remarks>
public sealed class LatencyHistogram
{
    public const int SubBucketBits = 4;
    public const int MaxExponent = 42;
    private const int SubBucketCount = 1 << SubBucketBits;

    /// <summary>Upper bound of |reported - true| / true for any percentile.</summary>
    public const double RelativeError = 1.0 / (2 * SubBucketCount);

    /// <summary>Buckets needed to cover every duration up to 2^(MaxExponent + 1) ns.</summary>
    public const int BucketCount = (MaxExponent - SubBucketBits + 2) * SubBucketCount;

    public const long MaxTrackableNanos = (1L << (MaxExponent + 1)) - 1;

    private int[] _counts = [];
    private int _lowest;

    public long Count { get; private set; }

    public long MinNanos { get; private set; } = long.MaxValue;

    public long MaxNanos { get; private set; }

    public void Record(long nanos)
    {
        nanos = Math.Clamp(nanos, 0, MaxTrackableNanos);
        var index = IndexOf(nanos);
        var offset = index - _lowest;
        if ((uint)offset >= (uint)_counts.Length)
        {
            Cover(index);
            offset = index - _lowest;
        }

        _counts[offset]++;
        Count++;
        if (nanos < MinNanos)
        {
            MinNanos = nanos;
        }

        if (nanos > MaxNanos)
        {
            MaxNanos = nanos;
        }
    }

    /// <summary>Empties the histogram but keeps its counters allocated for the next roll-up.</summary>
    public void Clear()
    {
        Array.Clear(_counts);
        Count = 0;
        MinNanos = long.MaxValue;
        MaxNanos = 0;
    }

    /// <summary>Adds this histogram's counts to a dense accumulator.</summary>
    public void AddTo(HistogramAccumulator accumulator)
    {
        if (Count == 0)
        {
            return;
        }

        var dense = accumulator.Counts;
        for (var i = 0; i < _counts.Length; i++)
        {
            dense[_lowest + i] += _counts[i];
        }

        accumulator.Include(Count, MinNanos, MaxNanos);
    }

    public static int IndexOf(long nanos)
    {
        if (nanos < SubBucketCount)
        {
            return (int)nanos;
        }

        var exponent = 63 - BitOperations.LeadingZeroCount((ulong)nanos);
        var subBucket = (int)(nanos >> (exponent - SubBucketBits)) - SubBucketCount;
        return ((exponent - SubBucketBits + 1) << SubBucketBits) + subBucket;
    }

    /// <summary>The smallest duration counted in bucket <paramref name="index"/>.</summary>
    public static long LowerBoundOf(int index)
    {
        if (index < SubBucketCount)
        {
            return index;
        }

        var block = index >> SubBucketBits;
        var subBucket = index & (SubBucketCount - 1);
        return (long)(SubBucketCount + subBucket) << (block - 1);
    }

    /// <summary>The number of distinct durations bucket <paramref name="index"/> counts.</summary>
    public static long WidthOf(int index) => index < SubBucketCount ? 1 : 1L << ((index >> SubBucketBits) - 1);

    /// <summary>The value reported for a bucket: the middle of the durations it holds.</summary>
    public static double MidpointOf(int index) => LowerBoundOf(index) + (WidthOf(index) - 1) / 2.0;

    private void Cover(int index)
    {
        if (_counts.Length == 0)
        {
            // Start with a couple of octaves around the first value: most queries stay within them.
            _lowest = Math.Max(0, index - SubBucketCount);
            _counts = new int[Math.Min(3 * SubBucketCount, BucketCount - _lowest)];
            return;
        }

        var highest = _lowest + _counts.Length - 1;
        var newLowest = Math.Min(_lowest, index);
        var newHighest = Math.Max(highest, index);

        // Grow by at least half an octave in the direction of the miss so that drifting latencies do not copy each time.
        if (newLowest < _lowest)
        {
            newLowest = Math.Max(0, newLowest - SubBucketCount / 2);
        }

        if (newHighest > highest)
        {
            newHighest = Math.Min(BucketCount - 1, newHighest + SubBucketCount / 2);
        }

        var counts = new int[newHighest - newLowest + 1];
        Array.Copy(_counts, 0, counts, _lowest - newLowest, _counts.Length);
        _counts = counts;
        _lowest = newLowest;
    }
}

/// <summary>Merges several <see cref="LatencyHistogram"/>s (series, roll-ups) to read percentiles over them.</summary>
public sealed class HistogramAccumulator
{
    internal long[] Counts { get; } = new long[LatencyHistogram.BucketCount];

    public long Count { get; private set; }

    public long MinNanos { get; private set; } = long.MaxValue;

    public long MaxNanos { get; private set; }

    /// <summary>Empties the accumulator so that one can serve several reads.</summary>
    public void Clear()
    {
        Array.Clear(Counts);
        Count = 0;
        MinNanos = long.MaxValue;
        MaxNanos = 0;
    }

    internal void Include(long count, long min, long max)
    {
        Count += count;
        MinNanos = Math.Min(MinNanos, min);
        MaxNanos = Math.Max(MaxNanos, max);
    }

    /// <summary>
    /// The nearest-rank value at <paramref name="quantile"/> (0..1), within <see cref="LatencyHistogram.RelativeError"/>;
    /// null when nothing was recorded.
    /// </summary>
    public double? ValueAtQuantileNanos(double quantile)
    {
        if (Count == 0)
        {
            return null;
        }

        var rank = Math.Max(1, (long)Math.Ceiling(Math.Clamp(quantile, 0, 1) * Count));
        if (rank == 1 || rank >= Count)
        {
            // The extremes are known exactly.
            return rank >= Count ? MaxNanos : MinNanos;
        }

        long seen = 0;
        for (var i = 0; i < Counts.Length; i++)
        {
            seen += Counts[i];
            if (seen >= rank)
            {
                return Math.Clamp(LatencyHistogram.MidpointOf(i), MinNanos, MaxNanos);
            }
        }

        return MaxNanos;
    }
}
