namespace NexusCore.PerfApi.Store;

/// <summary>Why an OTLP payload was refused.</summary>
public enum PayloadRejection
{
    Malformed,
    TooLarge,
    UnsupportedMediaType,

    /// <summary>Too many spans, data points, attributes of an item or buckets of a point (413 or 400).</summary>
    OverItemLimit,

    /// <summary>Every ingest turn and the line before them were taken (429).</summary>
    Busy,

    /// <summary>The body did not arrive within the receiver's read timeout (408).</summary>
    TooSlow,
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
    private long _payloadsOverItemLimit;
    private long _payloadsBusy;
    private long _payloadsTooSlow;
    private long _payloadsTruncated;
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
    private long _querySeriesEvicted;
    private long _statementsEvicted;
    private long _metricSeriesEvicted;
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
            case PayloadRejection.OverItemLimit:
                Interlocked.Increment(ref _payloadsOverItemLimit);
                break;
            case PayloadRejection.Busy:
                Interlocked.Increment(ref _payloadsBusy);
                break;
            case PayloadRejection.TooSlow:
                Interlocked.Increment(ref _payloadsTooSlow);
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

    /// <summary>An accepted payload had strings cut to the receiver's length limits.</summary>
    public void PayloadTruncated() => Interlocked.Increment(ref _payloadsTruncated);

    /// <summary>A query series made room for a new one (see <see cref="ServiceQuota{TKey}"/>).</summary>
    public void QuerySeriesEvicted() => Interlocked.Increment(ref _querySeriesEvicted);

    public void StatementEvicted() => Interlocked.Increment(ref _statementsEvicted);

    public void MetricSeriesEvicted() => Interlocked.Increment(ref _metricSeriesEvicted);

    public TelemetryCountersSnapshot Snapshot() => new(
        PayloadsAccepted: Volatile.Read(ref _payloadsAccepted),
        PayloadsMalformed: Volatile.Read(ref _payloadsMalformed),
        PayloadsTooLarge: Volatile.Read(ref _payloadsTooLarge),
        PayloadsUnsupportedMediaType: Volatile.Read(ref _payloadsUnsupported),
        PayloadsOverItemLimit: Volatile.Read(ref _payloadsOverItemLimit),
        PayloadsBusy: Volatile.Read(ref _payloadsBusy),
        PayloadsTooSlow: Volatile.Read(ref _payloadsTooSlow),
        PayloadsTruncated: Volatile.Read(ref _payloadsTruncated),
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
        QuerySeriesEvicted: Volatile.Read(ref _querySeriesEvicted),
        StatementsEvicted: Volatile.Read(ref _statementsEvicted),
        MetricSeriesEvicted: Volatile.Read(ref _metricSeriesEvicted),
        LastPayloadAt: Volatile.Read(ref _lastPayloadUnixMs) is var ms and > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null);
}

public sealed record TelemetryCountersSnapshot(
    long PayloadsAccepted,
    long PayloadsMalformed,
    long PayloadsTooLarge,
    long PayloadsUnsupportedMediaType,
    long PayloadsOverItemLimit,
    long PayloadsBusy,
    long PayloadsTooSlow,
    long PayloadsTruncated,
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
    long QuerySeriesEvicted,
    long StatementsEvicted,
    long MetricSeriesEvicted,
    DateTimeOffset? LastPayloadAt);
