using System.Collections.Concurrent;
using System.Text;
using NexusCore.PerfApi.Analysis.Indexes;
using NexusCore.PerfApi.Ingest;
using NexusCore.PerfApi.Sql;

namespace NexusCore.PerfApi.Store;

/// <summary>What one metric series is kept per: its service (and instance), name and attribute set.</summary>
public readonly record struct MetricSeriesKey(string Service, string Instance, string Name, string Attributes);

/// <summary>Selects series of a metric: by service, and by attributes that must all be equal.</summary>
public sealed record MetricFilter(string? Service = null, IReadOnlyDictionary<string, string>? Attributes = null)
{
    public static readonly MetricFilter All = new();

    internal bool Matches(string service, IReadOnlyDictionary<string, string> attributes)
    {
        if (Service is not null && !string.Equals(Service, service, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        if (Attributes is not null)
        {
            foreach (var (key, value) in Attributes)
            {
                if (!attributes.TryGetValue(key, out var actual) || !string.Equals(actual, value, StringComparison.Ordinal))
                {
                    return false;
                }
            }
        }

        return true;
    }
}

/// <summary>
/// One series: its identity, its latest state and, when asked, its buckets in a window. Time units
/// (s, ms, us, ns, min, h) are converted to milliseconds and <see cref="Unit"/> is then <c>ms</c>.
/// </summary>
/// <param name="LastValue">Gauge: the last value. Non-monotonic sum: the current level. Monotonic sum: the last value the sender reported.</param>
/// <param name="Total">Monotonic sum: the sum of the deltas since PerfApi first saw the series. Histogram: the count of those deltas.</param>
/// <param name="TotalSum">Histogram: the sum of the deltas' sums.</param>
public sealed record MetricSeriesSnapshot(
    string Service,
    string Instance,
    string Name,
    string Unit,
    MetricKind Kind,
    bool IsMonotonic,
    MetricTemporality Temporality,
    IReadOnlyDictionary<string, string> Attributes,
    double LastValue,
    double Total,
    double TotalSum,
    DateTimeOffset LastSeen,
    IReadOnlyList<MetricBucketSnapshot> Buckets);

/// <summary>
/// One time bucket of a series. Gauges and non-monotonic sums: <see cref="Last"/>, <see cref="Min"/>,
/// <see cref="Max"/> of the values seen. Monotonic sums: <see cref="Delta"/>. Histograms: <see cref="Count"/>
/// and <see cref="Sum"/> of the deltas.
/// </summary>
public sealed record MetricBucketSnapshot(DateTimeOffset Start, double? Last, double? Min, double? Max, double Delta, long Count, double Sum);

/// <summary>Explicit-bucket histogram deltas merged over a window; bucket i counts values in (Bounds[i-1], Bounds[i]].</summary>
public sealed record MetricHistogramSnapshot(string Name, string Unit, long Count, double Sum, IReadOnlyList<double> Bounds, IReadOnlyList<long> BucketCounts)
{
    public double? Mean => Count == 0 ? null : Sum / Count;

    /// <summary>
    /// The value at <paramref name="quantile"/> (0..1), interpolated linearly inside its bucket as Prometheus
    /// does; the error is at most the width of that bucket. Null when empty or without buckets.
    /// </summary>
    public double? Quantile(double quantile)
    {
        var total = BucketCounts.Sum();
        if (total == 0 || BucketCounts.Count != Bounds.Count + 1)
        {
            return null;
        }

        var rank = Math.Clamp(quantile, 0, 1) * total;
        long seen = 0;
        for (var i = 0; i < BucketCounts.Count; i++)
        {
            if (BucketCounts[i] == 0 || seen + BucketCounts[i] < rank)
            {
                seen += BucketCounts[i];
                continue;
            }

            if (i == Bounds.Count)
            {
                // The overflow bucket has no upper bound: its lower bound is the best honest answer.
                return Bounds.Count == 0 ? null : Bounds[^1];
            }

            var lower = i == 0 ? Math.Min(0, Bounds[0]) : Bounds[i - 1];
            var upper = Bounds[i];
            return lower + ((upper - lower) * (rank - seen) / BucketCounts[i]);
        }

        return Bounds.Count == 0 ? null : Bounds[^1];
    }
}

/// <summary>
/// Metric series keyed by service, instance, name and attributes (at most <c>MaxMetricSeries</c>), each with
/// its latest state and a ring of <c>Retention / BucketWidth</c> buckets. Cumulative sums and histograms are
/// turned into deltas per series: a new start time, or a value that went down, is a reset and counts whole.
/// </summary>
public sealed class MetricStore
{
    private readonly ConcurrentDictionary<MetricSeriesKey, MetricSeries> _series = new();
    private readonly BucketClock _clock;
    private readonly ServiceQuota<MetricSeriesKey> _quota;
    private readonly TimeProvider _time;
    private readonly TelemetryCounters _counters;
    private int _count;

    internal MetricStore(BucketClock clock, int maxSeries, int maxPerService, long startedNanos, TimeProvider time, TelemetryCounters counters)
    {
        _clock = clock;
        _quota = new ServiceQuota<MetricSeriesKey>(maxSeries, maxPerService, key => _series.TryGetValue(key, out var series) ? series.LastIndex : long.MinValue);
        StartedNanos = startedNanos;
        _time = time;
        _counters = counters;
    }

    public int Count => Volatile.Read(ref _count);

    /// <summary>
    /// When the store started. A cumulative series first seen with an older start time is taken as a baseline
    /// (its value so far happened before PerfApi watched); one that started later counts whole.
    /// </summary>
    internal long StartedNanos { get; }

    public IReadOnlyList<string> Names() => _series.Keys.Select(k => k.Name).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

    /// <summary>The series of a metric, with their buckets over <paramref name="window"/> when one is given.</summary>
    public IReadOnlyList<MetricSeriesSnapshot> Series(string name, TimeSpan? window = null, MetricFilter? filter = null)
    {
        var (from, to) = window is { } span ? Window(span) : (0, -1);
        return _series.Values
            .Where(series => series.Key.Name == name && (filter ?? MetricFilter.All).Matches(series.Key.Service, series.Attributes))
            .OrderBy(series => series.Key.Service, StringComparer.Ordinal)
            .ThenBy(series => series.Key.Instance, StringComparer.Ordinal)
            .ThenBy(series => series.Key.Attributes, StringComparer.Ordinal)
            .Select(series => series.Snapshot(from, to, _clock))
            .ToList();
    }

    /// <summary>The deltas of a monotonic sum (or histogram counts) added up over the window across matching series.</summary>
    public double Increase(string name, TimeSpan window, MetricFilter? filter = null) =>
        Series(name, window, filter).Sum(s => s.Kind == MetricKind.Sum ? s.Buckets.Sum(b => b.Delta) : s.Buckets.Sum(b => b.Count));

    /// <summary>Histogram deltas of the matching series merged over the window; series whose bounds differ from the first are skipped.</summary>
    public MetricHistogramSnapshot? Histogram(string name, TimeSpan window, MetricFilter? filter = null)
    {
        var (from, to) = Window(window);
        MetricHistogramSnapshot? merged = null;
        long[]? counts = null;
        foreach (var series in _series.Values)
        {
            if (series.Key.Name != name || series.Kind is not (MetricKind.Histogram or MetricKind.ExponentialHistogram)
                || !(filter ?? MetricFilter.All).Matches(series.Key.Service, series.Attributes))
            {
                continue;
            }

            var part = series.Histogram(from, to);
            if (merged is null)
            {
                merged = part;
                counts = [.. part.BucketCounts];
            }
            else if (part.Bounds.SequenceEqual(merged.Bounds))
            {
                for (var i = 0; i < counts!.Length; i++)
                {
                    counts[i] += part.BucketCounts[i];
                }

                merged = merged with { Count = merged.Count + part.Count, Sum = merged.Sum + part.Sum };
            }
        }

        return merged is null ? null : merged with { BucketCounts = counts! };
    }

    internal bool Record(MetricPoint point, long nowNanos)
    {
        var time = point.TimeUnixNanos <= 0 || point.TimeUnixNanos > nowNanos ? nowNanos : point.TimeUnixNanos;
        var index = _clock.IndexOf(time);
        if (index < _clock.OldestIndex(_clock.IndexOf(nowNanos)))
        {
            _counters.MetricPointsTooOld(1);
            return false;
        }

        var key = new MetricSeriesKey(point.Service, point.Instance, point.Name, AttributesKey(point.Attributes));
        if (!_series.TryGetValue(key, out var series))
        {
            series = Add(key, point);
            if (series is null)
            {
                return false;
            }
        }

        series.Record(point, time, index, StartedNanos);
        return true;
    }

    internal int Sweep(long oldestBucket)
    {
        var removed = 0;
        foreach (var (key, series) in _series)
        {
            if (series.LastIndex < oldestBucket && _series.TryRemove(new KeyValuePair<MetricSeriesKey, MetricSeries>(key, series)))
            {
                _quota.Forget(key.Service, key);
                Interlocked.Decrement(ref _count);
                removed++;
            }
        }

        return removed;
    }

    private MetricSeries? Add(MetricSeriesKey key, MetricPoint point)
    {
        if (_quota.Admit(key.Service, key, out var victim) && _series.TryRemove(victim, out _))
        {
            Interlocked.Decrement(ref _count);
            _counters.MetricSeriesEvicted();
        }

        Interlocked.Increment(ref _count);

        var created = new MetricSeries(key, point, _clock.Slots);
        if (_series.TryAdd(key, created))
        {
            return created;
        }

        Interlocked.Decrement(ref _count);
        return _series[key];
    }

    private (long From, long To) Window(TimeSpan window)
    {
        var to = _clock.IndexOf(UnixTime.NanosOf(_time.GetUtcNow()));
        return (_clock.FirstIndex(to, window), to);
    }

    private static string AttributesKey(IReadOnlyList<KeyValuePair<string, string>> attributes)
    {
        if (attributes.Count == 0)
        {
            return "";
        }

        var text = new StringBuilder();
        foreach (var (key, value) in attributes)
        {
            text.Append(key).Append('=').Append(value).Append('\u001f');
        }

        return text.ToString();
    }
}

internal sealed class MetricSeries
{
    private readonly Lock _gate = new();
    private readonly Slot[] _slots;
    private readonly double _scale;
    private double _lastValue;
    private long _lastTimeNanos;
    private double _total;
    private double _totalSum;
    private long _lastIndex;
    private double[] _bounds = [];

    // The previous cumulative point, which the next one is subtracted from.
    private bool _hasBaseline;
    private long _baselineStart;
    private long _baselineTime;
    private double _baselineValue;
    private long _baselineCount;
    private double _baselineSum;
    private long[] _baselineBuckets = [];

    public MetricSeries(MetricSeriesKey key, MetricPoint first, int slots)
    {
        Key = key;
        Kind = first.Kind;
        IsMonotonic = first.IsMonotonic;
        Temporality = first.Temporality;
        (Unit, _scale) = MetricUnits.Normalize(first.Unit);
        Attributes = first.Attributes.ToDictionary(a => a.Key, a => a.Value, StringComparer.Ordinal);
        _slots = new Slot[slots];
    }

    public MetricSeriesKey Key { get; }

    public MetricKind Kind { get; }

    public bool IsMonotonic { get; }

    public MetricTemporality Temporality { get; }

    public string Unit { get; }

    public IReadOnlyDictionary<string, string> Attributes { get; }

    public long LastIndex => Volatile.Read(ref _lastIndex);

    public void Record(MetricPoint point, long timeNanos, long index, long storeStartedNanos)
    {
        lock (_gate)
        {
            ref var slot = ref _slots[index % _slots.Length];
            if (slot.Index != index)
            {
                if (slot.Index > index)
                {
                    return;
                }

                slot = new Slot { Index = index, Buckets = slot.Buckets };
                if (slot.Buckets is not null)
                {
                    Array.Clear(slot.Buckets);
                }
            }

            switch (Kind)
            {
                case MetricKind.Sum when IsMonotonic:
                    RecordMonotonicSum(ref slot, point, storeStartedNanos);
                    break;
                case MetricKind.Sum:
                    // An up-down counter is a level: cumulative points are the level, delta points move it.
                    RecordLevel(ref slot, point.Temporality == MetricTemporality.Delta ? _lastValue + (point.Value * _scale) : point.Value * _scale);
                    break;
                case MetricKind.Gauge:
                    RecordLevel(ref slot, point.Value * _scale);
                    break;
                default:
                    RecordHistogram(ref slot, point, storeStartedNanos);
                    break;
            }

            _lastTimeNanos = Math.Max(_lastTimeNanos, timeNanos);
            if (index > _lastIndex)
            {
                Volatile.Write(ref _lastIndex, index);
            }
        }
    }

    public MetricSeriesSnapshot Snapshot(long from, long to, BucketClock clock)
    {
        lock (_gate)
        {
            var buckets = new List<MetricBucketSnapshot>();
            for (var index = from; index <= to; index++)
            {
                ref readonly var slot = ref _slots[index % _slots.Length];
                buckets.Add(slot.Index == index && slot.Touched
                    ? new MetricBucketSnapshot(clock.StartOf(index), slot.Samples > 0 ? slot.Last : null, slot.Samples > 0 ? slot.Min : null,
                        slot.Samples > 0 ? slot.Max : null, slot.Delta, slot.Count, slot.Sum)
                    : new MetricBucketSnapshot(clock.StartOf(index), null, null, null, 0, 0, 0));
            }

            return new MetricSeriesSnapshot(
                Key.Service, Key.Instance, Key.Name, Unit, Kind, IsMonotonic, Temporality, Attributes,
                _lastValue, _total, _totalSum, UnixTime.FromNanos(_lastTimeNanos), buckets);
        }
    }

    public MetricHistogramSnapshot Histogram(long from, long to)
    {
        lock (_gate)
        {
            var counts = new long[_bounds.Length + 1];
            long count = 0;
            double sum = 0;
            foreach (ref readonly var slot in _slots.AsSpan())
            {
                if (slot.Index < from || slot.Index > to || !slot.Touched)
                {
                    continue;
                }

                count += slot.Count;
                sum += slot.Sum;
                if (slot.Buckets is { } buckets && buckets.Length == counts.Length)
                {
                    for (var i = 0; i < counts.Length; i++)
                    {
                        counts[i] += buckets[i];
                    }
                }
            }

            return new MetricHistogramSnapshot(Key.Name, Unit, count, sum, _bounds.ToArray(), counts);
        }
    }

    private void RecordLevel(ref Slot slot, double value)
    {
        slot.Touched = true;
        slot.Min = slot.Samples == 0 ? value : Math.Min(slot.Min, value);
        slot.Max = slot.Samples == 0 ? value : Math.Max(slot.Max, value);
        slot.Last = value;
        slot.Samples++;
        _lastValue = value;
    }

    private void RecordMonotonicSum(ref Slot slot, MetricPoint point, long storeStartedNanos)
    {
        var value = point.Value * _scale;
        double delta;
        if (point.Temporality == MetricTemporality.Delta)
        {
            delta = value;
            _lastValue = value;
        }
        else
        {
            switch (Compare(point, storeStartedNanos, value < _baselineValue))
            {
                case Baseline.Stale:
                    return;
                case Baseline.Reset:
                    delta = value;
                    break;
                case Baseline.First:
                    delta = 0;
                    break;
                default:
                    delta = value - _baselineValue;
                    break;
            }

            _baselineValue = value;
            _lastValue = value;
        }

        slot.Touched = true;
        slot.Delta += delta;
        _total += delta;
    }

    private void RecordHistogram(ref Slot slot, MetricPoint point, long storeStartedNanos)
    {
        var bounds = point.Bounds;
        var boundsChanged = bounds.Count != _bounds.Length;
        for (var i = 0; !boundsChanged && i < bounds.Count; i++)
        {
            boundsChanged = bounds[i] * _scale != _bounds[i];
        }

        if (boundsChanged)
        {
            // New bounds make the old buckets incomparable: keep counts and sums, restart the bucket counts.
            _bounds = bounds.Select(b => b * _scale).ToArray();
            foreach (ref var old in _slots.AsSpan())
            {
                old.Buckets = null;
            }
        }

        var buckets = point.BucketCounts;
        var hasBuckets = buckets.Count == _bounds.Length + 1 && Kind == MetricKind.Histogram;
        var sum = point.Sum * _scale;
        long deltaCount;
        double deltaSum;
        var deltaBuckets = hasBuckets ? new long[buckets.Count] : null;
        if (point.Temporality == MetricTemporality.Delta)
        {
            deltaCount = point.Count;
            deltaSum = sum;
            for (var i = 0; deltaBuckets is not null && i < deltaBuckets.Length; i++)
            {
                deltaBuckets[i] = buckets[i];
            }
        }
        else
        {
            var wentDown = point.Count < _baselineCount || boundsChanged || (hasBuckets && _baselineBuckets.Length != buckets.Count);
            for (var i = 0; !wentDown && hasBuckets && i < buckets.Count; i++)
            {
                wentDown = buckets[i] < _baselineBuckets[i];
            }

            var state = Compare(point, storeStartedNanos, wentDown);
            if (state == Baseline.Stale)
            {
                return;
            }

            var whole = state == Baseline.Reset;
            var first = state == Baseline.First;
            deltaCount = first ? 0 : whole ? point.Count : point.Count - _baselineCount;
            deltaSum = first ? 0 : whole ? sum : sum - _baselineSum;
            for (var i = 0; deltaBuckets is not null && i < deltaBuckets.Length; i++)
            {
                deltaBuckets[i] = first ? 0 : whole ? buckets[i] : buckets[i] - _baselineBuckets[i];
            }

            _baselineCount = point.Count;
            _baselineSum = sum;
            _baselineBuckets = hasBuckets ? [.. buckets] : [];
        }

        slot.Touched = true;
        slot.Count += deltaCount;
        slot.Sum += deltaSum;
        if (deltaBuckets is not null)
        {
            slot.Buckets ??= new long[deltaBuckets.Length];
            if (slot.Buckets.Length != deltaBuckets.Length)
            {
                slot.Buckets = new long[deltaBuckets.Length];
            }

            for (var i = 0; i < deltaBuckets.Length; i++)
            {
                slot.Buckets[i] += deltaBuckets[i];
            }
        }

        _total += deltaCount;
        _totalSum += deltaSum;
    }

    /// <summary>How a cumulative point relates to the previous one of this series, and records it as the new baseline.</summary>
    private Baseline Compare(MetricPoint point, long storeStartedNanos, bool wentDown)
    {
        if (!_hasBaseline)
        {
            _hasBaseline = true;
            _baselineStart = point.StartUnixNanos;
            _baselineTime = point.TimeUnixNanos;

            // A series that began after PerfApi started has been watched from its first value: that value is new.
            return point.StartUnixNanos > 0 && point.StartUnixNanos >= storeStartedNanos ? Baseline.Reset : Baseline.First;
        }

        if (point.StartUnixNanos < _baselineStart || (point.StartUnixNanos == _baselineStart && point.TimeUnixNanos <= _baselineTime))
        {
            // A retry of an export already counted, or a point from before the last reset.
            return Baseline.Stale;
        }

        var reset = point.StartUnixNanos != _baselineStart || wentDown;
        _baselineStart = point.StartUnixNanos;
        _baselineTime = point.TimeUnixNanos;
        return reset ? Baseline.Reset : Baseline.Continues;
    }

    private enum Baseline
    {
        First,
        Continues,
        Reset,
        Stale,
    }

    private struct Slot
    {
        public long Index;
        public bool Touched;
        public int Samples;
        public double Last;
        public double Min;
        public double Max;
        public double Delta;
        public long Count;
        public double Sum;
        public long[]? Buckets;
    }
}

/// <summary>Converts time units to milliseconds so that s- and ms-reporting senders compare directly.</summary>
public static class MetricUnits
{
    public const string Milliseconds = "ms";

    public static (string Unit, double Scale) Normalize(string unit) => unit switch
    {
        "s" => (Milliseconds, 1_000d),
        "ms" => (Milliseconds, 1d),
        "us" or "µs" or "μs" => (Milliseconds, 0.001),
        "ns" => (Milliseconds, 0.000_001),
        "min" => (Milliseconds, 60_000d),
        "h" => (Milliseconds, 3_600_000d),
        _ => (unit, 1d),
    };
}
