using Microsoft.Extensions.Options;
using NexusCore.PerfApi.Ingest;
using NexusCore.PerfApi.Store;
using static NexusCore.PerfApi.Tests.Telemetry.StoreFixtures;

namespace NexusCore.PerfApi.Tests.Telemetry;

public sealed class TelemetryIngestQueueTests
{
    [Fact]
    public void ABatchThatDoesNotFitIsRefusedAtOnceAndRoomReturnsAsBatchesAreAggregated()
    {
        var queue = new TelemetryIngestQueue(Options.Create(new TelemetryStoreOptions { IngestQueueCapacity = 10 }));
        var six = Batch(Enumerable.Range(0, 6).Select(_ => Query(Start, TimeSpan.FromMilliseconds(1))).ToArray());

        Assert.True(queue.TryEnqueue(six));
        Assert.False(queue.TryEnqueue(six));
        Assert.Equal(6, queue.Pending);

        Assert.True(queue.Reader.TryRead(out var first));
        queue.Completed(first);

        Assert.Equal(0, queue.Pending);
        Assert.True(queue.TryEnqueue(six));
    }

    [Fact]
    public void ABatchWithoutQuerySpansTakesNoRoom()
    {
        var queue = new TelemetryIngestQueue(Options.Create(new TelemetryStoreOptions { IngestQueueCapacity = 1 }));

        Assert.True(queue.TryEnqueue(new SpanBatch([], receivedSpans: 500)));
        Assert.Equal(0, queue.Pending);
        Assert.False(queue.Reader.TryRead(out _));
    }
}
