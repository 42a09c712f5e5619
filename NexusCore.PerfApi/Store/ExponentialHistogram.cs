namespace NexusCore.PerfApi.Store;

/// <summary>
/// A base-2 exponential histogram as OpenTelemetry defines it: at scale <c>s</c> the base is
/// <c>2^(2^-s)</c> and bucket <c>i</c> holds the values in <c>(base^i, base^(i+1)]</c>. Positive values
/// only (durations); zero and negative values are counted in <see cref="ZeroCount"/>.
/// </summary>
/// <remarks>
/// Two histograms of different scales merge at the smaller one (every bucket at scale <c>s</c> is exactly
/// two at <c>s+1</c>), so instances and minutes add up without loss beyond the coarsest sender. A histogram
/// never holds more than <see cref="MaxBuckets"/> buckets: a wider range lowers the scale. A quantile is the
/// geometric middle of the bucket holding its nearest rank, clamped to the exact min and max, so it is within
/// <c>sqrt(base) - 1</c> of the true value: 2.2 % at scale 4, 4.4 % at scale 3 (<see cref="RelativeError"/>).
/// Values are in the sender's unit; <see cref="Quantile"/> answers in that unit. Not thread-safe.
/// </remarks>
public sealed class ExponentialHistogram
{
    /// <summary>The largest scale kept: 2^(1/32) wide buckets, finer than any quantile needs.</summary>
    public const int MaxScale = 5;

    /// <summary>The smallest scale: base 2^16; a histogram that would need less is clamped.</summary>
    public const int MinScale = -4;

    /// <summary>Most buckets one histogram holds (OpenTelemetry .NET's default maximum size is 160).</summary>
    public const int MaxBuckets = 320;

    private long[] _counts = [];

    public ExponentialHistogram(int scale = MaxScale)
    {
        Scale = Math.Clamp(scale, MinScale, MaxScale);
    }

    public int Scale { get; private set; }

    /// <summary>Index of the first bucket in <see cref="Counts"/>.</summary>
    public int Offset { get; private set; }

    public long ZeroCount { get; private set; }

    public long Count { get; private set; }

    public double Sum { get; private set; }

    public double Min { get; private set; } = double.PositiveInfinity;

    public double Max { get; private set; } = double.NegativeInfinity;

    /// <summary>Bucket counts from <see cref="Offset"/> on.</summary>
    public ReadOnlySpan<long> Counts => _counts;

    /// <summary><c>sqrt(base) - 1</c>: the largest relative error of a quantile at the current scale.</summary>
    public double RelativeError => Math.Pow(2, Math.Pow(2, -Scale) / 2) - 1;

    /// <summary>Lower bound of bucket <paramref name="index"/> at <paramref name="scale"/>.</summary>
    public static double LowerBound(int scale, int index) => Math.Pow(2, index * Math.Pow(2, -scale));

    /// <summary>The bucket index of a positive value at <paramref name="scale"/>.</summary>
    public static int IndexOf(int scale, double value)
    {
        // (base^i, base^(i+1)]: ceil(log_base(value)) - 1, exact on powers of two.
        var log = Math.Log2(value) * Math.Pow(2, scale);
        var index = (int)Math.Ceiling(log) - 1;
        return index;
    }

    /// <summary>Records one value (a test and calibration convenience; ingest adds whole histograms).</summary>
    public void Record(double value)
    {
        if (!double.IsFinite(value))
        {
            return;
        }

        Span<long> one = [1];
        if (value <= 0)
        {
            Add(Scale, 1, 0, [], 1, Math.Max(value, 0), Math.Max(value, 0), Math.Max(value, 0));
            return;
        }

        Add(Scale, 0, IndexOf(Scale, value), one, 1, value, value, value);
    }

    /// <summary>
    /// Adds an OpenTelemetry exponential histogram point (or a delta of one): its scale, zero count, positive
    /// buckets and summary. Count is taken as given when it is at least the buckets' total, else the total.
    /// </summary>
    public void Add(int scale, long zeroCount, int offset, ReadOnlySpan<long> counts, long count, double sum, double min, double max)
    {
        long total = Math.Max(zeroCount, 0);
        var first = -1;
        var last = -1;
        for (var i = 0; i < counts.Length; i++)
        {
            if (counts[i] > 0)
            {
                total += counts[i];
                if (first < 0)
                {
                    first = i;
                }

                last = i;
            }
        }

        if (total == 0 && count <= 0)
        {
            return;
        }

        if (first >= 0)
        {
            // Bring both to a common scale no finer than MaxScale, then lower it until the union fits.
            var target = Math.Min(Math.Min(scale, MaxScale), _counts.Length == 0 ? MaxScale : Scale);
            target = Math.Max(target, MinScale);
            var lo = Shift((long)offset + first, scale - target);
            var hi = Shift((long)offset + last, scale - target);
            if (_counts.Length > 0)
            {
                lo = Math.Min(lo, Shift(Offset, Scale - target));
                hi = Math.Max(hi, Shift((long)Offset + _counts.Length - 1, Scale - target));
            }

            while (hi - lo + 1 > MaxBuckets && target > MinScale)
            {
                target--;
                lo >>= 1;
                hi >>= 1;
            }

            Rescale(target);
            Cover((int)Math.Clamp(lo, int.MinValue, int.MaxValue), (int)Math.Clamp(hi, int.MinValue, int.MaxValue));
            var shift = scale - Scale;
            for (var i = first; i <= last; i++)
            {
                if (counts[i] > 0)
                {
                    var index = (int)Math.Clamp(Shift((long)offset + i, shift), Offset, Offset + _counts.Length - 1);
                    _counts[index - Offset] += counts[i];
                }
            }
        }

        ZeroCount += Math.Max(zeroCount, 0);
        Count += Math.Max(count, total);
        if (double.IsFinite(sum))
        {
            Sum += sum;
        }

        if (double.IsFinite(min) && min < Min)
        {
            Min = min;
        }

        if (double.IsFinite(max) && max > Max)
        {
            Max = max;
        }
    }

