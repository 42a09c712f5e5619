using NexusCore.PerfApi.Store;
using NexusCore.PerfApi.Store.History;
namespace NexusCore.PerfApi.Features.Telemetry.Summary;

/// <summary>What PerfApi's OTLP receiver has taken in, kept and dropped since it started.</summary>
public sealed record Response(
    DateTimeOffset StartedAt,
    DateTimeOffset? LastPayloadAt,
    PayloadCounts Payloads,
    SpanCounts Spans,
    MetricPointCounts MetricPoints,
    StoreState Store,
    HistoryState History);

/// <summary>The minute roll-ups persisted in <c>perf.query_minutes</c> and the hours compacted into <c>perf.query_hours</c> since start (see <see cref="HistoryCountersSnapshot"/>).</summary>
/// <param name="PersistedBefore">Minutes before this are in Postgres; from it on only in memory.</param>
public sealed record HistoryState(HistoryCountersSnapshot Counters, int MaxBacklogRows, DateTimeOffset PersistedBefore);

/// <summary>OTLP requests accepted, and refused by reason (400, 408, 413, 415, 429).</summary>
/// <param name="OverItemLimit">Refused for too many spans, data points, attributes of an item or buckets of a point.</param>
/// <param name="Busy">Refused with 429: every ingest turn and the line before them were taken.</param>
/// <param name="TooSlow">Refused with 408: the body did not arrive within <c>Telemetry:Receiver:BodyReadTimeout</c>.</param>
/// <param name="Truncated">Accepted payloads in which strings were cut to the receiver's length limits.</param>
public sealed record PayloadCounts(long Accepted, long Malformed, long TooLarge, long UnsupportedMediaType, long OverItemLimit, long Busy, long TooSlow, long Truncated);

/// <param name="Received">Every span in accepted payloads.</param>
/// <param name="QuerySpans">Those that describe a query (logical or PostgreSQL client spans) and were queued.</param>
/// <param name="Aggregated">Query spans added to a query series.</param>
/// <param name="DroppedQueueFull">Query spans dropped because the ingest queue was full.</param>
/// <param name="TooOld">Query spans that ended before the retention window.</param>
/// <param name="SeriesEvicted">Query series removed to make room for a new one (its service's quota, or the store, was full).</param>
/// <param name="StatementsEvicted">Statements removed to make room for a new one.</param>
public sealed record SpanCounts(
    long Received, long QuerySpans, long Aggregated, long DroppedQueueFull, long TooOld, long SeriesEvicted, long StatementsEvicted);

/// <param name="Received">Every data point in accepted payloads.</param>
/// <param name="Aggregated">Points added to a metric series.</param>
/// <param name="Unsupported">Points of unsupported kinds (summaries) or flagged as having no recorded value.</param>
/// <param name="NonFinite">Points dropped at receipt for a NaN or infinite value (or histogram sum, min, max or bound).</param>
/// <param name="SeriesEvicted">Metric series removed to make room for a new one.</param>
public sealed record MetricPointCounts(
    long Received, long Queued, long Aggregated, long DroppedQueueFull, long Unsupported, long NonFinite, long TooOld, long SeriesEvicted);

/// <summary>How full the store and its queue are, next to their configured bounds.</summary>
public sealed record StoreState(
    int QuerySeries,
    int MaxQuerySeries,
    int Statements,
    int MaxStatements,
    int MetricSeries,
    int MaxMetricSeries,
    long PendingItems,
    int QueueCapacity,
    double BucketWidthSeconds,
    double RetentionSeconds);
