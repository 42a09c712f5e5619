using System.Text;
using NexusCore.PerfApi.Ingest;
using NexusCore.PerfApi.Sql;

namespace NexusCore.PerfApi.Store;

/// <summary>
/// The query figures' one source: the <c>nexuscore.query.duration</c> exponential histogram, kept per
/// <see cref="RollupKey"/> and roll-up (<c>Telemetry:HistogramWidth</c>, one minute) as an
/// <see cref="ExponentialHistogram"/> of seconds with an error count, summed over every instance that reports.
/// </summary>
/// <remarks>
/// A point's stream is (service, <c>service.instance.id</c>, attribute set): delta points add as they are;
/// cumulative points are turned into deltas per stream, as <see cref="MetricStore"/> does for explicit
/// histograms (a new start time, or a count that went down, is a reset and counts whole; a retried export, same
/// or older time, is ignored; a stream that started before the store is a baseline at first sight). A point with
/// <c>error.type</c> counts its queries as errors too. At most <c>MaxQuerySeries</c> keys and four streams per key
/// on average; beyond that points are dropped and counted, and what has nothing left in the retention is swept.
/// Written by the aggregator thread, read from any thread: one lock, held briefly.
/// </remarks>
public sealed class QueryRollupStore : IQueryRollupSource, IQueryRollupReader
{
    /// <summary>Exemplars kept per key and roll-up: the slowest ones.</summary>
    public const int ExemplarsPerMinute = 3;

    public const string QueryTypeAttribute = "nexuscore.query.type";
    public const string TableAttribute = "db.collection.name";
    public const string OperationAttribute = "db.operation.name";
    public const string CacheHitAttribute = "nexuscore.cache.hit";
    public const string ErrorAttribute = "error.type";

    private readonly Lock _gate = new();
    private readonly Dictionary<RollupKey, Series> _series = [];
    private readonly Dictionary<StreamKey, Stream> _streams = [];
    private readonly BucketClock _clock;
    private readonly int _maxSeries;
    private readonly long _startedNanos;
    private readonly TimeProvider _time;
    private readonly TelemetryCounters _counters;

    internal QueryRollupStore(BucketClock clock, int maxSeries, long startedNanos, TimeProvider time, TelemetryCounters counters)
    {
        _clock = clock;
        _maxSeries = maxSeries;
        _startedNanos = startedNanos;
        _time = time;
        _counters = counters;
    }

    /// <summary>Width of one roll-up.</summary>
    public TimeSpan Width => TimeSpan.FromTicks(_clock.WidthNanos / 100);