    /// <summary>Adds another histogram (another instance, another minute).</summary>
    public void Merge(ExponentialHistogram other) =>
        other.AddTo(this);

    private void AddTo(ExponentialHistogram target) =>
        target.Add(Scale, ZeroCount, Offset, _counts, Count, Sum, Min, Max);

    /// <summary>
    /// The nearest-rank quantile (0..1): the geometric middle of the bucket holding rank <c>ceil(q·n)</c>,
    /// clamped to [min, max]; q = 0 and q = 1 are the exact min and max. Null when empty.
    /// </summary>
    public double? Quantile(double q)
    {
        var n = ZeroCount;
        foreach (var c in _counts)
        {
            n += c;
        }

        if (n == 0)
        {
            return null;
        }

        if (q <= 0 && double.IsFinite(Min))
        {
            return Min;
        }

        if (q >= 1 && double.IsFinite(Max))
        {
            return Max;
        }

        var rank = Math.Max(1, (long)Math.Ceiling(Math.Clamp(q, 0, 1) * n));
        if (rank <= ZeroCount)
        {
            return double.IsFinite(Min) ? Math.Min(Math.Max(Min, 0), 0) : 0;
        }

        var seen = ZeroCount;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                var middle = Math.Pow(2, (Offset + i + 0.5) * Math.Pow(2, -Scale));
                if (double.IsFinite(Min))
                {
                    middle = Math.Max(middle, Min);
                }

                if (double.IsFinite(Max))
                {
                    middle = Math.Min(middle, Max);
                }

                return middle;
            }
        }

        return double.IsFinite(Max) ? Max : null;
    }

    /// <summary>
    /// What <paramref name="current"/> holds beyond <paramref name="previous"/> (two cumulative points of one
    /// stream), at the coarser of their scales; null when any count went down, which only a reset does. The
    /// difference's min and max are exact when the cumulative ones moved (the new extreme happened in between),
    /// otherwise the bounds of its outermost buckets, kept within the cumulative extremes.
    /// </summary>
    public static ExponentialHistogram? Difference(ExponentialHistogram current, ExponentialHistogram previous)
    {
        if (current.Count < previous.Count || current.ZeroCount < previous.ZeroCount)
        {
            return null;
        }

        var scale = Math.Min(current.Scale, previous.Scale);
        var now = current.Clone();
        now.Rescale(scale);
        var before = previous.Clone();
        before.Rescale(scale);
        if (before._counts.Length > 0 && (now._counts.Length == 0 || before.Offset < now.Offset
            || before.Offset + before._counts.Length > now.Offset + now._counts.Length))
        {
            return null;
        }

        var counts = (long[])now._counts.Clone();
        for (var i = 0; i < before._counts.Length; i++)
        {
            var at = before.Offset - now.Offset + i;
            counts[at] -= before._counts[i];
            if (counts[at] < 0)
            {
                return null;
            }
        }

        var first = Array.FindIndex(counts, c => c > 0);
        var last = Array.FindLastIndex(counts, c => c > 0);
        var zero = current.ZeroCount - previous.ZeroCount;
        double min, max;
        if (first < 0)
        {
            (min, max) = zero > 0 ? (0, 0) : (double.NaN, double.NaN);
        }
        else
        {
            min = current.Min < previous.Min || !double.IsFinite(previous.Min)
                ? current.Min
                : zero > 0 ? 0 : Math.Max(LowerBound(scale, now.Offset + first), current.Min);
            max = current.Max > previous.Max || !double.IsFinite(previous.Max)
                ? current.Max
                : Math.Min(LowerBound(scale, now.Offset + last + 1), current.Max);
        }

        var difference = new ExponentialHistogram(scale);
        difference.Add(scale, zero, now.Offset, counts, current.Count - previous.Count, current.Sum - previous.Sum, min, max);
        return difference;
    }

    /// <summary>A copy (for readers that merge without touching the store's own histograms).</summary>
    public ExponentialHistogram Clone()
    {
        var copy = new ExponentialHistogram(Scale);
        copy.Merge(this);
        return copy;
    }

    private static long Shift(long index, int by) => by >= 0 ? index >> by : index << -by;

    private void Rescale(int scale)
    {
        if (_counts.Length == 0)
        {
            Scale = scale;
            return;
        }

        if (scale >= Scale)
        {
            return;
        }

        var by = Scale - scale;
        var newOffset = (int)(Offset >> by);
        var newLast = (int)(((long)Offset + _counts.Length - 1) >> by);
        var next = new long[newLast - newOffset + 1];
        for (var i = 0; i < _counts.Length; i++)
        {
            next[(int)(((long)Offset + i) >> by) - newOffset] += _counts[i];
        }

        _counts = next;
        Offset = newOffset;
        Scale = scale;
    }

    private void Cover(int lo, int hi)
    {
        if (_counts.Length == 0)
        {
            _counts = new long[hi - lo + 1];
            Offset = lo;
            return;
        }

        var newLo = Math.Min(lo, Offset);
        var newHi = Math.Max(hi, Offset + _counts.Length - 1);
        if (newLo == Offset && newHi == Offset + _counts.Length - 1)
        {
            return;
        }

        var next = new long[newHi - newLo + 1];
        _counts.CopyTo(next, Offset - newLo);
        _counts = next;
        Offset = newLo;
    }
}
