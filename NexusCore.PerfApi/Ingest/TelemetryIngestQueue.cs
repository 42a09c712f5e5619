using System.Threading.Channels;
using Microsoft.Extensions.Options;
using NexusCore.PerfApi.Store;

namespace NexusCore.PerfApi.Ingest;

/// <summary>
/// Hands decoded batches from the request threads to the <see cref="TelemetryAggregator"/>. Bounded by the
/// number of items (spans, points) waiting, not by batches: at most <c>IngestQueueCapacity</c> in all and
/// <c>IngestQueueCapacityPerService</c> of one service (resource <c>service.name</c>), so a service flooding
/// PerfApi fills its own share and the others' batches still get in. A batch that does not fit is refused at once
/// so that a sender is never made to wait on aggregation.
/// </summary>
public sealed class TelemetryIngestQueue(IOptions<TelemetryStoreOptions> options)
{
    private readonly Channel<object> _channel = Channel.CreateUnbounded<object>(
        new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = false });

    private readonly int _capacity = options.Value.IngestQueueCapacity;
    private readonly int _capacityPerService = Math.Min(options.Value.IngestQueueCapacityPerService, options.Value.IngestQueueCapacity);
    private readonly Lock _gate = new();
    private readonly Dictionary<string, int> _pendingByService = new(StringComparer.Ordinal);
    private readonly Dictionary<object, ServiceItems[]> _charges = new(ReferenceEqualityComparer.Instance);
    private long _pending;

    public int Capacity => _capacity;

    /// <summary>Spans and points queued and not yet aggregated.</summary>
    public long Pending => Volatile.Read(ref _pending);

    internal ChannelReader<object> Reader => _channel.Reader;

    /// <returns>false when the queue, or the share of one of the batch's services, is full: the batch is dropped, and the caller counts it.</returns>
    public bool TryEnqueue(SpanBatch batch) => TryEnqueue(batch, ByService(batch.QuerySpans, static span => span.Service));

    /// <inheritdoc cref="TryEnqueue(SpanBatch)"/>
    public bool TryEnqueue(MetricBatch batch) => TryEnqueue(batch, ByService(batch.Points, static point => point.Service));

    /// <summary>Items of a service waiting to be aggregated.</summary>
    public int PendingOf(string service)
    {
        lock (_gate)
        {
            return _pendingByService.GetValueOrDefault(service);
        }
    }

    internal static int ItemsOf(object batch) => batch switch
    {
        SpanBatch spans => spans.QuerySpans.Count,
        MetricBatch metrics => metrics.Points.Count,
        _ => 0,
    };

    internal void Completed(object batch)
    {
        lock (_gate)
        {
            if (!_charges.Remove(batch, out var charges))
            {
                return;
            }

            foreach (var (service, items) in charges)
            {
                var left = _pendingByService[service] - items;
                if (left == 0)
                {
                    _pendingByService.Remove(service);
                }
                else
                {
                    _pendingByService[service] = left;
                }
            }

            _pending -= charges.Sum(c => c.Items);
        }
    }

    private bool TryEnqueue(object batch, ServiceItems[] charges)
    {
        var items = charges.Sum(c => c.Items);
        if (items == 0)
        {
            return true;
        }

        lock (_gate)
        {
            if (_pending + items > _capacity || charges.Any(c => _pendingByService.GetValueOrDefault(c.Service) + c.Items > _capacityPerService))
            {
                return false;
            }

            foreach (var (service, count) in charges)
            {
                _pendingByService[service] = _pendingByService.GetValueOrDefault(service) + count;
            }

            _charges[batch] = charges;
            _pending += items;
        }

        return _channel.Writer.TryWrite(batch);
    }

    /// <summary>Items per service; a batch is nearly always one service's, in runs of the same string instance.</summary>
    private static ServiceItems[] ByService<T>(IReadOnlyList<T> items, Func<T, string> serviceOf)
    {
        if (items.Count == 0)
        {
            return [];
        }

        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var run = serviceOf(items[0]);
        var length = 0;
        foreach (var item in items)
        {
            var service = serviceOf(item);
            if (!ReferenceEquals(service, run) && service != run)
            {
                counts[run] = counts.GetValueOrDefault(run) + length;
                (run, length) = (service, 0);
            }

            length++;
        }

        counts[run] = counts.GetValueOrDefault(run) + length;
        return [.. counts.Select(c => new ServiceItems(c.Key, c.Value))];
    }

    private readonly record struct ServiceItems(string Service, int Items);
}
