using Microsoft.Extensions.Options;
using NexusCore.PerfApi.Store;

namespace NexusCore.PerfApi.Ingest;

/// <summary>
/// The one consumer of the <see cref="TelemetryIngestQueue"/>: applies each batch to the
/// <see cref="TelemetryStore"/> and, once per bucket width, sweeps out what has expired.
/// </summary>
internal sealed partial class TelemetryAggregator(
    TelemetryIngestQueue queue,
    TelemetryStore store,
    TimeProvider time,
    IOptions<TelemetryStoreOptions> options,
    ILogger<TelemetryAggregator> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var sweepEvery = options.Value.BucketWidth;
        var lastSweep = time.GetTimestamp();
        try
        {
            while (await queue.Reader.WaitToReadAsync(stoppingToken))
            {
                while (queue.Reader.TryRead(out var batch))
                {
                    if (time.GetElapsedTime(lastSweep) >= sweepEvery)
                    {
                        store.Sweep();
                        lastSweep = time.GetTimestamp();
                    }

                    Apply(batch);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private void Apply(object batch)
    {
        try
        {
            switch (batch)
            {
                case SpanBatch spans:
                    store.Apply(spans);
                    break;
                case MetricBatch metrics:
                    store.Apply(metrics);
                    break;
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // One batch that trips a bug must not stop aggregation for everything after it.
            LogBatchFailed(ex, TelemetryIngestQueue.ItemsOf(batch));
        }
        finally
        {
            queue.Completed(batch);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not aggregate a telemetry batch of {Items} items; it is skipped")]
    private partial void LogBatchFailed(Exception exception, int items);
}
