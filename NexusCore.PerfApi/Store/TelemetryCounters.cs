namespace NexusCore.PerfApi.Store;

/// <summary>Why an OTLP payload was refused.</summary>
public enum PayloadRejection
{
    Malformed,
    TooLarge,
    UnsupportedMediaType,
}

/// <summary>
/// Running totals of what the receiver and the store did, for operators (and tests) to see that data
/// flows and what was dropped. Lock-free: every update is one <see cref="Interlocked"/> add.
/// </summary>
public sealed class TelemetryCounters
{
    private long _payloadsAccepted;
    private long _payloadsMalformed;
    private long _payloadsTooLarge;
    private long _payloadsUnsupported;
    private long _spansReceived;
    private long _querySpansQueued;
    private long _querySpansAggregated;
    private long _querySpansDropped;
    private long _querySpansTooOld;
    private long _metricPointsReceived;
    private long _metricPointsQueued;
    private long _metricPointsAggregated;
    private long _metricPointsDropped;
    private long _metricPointsUnsupported;
    private long _metricPointsNonFinite;
    private long _metricPointsTooOld;
    private long _querySpansOverSeriesLimit;
    private long _statementsOverLimit;
    private long _metricPointsOverSeriesLimit;
    private long _lastPayloadUnixMs;

    public void PayloadAccepted(DateTimeOffset at)
    {
        Interlocked.Increment(ref _payloadsAccepted);
        Interlocked.Exchange(ref _lastPayloadUnixMs, at.ToUnixTimeMilliseconds());
    }

    public void PayloadRejected(PayloadRejection reason)
    {
        switch (reason)
        {
            case PayloadRejection.Malformed:
                Interlocked.Increment(ref _payloadsMalformed);
                break;
            case PayloadRejection.TooLarge:
                Interlocked.Increment(ref _payloadsTooLarge);
                break;
            default:
                Interlocked.Increment(ref _payloadsUnsupported);
                break;
        }
    }

    public void SpansReceived(int spans, int querySpans, bool queued)
    {
        Interlocked.Add(ref _spansReceived, spans);
        Interlocked.Add(ref queued ? ref _querySpansQueued : ref _querySpansDropped, querySpans);
    }

    public void MetricPointsReceived(int points, int kept, int unsupported, bool queued, int nonFinite = 0)
    {
        Interlocked.Add(ref _metricPointsReceived, points);
        Interlocked.Add(ref _metricPointsUnsupported, unsupported);
        Interlocked.Add(ref _metricPointsNonFinite, nonFinite);
        Interlocked.Add(ref queued ? ref _metricPointsQueued : ref _metricPointsDropped, kept);
    }

    public void QuerySpansAggregated(int count) => Interlocked.Add(ref _querySpansAggregated, count);

    public void QuerySpansTooOld(int count) => Interlocked.Add(ref _querySpansTooOld, count);

    public void MetricPointsAggregated(int count) => Interlocked.Add(ref _metricPointsAggregated, count);

    public void MetricPointsTooOld(int count) => Interlocked.Add(ref _metricPointsTooOld, count);

    public void QuerySpansOverSeriesLimit() => Interlocked.Increment(ref _querySpansOverSeriesLimit);

    public void StatementOverLimit() => Interlocked.Increment(ref _statementsOverLimit);

    public void MetricPointsOverSeriesLimit() => Interlocked.Increment(ref _metricPointsOverSeriesLimit);

    public TelemetryCountersSnapshot Snapshot() => new(
        PayloadsAccepted: Volatile.Read(ref _payloadsAccepted),
        PayloadsMalformed: Volatile.Read(ref _payloadsMalformed),
        PayloadsTooLarge: Volatile.Read(ref _payloadsTooLarge),
        PayloadsUnsupportedMediaType: Volatile.Read(ref _payloadsUnsupported),
        SpansReceived: Volatile.Read(ref _spansReceived),
        QuerySpansQueued: Volatile.Read(ref _querySpansQueued),
        QuerySpansAggregated: Volatile.Read(ref _querySpansAggregated),
        QuerySpansDropped: Volatile.Read(ref _querySpansDropped),
        QuerySpansTooOld: Volatile.Read(ref _querySpansTooOld),
        MetricPointsReceived: Volatile.Read(ref _metricPointsReceived),
        MetricPointsQueued: Volatile.Read(ref _metricPointsQueued),
        MetricPointsAggregated: Volatile.Read(ref _metricPointsAggregated),
        MetricPointsDropped: Volatile.Read(ref _metricPointsDropped),
        MetricPointsUnsupported: Volatile.Read(ref _metricPointsUnsupported),
        MetricPointsNonFinite: Volatile.Read(ref _metricPointsNonFinite),
        MetricPointsTooOld: Volatile.Read(ref _metricPointsTooOld),
        QuerySpansOverSeriesLimit: Volatile.Read(ref _querySpansOverSeriesLimit),
        StatementsOverLimit: Volatile.Read(ref _statementsOverLimit),
        MetricPointsOverSeriesLimit: Volatile.Read(ref _metricPointsOverSeriesLimit),
        LastPayloadAt: Volatile.Read(ref _lastPayloadUnixMs) is var ms and > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null);
}

public sealed record TelemetryCountersSnapshot(
    long PayloadsAccepted,
    long PayloadsMalformed,
    long PayloadsTooLarge,
    long PayloadsUnsupportedMediaType,
    long SpansReceived,
    long QuerySpansQueued,
    long QuerySpansAggregated,
    long QuerySpansDropped,
    long QuerySpansTooOld,
    long MetricPointsReceived,
    long MetricPointsQueued,
    long MetricPointsAggregated,
    long MetricPointsDropped,
    long MetricPointsUnsupported,
    long MetricPointsNonFinite,
    long MetricPointsTooOld,
    long QuerySpansOverSeriesLimit,
    long StatementsOverLimit,
    long MetricPointsOverSeriesLimit,
    DateTimeOffset? LastPayloadAt);
