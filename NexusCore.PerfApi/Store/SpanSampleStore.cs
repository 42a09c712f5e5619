using NexusCore.PerfApi.Analysis.Indexes;
using NexusCore.PerfApi.Ingest;
using NexusCore.PerfApi.Sql;
namespace NexusCore.PerfApi.Store;

/// <summary>One slow query span kept whole, with the ids to find its trace.</summary>
public sealed record SpanSample(
    QueryKey Key,
    string? Statement,
    double DurationMs,
    DateTimeOffset EndedAt,
    string? TraceId,
    string? SpanId,
    bool IsError);

/// <summary>
/// The most recent <c>MaxSpanSamples</c> query spans that took at least <c>SpanSampleThreshold</c>, in a ring.
/// Only slow spans reach it, so its one lock is rarely taken.
/// </summary>
public sealed class SpanSampleStore
{
    private readonly Lock _gate = new();
    private readonly Entry[] _ring;
    private readonly TimeProvider _time;
    private long _written;

    internal SpanSampleStore(int capacity, TimeSpan threshold, TimeProvider time)
    {
        _ring = new Entry[capacity];
        ThresholdNanos = threshold.Ticks * 100;
        _time = time;
    }

    public long ThresholdNanos { get; }

    /// <summary>Samples that ended within the window and took at least <paramref name="minDuration"/>, slowest first.</summary>
    public IReadOnlyList<SpanSample> Slowest(TimeSpan window, TimeSpan minDuration, int limit)
    {
        var since = UnixTime.NanosOf(_time.GetUtcNow() - window);
        var min = minDuration.Ticks * 100;
        var found = new List<Entry>();
        lock (_gate)
        {
            var count = (int)Math.Min(_written, _ring.Length);
            for (var i = 0; i < count; i++)
            {
                ref readonly var entry = ref _ring[i];
                if (entry.EndNanos >= since && entry.DurationNanos >= min)
                {
                    found.Add(entry);
                }
            }
        }

        found.Sort((a, b) => b.DurationNanos.CompareTo(a.DurationNanos));
        return found.Take(Math.Max(0, limit))
            .Select(e => new SpanSample(
                e.Key, e.Statement, Nanoseconds.ToMs(e.DurationNanos), UnixTime.FromNanos(e.EndNanos),
                TraceIds.Format(e.TraceId), TraceIds.Format(e.SpanId), e.IsError))
            .ToList();
    }

    internal void Offer(in QueryKey key, string? statement, in QuerySpan span, long endNanos)
    {
        var duration = span.DurationNanos;
        if (duration < ThresholdNanos)
        {
            return;
        }

        lock (_gate)
        {
            _ring[_written++ % _ring.Length] = new Entry(key, statement, duration, endNanos, span.TraceId, span.SpanId, span.IsError);
        }
    }

    private readonly record struct Entry(
        QueryKey Key, string? Statement, long DurationNanos, long EndNanos, UInt128 TraceId, ulong SpanId, bool IsError);
}
