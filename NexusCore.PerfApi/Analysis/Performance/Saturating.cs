namespace NexusCore.PerfApi.Analysis.Performance;

/// <summary>
/// Arithmetic for figures read from senders' metrics. The receiver drops NaN and infinite points, but finite ones
/// can still be absurd (a pool of 1e300 connections, a negative cache) and the store's own sums of them can
/// overflow to infinity. Counts and levels are never negative here and stop at their type's largest value instead
/// of throwing or wrapping, so one bad sender cannot break a read route (or every JSON response: NaN and
/// infinity do not serialize).
/// </summary>
public static class Saturating
{
    /// <summary>A count or level as a whole number: rounded; 0 for NaN and negatives; at most <see cref="long.MaxValue"/>.</summary>
    public static long Count(double value) =>
        value >= long.MaxValue ? long.MaxValue : value > 0 ? (long)Math.Round(value) : 0;

    /// <summary>An amount (bytes, megabytes): 0 for NaN and negatives, at most <see cref="double.MaxValue"/>.</summary>
    public static double Amount(double value) =>
        value >= double.MaxValue ? double.MaxValue : value > 0 ? value : 0;

    public static long Add(long a, long b) => long.CreateSaturating((Int128)a + b);

    public static long Sum(IEnumerable<long> values) => values.Aggregate(0L, Add);

    public static double Sum(IEnumerable<double> values) => Amount(values.Sum(Amount));
}
