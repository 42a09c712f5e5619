namespace NexusCore.PerfApi.Store.History;

/// <summary>
/// The bucket counts of an hour row (<c>perf.query_hours.bucket_counts</c>, <c>bytea</c>): each count, from the first
/// bucket on, as an unsigned LEB128 varint (7 bits a byte, low bits first). Most counts are small, so a 320-bucket hour
/// is a few hundred bytes instead of 2.5 KB of <c>bigint[]</c>: no TOAST, and Postgres sends it as it is stored instead
/// of serializing every element (which, measured, was most of a week's read).
/// </summary>
internal static class PackedCounts
{
    public static byte[] Pack(ReadOnlySpan<long> counts)
    {
        var size = 0;
        foreach (var count in counts)
        {
            for (var v = (ulong)Math.Max(count, 0); ; v >>= 7)
            {
                size++;
                if (v < 0x80)
                {
                    break;
                }
            }
        }

        var bytes = new byte[size];
        var at = 0;
        foreach (var count in counts)
        {
            var v = (ulong)Math.Max(count, 0);
            while (v >= 0x80)
            {
                bytes[at++] = (byte)(v | 0x80);
                v >>= 7;
            }

            bytes[at++] = (byte)v;
        }

        return bytes;
    }

    /// <summary>The counts back; a truncated last varint (a row not written by <see cref="Pack"/>) ends the list.</summary>
    public static long[] Unpack(ReadOnlySpan<byte> bytes)
    {
        var n = 0;
        foreach (var b in bytes)
        {
            if (b < 0x80)
            {
                n++;
            }
        }

        var counts = new long[n];
        var index = 0;
        ulong value = 0;
        var shift = 0;
        foreach (var b in bytes)
        {
            if (shift < 64)
            {
                value |= (ulong)(b & 0x7F) << shift;
            }

            if (b < 0x80)
            {
                counts[index++] = (long)Math.Min(value, long.MaxValue);
                value = 0;
                shift = 0;
            }
            else
            {
                shift += 7;
            }
        }

        return counts;
    }
}