    /// <summary>How far back roll-ups are held.</summary>
    public TimeSpan Retention => Width * _clock.Slots;

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _series.Count;
            }
        }
    }

    /// <summary>
    /// The start of the first roll-up of a window that ends with the current, partial one (not clamped to the
    /// retention: a history source may hold older roll-ups).
    /// </summary>
    public DateTimeOffset WindowStart(TimeSpan window)
    {
        var now = _clock.IndexOf(UnixTime.NanosOf(_time.GetUtcNow()));
        var rollups = Math.Max(1, (long)Math.Ceiling(window.Ticks * 100d / _clock.WidthNanos));
        return _clock.StartOf(now - rollups + 1);
    }

    public IReadOnlyList<MinuteRollup> Rollups(DateTimeOffset from, DateTimeOffset to)
    {
        var first = Ceiling(UnixTime.NanosOf(from));
        var end = Ceiling(UnixTime.NanosOf(to));
        var rollups = new List<MinuteRollup>();
        lock (_gate)
        {
            foreach (var series in _series.Values)
            {
                foreach (var slot in series.Slots)
                {
                    if (slot is not null && slot.Index >= first && slot.Index < end)
                    {
                        rollups.Add(new MinuteRollup(_clock.StartOf(slot.Index), series.Key, slot.Durations.Clone(), slot.Errors, [.. slot.Exemplars]));
                    }
                }
            }
        }

        return rollups;
    }

    public IReadOnlyList<MinuteRollup> Read(DateTimeOffset from, DateTimeOffset to) => Rollups(from, to);

    /// <summary>Adds one <c>nexuscore.query.duration</c> exponential histogram point; false when it was dropped.</summary>
    internal bool Record(MetricPoint point, long nowNanos)
    {
        var time = point.TimeUnixNanos <= 0 || point.TimeUnixNanos > nowNanos ? nowNanos : point.TimeUnixNanos;
        var index = _clock.IndexOf(time);
        if (index < _clock.OldestIndex(_clock.IndexOf(nowNanos)))
        {
            _counters.MetricPointsTooOld(1);
            return false;
        }

        var (key, failed) = KeyOf(point);
        var streamKey = new StreamKey(point.Service, point.Instance, AttributesKey(point.Attributes));
        var seconds = SecondsPer(point.Unit);
        var histogram = ToHistogram(point, seconds);
        lock (_gate)
        {
            if (!_series.TryGetValue(key, out var series))
            {
                if (_series.Count >= _maxSeries)
                {
                    _counters.MetricPointsOverSeriesLimit();
                    return false;
                }

                _series[key] = series = new Series(key, _clock.Slots);
            }

            ExponentialHistogram? delta;
            long previousTime = 0;
            if (point.Temporality == MetricTemporality.Delta)
            {
                delta = histogram;
            }
            else
            {
                if (!_streams.TryGetValue(streamKey, out var stream))
                {
                    if (_streams.Count >= 4 * _maxSeries)
                    {
                        _counters.MetricPointsOverSeriesLimit();
                        return false;
                    }

                    _streams[streamKey] = stream = new Stream();
                }

                previousTime = stream.Time;
                delta = stream.Advance(point, histogram, _startedNanos);
                stream.LastIndex = Math.Max(stream.LastIndex, index);
            }

            if (delta is { Count: > 0 })
            {
                var exemplars = point.Exemplars
                    .Where(e => e.TraceId is not null && e.TimeUnixNanos > previousTime)
                    .Select(e => new QueryExemplar(e.TraceId!, e.SpanId, e.Value * seconds, UnixTime.FromNanos(e.TimeUnixNanos <= 0 ? time : e.TimeUnixNanos)));
                series.Add(index, delta, failed ? delta.Count : 0, exemplars);
            }

            series.LastIndex = Math.Max(series.LastIndex, index);
        }

        return true;
    }

    /// <summary>Forgets keys and streams with nothing inside the retention, making room for new ones.</summary>
    internal void Sweep(long nowNanos)
    {
        var oldest = _clock.OldestIndex(_clock.IndexOf(nowNanos));
        lock (_gate)
        {
            foreach (var (key, series) in _series.Where(s => s.Value.LastIndex < oldest).ToList())
            {
                _series.Remove(key);
            }

            foreach (var (key, _) in _streams.Where(s => s.Value.LastIndex < oldest).ToList())
            {
                _streams.Remove(key);
            }
        }
    }

    /// <summary>The key a point feeds, and whether its queries failed (<c>error.type</c> set).</summary>
    internal static (RollupKey Key, bool Failed) KeyOf(MetricPoint point)
    {
        string? queryType = null, table = null, operation = null, error = null;
        bool? cacheHit = null;
        foreach (var (name, value) in point.Attributes)
        {
            switch (name)
            {
                case QueryTypeAttribute:
                    queryType = value;
                    break;
                case TableAttribute:
                    table = value;
                    break;
                case OperationAttribute:
                    operation = value;
                    break;
                case CacheHitAttribute:
                    cacheHit = bool.TryParse(value, out var hit) ? hit : null;
                    break;
                case ErrorAttribute:
                    error = value;
                    break;
            }
        }

        return (new RollupKey(point.Service, Known(table), Known(operation), Known(queryType), cacheHit), !string.IsNullOrEmpty(error));

        static string Known(string? value) => string.IsNullOrEmpty(value) ? QueryKey.Unknown : value;
    }

    /// <summary>Seconds per unit of the point's values: the instrument reports <c>s</c>; other time units are converted.</summary>
    private static double SecondsPer(string unit) => unit switch
    {
        "ms" => 1e-3,
        "us" or "µs" or "μs" => 1e-6,
        "ns" => 1e-9,
        "min" => 60,
        "h" => 3600,
        _ => 1,
    };

    /// <summary>
    /// The point as a histogram of seconds. In seconds already, its buckets are taken as they are (exact);
    /// in another unit each bucket moves to the one its geometric middle falls in (within half a bucket).
    /// </summary>
    private static ExponentialHistogram ToHistogram(MetricPoint point, double seconds)
    {
        var counts = point.BucketCounts as long[] ?? [.. point.BucketCounts];
        var histogram = new ExponentialHistogram(point.Scale);
        var min = point.Min is { } low ? low * seconds : double.NaN;
        var max = point.Max is { } high ? high * seconds : double.NaN;
        if (seconds == 1)
        {
            histogram.Add(point.Scale, point.ZeroCount, point.Offset, counts, point.Count, point.Sum, min, max);
            return histogram;
        }

        var scale = Math.Clamp(point.Scale, ExponentialHistogram.MinScale, ExponentialHistogram.MaxScale);
        var moved = new SortedDictionary<int, long>();
        for (var i = 0; i < counts.Length; i++)
        {
            if (counts[i] > 0)
            {
                var middle = Math.Pow(2, (point.Offset + i + 0.5) * Math.Pow(2, -point.Scale)) * seconds;
                var index = ExponentialHistogram.IndexOf(scale, middle);
                moved[index] = moved.GetValueOrDefault(index) + counts[i];
            }
        }

        var offset = moved.Count == 0 ? 0 : moved.Keys.First();
        var rebucketed = new long[moved.Count == 0 ? 0 : moved.Keys.Last() - offset + 1];
        foreach (var (index, count) in moved)
        {
            rebucketed[index - offset] = count;
        }

        histogram.Add(scale, point.ZeroCount, offset, rebucketed, point.Count, point.Sum * seconds, min, max);
        return histogram;
    }

    private long Ceiling(long nanos) => (long)Math.Ceiling(nanos / (double)_clock.WidthNanos);

    private static string AttributesKey(IReadOnlyList<KeyValuePair<string, string>> attributes)
    {
        var text = new StringBuilder();
        foreach (var (key, value) in attributes)
        {
            text.Append(key).Append('=').Append(value).Append('\u001f');
        }

        return text.ToString();
    }

    private readonly record struct StreamKey(string Service, string Instance, string Attributes);

    /// <summary>The last cumulative point of a stream, which the next one is subtracted from.</summary>
    private sealed class Stream
    {
        private ExponentialHistogram? _baseline;
        private long _start;

        public long Time { get; private set; }

        public long LastIndex { get; set; }

        /// <summary>The delta the point brings, or null when it brings nothing new (a baseline, a retry).</summary>
        public ExponentialHistogram? Advance(MetricPoint point, ExponentialHistogram histogram, long storeStartedNanos)
        {
            if (_baseline is null)
            {
                (_baseline, _start, Time) = (histogram, point.StartUnixNanos, point.TimeUnixNanos);

                // A stream that began after the store started has been watched from its first value: that value is new.
                return point.StartUnixNanos > 0 && point.StartUnixNanos >= storeStartedNanos ? histogram : null;
            }

            if (point.StartUnixNanos < _start || (point.StartUnixNanos == _start && point.TimeUnixNanos <= Time))
            {
                // A retry of an export already counted, or a point from before the last reset.
                return null;
            }

            var delta = point.StartUnixNanos == _start ? ExponentialHistogram.Difference(histogram, _baseline) : null;
            (_baseline, _start, Time) = (histogram, point.StartUnixNanos, point.TimeUnixNanos);
            return delta ?? histogram;
        }
    }

    private sealed class Series(RollupKey key, int slots)
    {
        public RollupKey Key { get; } = key;

        public Slot?[] Slots { get; } = new Slot?[slots];

        public long LastIndex { get; set; }

        public void Add(long index, ExponentialHistogram delta, long errors, IEnumerable<QueryExemplar> exemplars)
        {
            ref var slot = ref Slots[index % Slots.Length];
            if (slot is null || slot.Index < index)
            {
                slot = new Slot(index);
            }
            else if (slot.Index > index)
            {
                // The ring has moved past this roll-up: a point that old was already refused above, but stay safe.
                return;
            }

            slot.Durations.Merge(delta);
            slot.Errors += errors;
            foreach (var exemplar in exemplars)
            {
                if (slot.Exemplars.Any(e => e.TraceId == exemplar.TraceId))
                {
                    continue;
                }

                slot.Exemplars.Add(exemplar);
                if (slot.Exemplars.Count > ExemplarsPerMinute)
                {
                    slot.Exemplars.Remove(slot.Exemplars.MinBy(e => e.DurationSeconds)!);
                }
            }
        }
    }

    private sealed class Slot(long index)
    {
        public long Index { get; } = index;

        public ExponentialHistogram Durations { get; } = new();

        public long Errors { get; set; }

        public List<QueryExemplar> Exemplars { get; } = [];
    }
}
