using System.Collections.Concurrent;
using NexusCore.PerfApi.Analysis.Indexes;
using NexusCore.PerfApi.Ingest;
using NexusCore.PerfApi.Sql;

namespace NexusCore.PerfApi.Store;

/// <summary>One normalized SQL statement as a service ran it.</summary>
public readonly record struct StatementKey(string Service, string Statement);

/// <summary>Which statements to list: those run in the window, optionally only the slow ones.</summary>
/// <param name="MinMean">Keep statements whose mean duration in the window is at least this.</param>
/// <param name="MinMax">Keep statements whose slowest run in the window took at least this.</param>
public sealed record StatementQuery(
    TimeSpan Window, TimeSpan? MinMean = null, TimeSpan? MinMax = null, string? Service = null, int Limit = 50);

/// <summary>
/// A statement's statistics: all-time since PerfApi first saw it, and over the asked window, with the trace
/// of the slowest run in that window so an operator can open it.
/// </summary>
public sealed record StatementStats(
    string Service,
    string Statement,
    string? Verb,
    string? Table,
    long Count,
    double MeanMs,
    double MaxMs,
    DateTimeOffset FirstSeen,
    DateTimeOffset LastSeen,
    long WindowCount,
    double WindowMeanMs,
    double WindowMaxMs,
    string? SlowestTraceId,
    string? SlowestSpanId,
    DateTimeOffset? SlowestAt);

/// <summary>
/// Per normalized SQL statement: totals, plus a ring of <c>Retention / HistogramWidth</c> roll-ups that each
/// remember their slowest run's trace. At most <c>MaxStatements</c> statements.
/// </summary>
public sealed class StatementStore
{
    private readonly ConcurrentDictionary<StatementKey, StatementEntry> _entries = new();
    private readonly BucketClock _clock;
    private readonly int _maxStatements;
    private readonly TimeProvider _time;
    private readonly TelemetryCounters _counters;
    private int _count;

    internal StatementStore(BucketClock clock, int maxStatements, TimeProvider time, TelemetryCounters counters)
    {
        _clock = clock;
        _maxStatements = maxStatements;
        _time = time;
        _counters = counters;
    }

    public int Count => Volatile.Read(ref _count);

