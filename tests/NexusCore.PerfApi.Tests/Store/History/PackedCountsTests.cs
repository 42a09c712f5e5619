using NexusCore.PerfApi.Store.History;

namespace NexusCore.PerfApi.Tests.Store.History;

[NoStack]
public sealed class PackedCountsTests
{
    [Fact]
    public void CountsComeBackAsTheyWentInFromZeroToTheLargestLong()
    {
        long[] counts = [0, 1, 127, 128, 300, 16_383, 16_384, 1L << 35, long.MaxValue, 0];

        var packed = PackedCounts.Pack(counts);

        Assert.Equal(counts, PackedCounts.Unpack(packed));
        // One byte up to 127, two up to 16,383, ten for the largest.
        Assert.Equal(1 + 1 + 1 + 2 + 2 + 2 + 3 + 6 + 9 + 1, packed.Length);
        Assert.Empty(PackedCounts.Unpack(PackedCounts.Pack([])));
    }

    [Fact]
    public void ANegativeCountIsStoredAsZeroAndATruncatedTailIsDropped()
    {
        Assert.Equal([0L, 5L], PackedCounts.Unpack(PackedCounts.Pack([-3, 5])));
        Assert.Equal([5L], PackedCounts.Unpack([0x05, 0x80, 0x80]));
    }
}
