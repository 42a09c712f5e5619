using Microsoft.Extensions.Options;

namespace NexusCore.PerfApi.Store;

/// <summary>
/// Bounds of the in-memory telemetry store (section <c>Telemetry</c>). Every structure the store keeps is
/// sized from these values, so its memory has a ceiling whatever the senders do.
/// </summary>
public sealed class TelemetryStoreOptions
{
    public const string Section = "Telemetry";

    /// <summary>Width of one time bucket of the rolling series (count, duration, cache hits, metric values).</summary>
    public TimeSpan BucketWidth { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How far back the rolling series reach; a multiple of <see cref="BucketWidth"/>.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Width of one latency-histogram roll-up (and of the per-statement windows); a multiple of
    /// <see cref="BucketWidth"/> that divides <see cref="Retention"/>. Percentiles are computed over whole roll-ups.
    /// </summary>
    public TimeSpan HistogramWidth { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Distinct (service, table, operation, query type) series; a new one beyond this replaces another (see <see cref="ServiceQuota{TKey}"/>).</summary>
    public int MaxQuerySeries { get; set; } = 512;

    /// <summary>Query series of one service (resource <c>service.name</c>); its new one beyond this replaces its least recently seen.</summary>
    public int MaxQuerySeriesPerService { get; set; } = 128;

    /// <summary>Distinct (service, normalized SQL text) statements; a new one beyond this replaces another.</summary>
    public int MaxStatements { get; set; } = 1000;

    /// <summary>Statements of one service; its new one beyond this replaces its least recently seen.</summary>
    public int MaxStatementsPerService { get; set; } = 250;

    /// <summary>Normalized statements longer than this are cut, so a huge generated SQL text cannot hold much memory.</summary>
    public int MaxStatementLength { get; set; } = 2048;

    /// <summary>Distinct metric series (service, instance, name, attributes); a new one beyond this replaces another.</summary>
    public int MaxMetricSeries { get; set; } = 1000;

    /// <summary>Metric series of one service, all its instances together; its new one beyond this replaces its least recently seen.</summary>
    public int MaxMetricSeriesPerService { get; set; } = 500;

    /// <summary>How many individual slow query spans are kept as samples (the most recent ones).</summary>
    public int MaxSpanSamples { get; set; } = 1000;

    /// <summary>A query span at least this long is kept as a sample.</summary>
    public TimeSpan SpanSampleThreshold { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// Decoded spans and metric points waiting to be aggregated. When a payload would exceed it, its items are
    /// dropped and counted instead of making the sender wait.
    /// </summary>
    public int IngestQueueCapacity { get; set; } = 100_000;

    /// <summary>
    /// Of those, the most one service may have waiting (one export of <c>Telemetry:Receiver:MaxSpansPerRequest</c>):
    /// a service flooding PerfApi fills its own share, and up to <c>IngestQueueCapacity / IngestQueueCapacityPerService</c>
    /// such services leave room for every other service's items.
    /// </summary>
    public int IngestQueueCapacityPerService { get; set; } = 10_000;

    internal int BucketCount => (int)(Retention.Ticks / BucketWidth.Ticks);

    internal int HistogramCount => (int)(Retention.Ticks / HistogramWidth.Ticks);
}

/// <summary>Rejects bounds that would make the rolling windows inconsistent or unbounded, at start.</summary>
internal sealed class TelemetryStoreOptionsValidator : IValidateOptions<TelemetryStoreOptions>
{
    /// <summary>Ring sizes above this would mean megabytes per series: almost certainly a misconfiguration.</summary>
    public const int MaxBuckets = 10_000;

    public ValidateOptionsResult Validate(string? name, TelemetryStoreOptions options)
    {
        var failures = new List<string>();
        if (options.BucketWidth < TimeSpan.FromSeconds(1))
        {
            failures.Add("Telemetry:BucketWidth must be at least 1 second.");
        }
        else
        {
            if (options.Retention < options.BucketWidth || options.Retention.Ticks % options.BucketWidth.Ticks != 0)
            {
                failures.Add("Telemetry:Retention must be a positive multiple of Telemetry:BucketWidth.");
            }
            else if (options.BucketCount > MaxBuckets)
            {
                failures.Add($"Telemetry:Retention / Telemetry:BucketWidth must be at most {MaxBuckets} buckets.");
            }

            if (options.HistogramWidth < options.BucketWidth
                || options.HistogramWidth.Ticks % options.BucketWidth.Ticks != 0
                || options.Retention.Ticks % options.HistogramWidth.Ticks != 0)
            {
                failures.Add("Telemetry:HistogramWidth must be a multiple of Telemetry:BucketWidth that divides Telemetry:Retention.");
            }
        }

        Positive(options.MaxQuerySeries, nameof(options.MaxQuerySeries));
        Positive(options.MaxStatements, nameof(options.MaxStatements));
        Positive(options.MaxMetricSeries, nameof(options.MaxMetricSeries));
        Quota(options.MaxQuerySeriesPerService, options.MaxQuerySeries, nameof(options.MaxQuerySeriesPerService), nameof(options.MaxQuerySeries));
        Quota(options.MaxStatementsPerService, options.MaxStatements, nameof(options.MaxStatementsPerService), nameof(options.MaxStatements));
        Quota(options.MaxMetricSeriesPerService, options.MaxMetricSeries, nameof(options.MaxMetricSeriesPerService), nameof(options.MaxMetricSeries));
        Quota(options.IngestQueueCapacityPerService, options.IngestQueueCapacity, nameof(options.IngestQueueCapacityPerService), nameof(options.IngestQueueCapacity));
        Positive(options.MaxSpanSamples, nameof(options.MaxSpanSamples));
        Positive(options.IngestQueueCapacity, nameof(options.IngestQueueCapacity));
        if (options.MaxStatementLength < 64)
        {
            failures.Add("Telemetry:MaxStatementLength must be at least 64.");
        }

        if (options.SpanSampleThreshold < TimeSpan.Zero)
        {
            failures.Add("Telemetry:SpanSampleThreshold must not be negative.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);

        void Positive(int value, string key)
        {
            if (value <= 0)
            {
                failures.Add($"Telemetry:{key} must be greater than zero.");
            }
        }

        void Quota(int value, int max, string key, string maxKey)
        {
            // A cap that is itself invalid is reported on its own.
            if (max > 0 && (value <= 0 || value > max))
            {
                failures.Add($"Telemetry:{key} must be between 1 and Telemetry:{maxKey}.");
            }
        }
    }
}