    /// <summary>Statements run in the window that pass the thresholds, slowest mean first.</summary>
    public IReadOnlyList<StatementStats> List(StatementQuery query)
    {
        var now = _clock.IndexOf(UnixTime.NanosOf(_time.GetUtcNow()));
        var from = _clock.FirstIndex(now, query.Window);
        var result = new List<StatementStats>();
        foreach (var entry in _entries.Values)
        {
            if (query.Service is not null && !string.Equals(query.Service, entry.Key.Service, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var stats = entry.Read(from, now);
            if (stats.WindowCount == 0
                || (query.MinMean is { } minMean && stats.WindowMeanMs < minMean.TotalMilliseconds)
                || (query.MinMax is { } minMax && stats.WindowMaxMs < minMax.TotalMilliseconds))
            {
                continue;
            }

            result.Add(stats);
        }

        result.Sort((a, b) => b.WindowMeanMs.CompareTo(a.WindowMeanMs));
        return result.Count > query.Limit ? result[..Math.Max(0, query.Limit)] : result;
    }

    internal void Record(string service, SqlShape shape, in QuerySpan span, long endNanos)
    {
        var key = new StatementKey(service, shape.Statement);
        if (!_entries.TryGetValue(key, out var entry))
        {
            entry = Add(key, shape);
            if (entry is null)
            {
                return;
            }
        }

        entry.Record(span, endNanos, _clock.IndexOf(endNanos));
    }

    internal int Sweep(long oldestNanos)
    {
        var removed = 0;
        foreach (var (key, entry) in _entries)
        {
            if (entry.LastSeenNanos < oldestNanos && _entries.TryRemove(new KeyValuePair<StatementKey, StatementEntry>(key, entry)))
            {
                Interlocked.Decrement(ref _count);
                removed++;
            }
        }

        return removed;
    }

    private StatementEntry? Add(StatementKey key, SqlShape shape)
    {
        if (Interlocked.Increment(ref _count) > _maxStatements)
        {
            Interlocked.Decrement(ref _count);
            _counters.StatementOverLimit();
            return null;
        }

        var created = new StatementEntry(key, shape, _clock);
        if (_entries.TryAdd(key, created))
        {
            return created;
        }

        Interlocked.Decrement(ref _count);
        return _entries[key];
    }

    private sealed class StatementEntry(StatementKey key, SqlShape shape, BucketClock clock)
    {
        private readonly Lock _gate = new();
        private readonly Slot[] _slots = new Slot[clock.Slots];
        private long _count;
        private long _totalNanos;
        private long _maxNanos;
        private long _firstSeenNanos = long.MaxValue;
        private long _lastSeenNanos;

        public StatementKey Key { get; } = key;

        public long LastSeenNanos => Volatile.Read(ref _lastSeenNanos);

        public void Record(in QuerySpan span, long endNanos, long index)
        {
            var duration = span.DurationNanos;
            lock (_gate)
            {
                _count++;
                _totalNanos += duration;
                _maxNanos = Math.Max(_maxNanos, duration);
                _firstSeenNanos = Math.Min(_firstSeenNanos, endNanos);
                if (endNanos > _lastSeenNanos)
                {
                    Volatile.Write(ref _lastSeenNanos, endNanos);
                }

                ref var slot = ref _slots[index % _slots.Length];
                if (slot.Index != index)
                {
                    if (slot.Index > index)
                    {
                        return;
                    }

                    slot = new Slot { Index = index };
                }

                slot.Count++;
                slot.TotalNanos += duration;
                if (slot.Count == 1 || duration >= slot.MaxNanos)
                {
                    slot.MaxNanos = duration;
                    slot.SlowestTraceId = span.TraceId;
                    slot.SlowestSpanId = span.SpanId;
                    slot.SlowestAtNanos = endNanos;
                }
            }
        }

        public StatementStats Read(long from, long to)
        {
            lock (_gate)
            {
                long count = 0, total = 0;
                Slot slowest = default;
                foreach (ref readonly var slot in _slots.AsSpan())
                {
                    if (slot.Index < from || slot.Index > to || slot.Count == 0)
                    {
                        continue;
                    }

                    count += slot.Count;
                    total += slot.TotalNanos;
                    if (slowest.Count == 0 || slot.MaxNanos > slowest.MaxNanos)
                    {
                        slowest = slot;
                    }
                }

                return new StatementStats(
                    Key.Service,
                    Key.Statement,
                    shape.Verb,
                    shape.Table,
                    _count,
                    _count == 0 ? 0 : Nanoseconds.ToMs(_totalNanos) / _count,
                    Nanoseconds.ToMs(_maxNanos),
                    UnixTime.FromNanos(_firstSeenNanos == long.MaxValue ? 0 : _firstSeenNanos),
                    UnixTime.FromNanos(_lastSeenNanos),
                    count,
                    count == 0 ? 0 : Nanoseconds.ToMs(total) / count,
                    Nanoseconds.ToMs(slowest.MaxNanos),
                    slowest.Count == 0 ? null : TraceIds.Format(slowest.SlowestTraceId),
                    slowest.Count == 0 ? null : TraceIds.Format(slowest.SlowestSpanId),
                    slowest.Count == 0 ? null : UnixTime.FromNanos(slowest.SlowestAtNanos));
            }
        }

        private struct Slot
        {
            public long Index;
            public long Count;
            public long TotalNanos;
            public long MaxNanos;
            public UInt128 SlowestTraceId;
            public ulong SlowestSpanId;
            public long SlowestAtNanos;
        }
    }
}

/// <summary>Trace and span ids as W3C trace context writes them: lower-case hex, 32 and 16 digits.</summary>
public static class TraceIds
{
    public static string? Format(UInt128 traceId) => traceId == UInt128.Zero ? null : traceId.ToString("x32", null);

    public static string? Format(ulong spanId) => spanId == 0 ? null : spanId.ToString("x16", null);
}
