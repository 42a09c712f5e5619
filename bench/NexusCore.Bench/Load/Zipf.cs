namespace NexusCore.Bench.Load;

/// <summary>
/// Zipf-distributed ranks 1..n (rank k drawn with probability ∝ 1/k^s) by rejection-inversion
/// (Hörmann and Derflinger, 1996; as in Apache Commons RNG): constant time and memory for any n.
/// Ranks map to client ids through a fixed permutation, so the hot clients are spread over the table
/// instead of being its first rows. wrk/bench.lua implements the same sampler.
/// </summary>
public sealed class Zipf
{
    /// <summary>A prime larger than any table: (rank·P mod n) is a permutation of 0..n-1.</summary>
    public const long Scatter = 2_147_483_647;

    private readonly long _n;
    private readonly double _s;
    private readonly double _hIntegralX1;
    private readonly double _hIntegralN;
    private readonly double _threshold;
    private readonly Random _random;

    public Zipf(long n, double exponent, int seed)
    {
        _n = n;
        _s = exponent;
        _random = new Random(seed);
        _hIntegralX1 = HIntegral(1.5) - 1;
        _hIntegralN = HIntegral(n + 0.5);
        _threshold = 2 - HIntegralInverse(HIntegral(2.5) - H(2));
    }

    public long NextRank()
    {
        while (true)
        {
            var u = _hIntegralN + _random.NextDouble() * (_hIntegralX1 - _hIntegralN);
            var x = HIntegralInverse(u);
            var k = Math.Clamp((long)(x + 0.5), 1, _n);
            if (k - x <= _threshold || u >= HIntegral(k + 0.5) - H(k))
            {
                return k;
            }
        }
    }

    /// <summary>The client id of a rank: ids 1..n, the permutation shared with the Lua sampler.</summary>
    public long IdOf(long rank) => (rank - 1) * Scatter % _n + 1;

    public long NextId() => IdOf(NextRank());

    /// <summary>
    /// The hit rate a cache with a fixed TTL reaches in the steady state under this workload at
    /// <paramref name="requestsPerSecond"/>. Without refresh (<paramref name="eagerRefreshThreshold"/> 0),
    /// a key asked for at rate r has one miss, then r·ttl hits, per entry lifetime: its share of misses
    /// is 1 ÷ (1 + r·ttl). With eager refresh at θ, the first read after θ·ttl refreshes the entry in the
    /// background (a hit), so a key misses only when no read falls between θ·ttl and ttl: per cycle of
    /// θ·ttl + 1/r on average, e^(−r(1−θ)ttl) misses, a share of e^(−r(1−θ)ttl) ÷ (1 + r·θ·ttl).
    /// Summed over keys by popularity. Compulsory misses of the long tail bound any cache, however fast.
    /// </summary>
    public static double SteadyStateHitRate(long n, double exponent, double requestsPerSecond, double ttlSeconds, double eagerRefreshThreshold = 0)
    {
        var threshold = eagerRefreshThreshold is > 0 and < 1 ? eagerRefreshThreshold : 1;
        double harmonic = 0;
        for (long k = 1; k <= n; k++)
        {
            harmonic += Math.Pow(k, -exponent);
        }

        double hits = 0;
        for (long k = 1; k <= n; k++)
        {
            var p = Math.Pow(k, -exponent) / harmonic;
            var rate = requestsPerSecond * p;
            var missShare = Math.Exp(-rate * (1 - threshold) * ttlSeconds) / (1 + rate * threshold * ttlSeconds);
            hits += p * (1 - missShare);
        }

        return hits;
    }

    private double H(double x) => Math.Exp(-_s * Math.Log(x));

    private double HIntegral(double x)
    {
        var logX = Math.Log(x);
        return Helper2((1 - _s) * logX) * logX;
    }

    private double HIntegralInverse(double x)
    {
        var t = x * (1 - _s);
        if (t < -1)
        {
            t = -1;
        }

        return Math.Exp(Helper1(t) * x);
    }

    /// <summary>log(1+x)/x, accurate near 0.</summary>
    private static double Helper1(double x) => Math.Abs(x) > 1e-8 ? Math.Log(1 + x) / x : 1 - x * (0.5 - x * (1.0 / 3 - 0.25 * x));

    /// <summary>(e^x−1)/x, accurate near 0.</summary>
    private static double Helper2(double x) => Math.Abs(x) > 1e-8 ? (Math.Exp(x) - 1) / x : 1 + x * 0.5 * (1 + x / 3 * (1 + 0.25 * x));
}
