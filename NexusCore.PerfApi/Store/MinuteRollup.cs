namespace NexusCore.PerfApi.Store;

/// <summary>
/// What a query figure is kept per: the reporting service (<c>service.name</c>, every instance summed), the
/// table, the operation, the query type and the cache outcome (null when the query has none, e.g. writes).
/// </summary>
public sealed record RollupKey(string Service, string Table, string Operation, string QueryType, bool? CacheHit);

/// <summary>
/// One minute of one query series, from the <c>nexuscore.query.duration</c> histogram: durations in seconds
/// (the instrument's unit) and the number of failed queries. Minutes are additive: two roll-ups of the same
/// key and minute (two instances, or the part written before a restart and the part after) merge into one.
/// <paramref name="Exemplars"/> are the minute's slowest measurements that named a trace (at most
/// <see cref="QueryRollupStore.ExemplarsPerMinute"/>); optional, so a source that does not keep them gives none.
/// </summary>
public sealed record MinuteRollup(DateTimeOffset Minute, RollupKey Key, ExponentialHistogram Durations, long Errors, IReadOnlyList<QueryExemplar>? Exemplars = null);

/// <summary>A measurement the sender kept with the trace it was recorded in: a trace to open in the Aspire dashboard.</summary>
/// <param name="DurationSeconds">The measured duration, in seconds like <see cref="MinuteRollup.Durations"/>.</param>
public sealed record QueryExemplar(string TraceId, string? SpanId, double DurationSeconds, DateTimeOffset At);

/// <summary>The in-memory store's completed (and open) minutes, which the history writer persists.</summary>
public interface IQueryRollupSource
{
    /// <summary>Copies of the roll-ups whose minute starts in [<paramref name="from"/>, <paramref name="to"/>).</summary>
    IReadOnlyList<MinuteRollup> Rollups(DateTimeOffset from, DateTimeOffset to);
}

/// <summary>
/// Where <see cref="Analysis.Performance.PerformanceReader"/> reads query roll-ups from: every query figure
/// (counts, rates, means, percentiles, errors, cache hits per series, exemplars) is computed from the
/// <see cref="MinuteRollup"/>s this returns, merged per key, and from nothing else. The default is the in-memory
/// <see cref="QueryRollupStore"/> (registered by <c>AddTelemetryStore</c>). A history store plugs in by registering
/// its own <see cref="IQueryRollupReader"/> that returns the persisted minutes for the part of the range the
/// memory does not hold (older than the retention, or before a restart) plus the memory's own; roll-ups of the same
/// minute and key may come from both (they are additive), and may come in any order.
/// </summary>
public interface IQueryRollupReader
{
    /// <summary>The roll-ups whose minute starts in [<paramref name="from"/>, <paramref name="to"/>); the caller may keep them.</summary>
    IReadOnlyList<MinuteRollup> Read(DateTimeOffset from, DateTimeOffset to);

    /// <summary>
    /// The earliest instant this reader may return roll-ups for, when it reaches before PerfApi's start (persisted
    /// history); null when it holds only this run's. Rates are divided by the time since then, at most the window.
    /// </summary>
    DateTimeOffset? HeldSince => null;
}
