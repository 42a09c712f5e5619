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
/// </summary>
public sealed record MinuteRollup(DateTimeOffset Minute, RollupKey Key, ExponentialHistogram Durations, long Errors);

/// <summary>The in-memory store's completed (and open) minutes, which the history writer persists.</summary>
public interface IQueryRollupSource
{
    /// <summary>Copies of the roll-ups whose minute starts in [<paramref name="from"/>, <paramref name="to"/>).</summary>
    IReadOnlyList<MinuteRollup> Rollups(DateTimeOffset from, DateTimeOffset to);
}
