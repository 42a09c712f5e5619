using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using NexusCore.PerfApi.Ingest;
using NexusCore.PerfApi.Sql;

namespace NexusCore.PerfApi.Store;

/// <summary>
/// The in-memory telemetry PerfApi aggregates from OTLP: query roll-ups (from the <c>nexuscore.query.duration</c>
/// histogram), SQL statements and slow span samples (from query spans) and metric series, each bounded by <see cref="TelemetryStoreOptions"/>. Batches are applied by the
/// <see cref="TelemetryAggregator"/>; reads may run at any time from any thread.
/// </summary>
public sealed class TelemetryStore
{
    private readonly ConcurrentDictionary<string, SqlShape> _shapes = new(StringComparer.Ordinal);
    private readonly BucketClock _buckets;
    private readonly BucketClock _histograms;
    private readonly TimeProvider _time;
    private readonly int _maxShapes;
    private readonly int _maxStatementLength;
    private readonly TimeSpan _retention;
    private int _shapeCount;

    public TelemetryStore(IOptions<TelemetryStoreOptions> options, TimeProvider time, TelemetryCounters counters)
    {
        var settings = options.Value;
        _time = time;
        _buckets = new BucketClock(settings.BucketWidth, settings.BucketCount);
        _histograms = new BucketClock(settings.HistogramWidth, settings.HistogramCount);
        _maxShapes = settings.MaxStatements * 2;
        _maxStatementLength = settings.MaxStatementLength;
        _retention = settings.Retention;
        Counters = counters;
        StartedAt = time.GetUtcNow();
        Rollups = new QueryRollupStore(_histograms, settings.MaxQuerySeries, UnixTime.NanosOf(StartedAt), time, counters);
        Statements = new StatementStore(_histograms, settings.MaxStatements, time, counters);
        Samples = new SpanSampleStore(settings.MaxSpanSamples, settings.SpanSampleThreshold, time);
        Metrics = new MetricStore(_buckets, settings.MaxMetricSeries, UnixTime.NanosOf(StartedAt), time, counters);
    }

    public DateTimeOffset StartedAt { get; }

    public TelemetryCounters Counters { get; }

    /// <summary>Query figures: durations, counts and errors per <see cref="RollupKey"/> and minute, from metrics.</summary>
    public QueryRollupStore Rollups { get; }

    public StatementStore Statements { get; }

    public SpanSampleStore Samples { get; }

    public MetricStore Metrics { get; }

    /// <summary>
    /// Aggregates query spans into statements and slow span samples, by their end time (a future end time counts
    /// as now; one older than the retention is counted as too old and skipped). Query figures come from metrics.
    /// </summary>
    public void Apply(SpanBatch batch)
    {
        var now = UnixTime.NanosOf(_time.GetUtcNow());
        var oldest = _buckets.OldestIndex(_buckets.IndexOf(now));
        int aggregated = 0, tooOld = 0;
        var spans = batch.QuerySpans;
        for (var i = 0; i < spans.Count; i++)
        {
            var span = spans[i];
            var end = span.EndUnixNanos <= 0 || span.EndUnixNanos > now ? now : span.EndUnixNanos;
            var bucket = _buckets.IndexOf(end);
            if (bucket < oldest)
            {
                tooOld++;
                continue;
            }

            var shape = span.Statement is { Length: > 0 } sql ? ShapeOf(sql) : null;
            var key = new QueryKey(
                span.Service,
                span.Table ?? shape?.Table ?? QueryKey.Unknown,
                span.Operation ?? shape?.Verb ?? QueryKey.Unknown,
                span.QueryType ?? QueryKey.SqlQueryType);

            aggregated++;
            if (shape is not null)
            {
                Statements.Record(span.Service, shape, span, end);
            }

            Samples.Offer(key, shape?.Statement, span, end);
        }

        Counters.QuerySpansAggregated(aggregated);
        Counters.QuerySpansTooOld(tooOld);
    }

    /// <summary>
    /// Turns metric points into deltas and levels in their series; <c>nexuscore.query.duration</c> exponential
    /// histograms go to the query roll-ups instead.
    /// </summary>
    public void Apply(MetricBatch batch)
    {
        var now = UnixTime.NanosOf(_time.GetUtcNow());
        var aggregated = 0;
        foreach (var point in batch.Points)
        {
            var recorded = point is { Kind: MetricKind.ExponentialHistogram, Name: WellKnownMetrics.QueryDuration }
                ? Rollups.Record(point, now)
                : Metrics.Record(point, now);
            if (recorded)
            {
                aggregated++;
            }
        }

        Counters.MetricPointsAggregated(aggregated);
    }

    /// <summary>Forgets series and statements with nothing left inside the retention, making room for new ones.</summary>
    public void Sweep()
    {
        var now = _time.GetUtcNow();
        var oldestBucket = _buckets.OldestIndex(_buckets.IndexOf(UnixTime.NanosOf(now)));
        Rollups.Sweep(UnixTime.NanosOf(now));
        Metrics.Sweep(oldestBucket);
        Statements.Sweep(UnixTime.NanosOf(now - _retention));
    }

    /// <summary>Normalizes SQL once per distinct text: Npgsql sends the same few texts over and over.</summary>
    private SqlShape ShapeOf(string sql)
    {
        if (_shapes.TryGetValue(sql, out var shape))
        {
            return shape;
        }

        shape = SqlNormalizer.Shape(sql, _maxStatementLength);
        if (sql.Length <= 4 * _maxStatementLength)
        {
            if (Interlocked.Increment(ref _shapeCount) > _maxShapes)
            {
                // A cache, not a record: when literal-laden texts fill it, start over rather than grow.
                _shapes.Clear();
                Interlocked.Exchange(ref _shapeCount, 0);
            }

            _shapes.TryAdd(sql, shape);
        }

        return shape;
    }
}
