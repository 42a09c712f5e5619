using NexusCore.PerfApi.Analysis.Indexes;
using NexusCore.PerfApi.Ingest;
using NexusCore.PerfApi.Sql;
namespace NexusCore.PerfApi.Store;

/// <summary>
/// Numbers fixed-width time buckets since the Unix epoch and maps them onto a ring of <see cref="Slots"/>
/// slots: bucket n lives in slot n mod Slots until bucket n + Slots replaces it, which is what bounds memory.
/// </summary>
internal readonly struct BucketClock(TimeSpan width, int slots)
{
    public long WidthNanos { get; } = width.Ticks * 100;

    public int Slots { get; } = slots;

    public long IndexOf(long unixNanos) => unixNanos / WidthNanos;

    public int SlotOf(long index) => (int)(index % Slots);

    public DateTimeOffset StartOf(long index) => DateTimeOffset.UnixEpoch.AddTicks(index * (WidthNanos / 100));

    /// <summary>The oldest bucket still inside the ring when <paramref name="nowIndex"/> is the current one.</summary>
    public long OldestIndex(long nowIndex) => nowIndex - Slots + 1;

    /// <summary>The first bucket of a window that ends with the current bucket, clamped to the ring.</summary>
    public long FirstIndex(long nowIndex, TimeSpan window)
    {
        var buckets = (long)Math.Ceiling(window.Ticks * 100d / WidthNanos);
        return nowIndex - Math.Clamp(buckets, 1, Slots) + 1;
    }
}

internal static class UnixTime
{
    public static long NanosOf(DateTimeOffset time) => (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100;

    public static DateTimeOffset FromNanos(long nanos) => DateTimeOffset.UnixEpoch.AddTicks(nanos / 100);
}
