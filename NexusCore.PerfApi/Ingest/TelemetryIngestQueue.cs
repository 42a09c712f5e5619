using System.Threading.Channels;
using Microsoft.Extensions.Options;
using NexusCore.PerfApi.Store;

namespace NexusCore.PerfApi.Ingest;

/// <summary>
/// Hands decoded batches from the request threads to the <see cref="TelemetryAggregator"/>. Bounded by the
/// number of items (spans, points) waiting, not by batches; a batch that does not fit is refused at once so
/// that a sender is never made to wait on aggregation.
/// </summary>
public sealed class TelemetryIngestQueue(IOptions<TelemetryStoreOptions> options)
{
    private readonly Channel<object> _channel = Channel.CreateUnbounded<object>(
        new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = false });

    private readonly int _capacity = options.Value.IngestQueueCapacity;
    private long _pending;

    public int Capacity => _capacity;

    /// <summary>Spans and points queued and not yet aggregated.</summary>
    public long Pending => Volatile.Read(ref _pending);

    internal ChannelReader<object> Reader => _channel.Reader;

    /// <returns>false when the queue is full: the batch is dropped, and the caller counts it.</returns>
    public bool TryEnqueue(SpanBatch batch) => TryEnqueue(batch, batch.QuerySpans.Count);

    /// <inheritdoc cref="TryEnqueue(SpanBatch)"/>
    public bool TryEnqueue(MetricBatch batch) => TryEnqueue(batch, batch.Points.Count);

    internal static int ItemsOf(object batch) => batch switch
    {
        SpanBatch spans => spans.QuerySpans.Count,
        MetricBatch metrics => metrics.Points.Count,
        _ => 0,
    };

    internal void Completed(object batch) => Interlocked.Add(ref _pending, -ItemsOf(batch));

    private bool TryEnqueue(object batch, int items)
    {
        if (items == 0)
        {
            return true;
        }

        if (Interlocked.Add(ref _pending, items) > _capacity)
        {
            Interlocked.Add(ref _pending, -items);
            return false;
        }

        return _channel.Writer.TryWrite(batch);
    }
}
