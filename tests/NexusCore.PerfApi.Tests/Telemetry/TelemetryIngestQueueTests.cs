using Microsoft.Extensions.Options;
using NexusCore.PerfApi.Ingest;
using NexusCore.PerfApi.Store;
using static NexusCore.PerfApi.Tests.Telemetry.StoreFixtures;

namespace NexusCore.PerfApi.Tests.Telemetry;

[NoStack]
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

    [Fact]
    public void AServiceAtItsShareIsRefusedWhileAnotherServicesBatchStillGetsIn()
    {
        var queue = new TelemetryIngestQueue(Options.Create(new TelemetryStoreOptions { IngestQueueCapacity = 20, IngestQueueCapacityPerService = 8 }));
        SpanBatch Of(string service, int spans) => Batch(Enumerable.Range(0, spans).Select(_ => Query(Start, TimeSpan.FromMilliseconds(1), service: service)).ToArray());

        Assert.True(queue.TryEnqueue(Of("noisy", 8)));
        Assert.False(queue.TryEnqueue(Of("noisy", 1)));
        Assert.True(queue.TryEnqueue(Of("noisy-2", 8)));
        Assert.True(queue.TryEnqueue(Of("real", 3)));
        Assert.Equal((8, 8, 3, 19L), (queue.PendingOf("noisy"), queue.PendingOf("noisy-2"), queue.PendingOf("real"), queue.Pending));

        // The total still holds: 19 of 20 are taken.
        Assert.False(queue.TryEnqueue(Of("other", 2)));

        // A batch of two services is charged to each, and refused when either has no room.
        Assert.False(queue.TryEnqueue(Batch([.. Of("real", 1).QuerySpans, .. Of("noisy", 1).QuerySpans])));
        Assert.True(queue.Reader.TryRead(out var first));
        queue.Completed(first);
        Assert.True(queue.TryEnqueue(Batch([.. Of("real", 1).QuerySpans, .. Of("noisy", 1).QuerySpans])));
        Assert.Equal((1, 4, 13L), (queue.PendingOf("noisy"), queue.PendingOf("real"), queue.Pending));
    }
}
