using System.Globalization;

namespace NexusCore.Bench;

/// <summary>What one run measures and for how long; <c>--tiny</c> is the smoke test's scale.</summary>
public sealed record BenchOptions
{
    public const string Usage = """
        Usage: bench/run [--tiny] [--clients N] [--duration SECONDS] [--runs N] [--paced-rate N] [--zipf-warmup SECONDS] [--out DIR]

          --tiny            10,000 clients, 1 s per measurement, 1 run each, two concurrency steps
                            (what the test runs; numbers are only a smoke signal)
          --clients N       clients to seed (default 1000000)
          --duration S      seconds per measurement run (default 2)
          --runs N          runs per measurement; the median is reported (default 3)
          --paced-rate N    requests/s offered steadily (random waits) for the p99 reads' paced figures
                            (default 1000)
          --zipf-warmup S   seconds of Zipf reads from a cleared cache before its hit rate is measured
                            (default 60; past the find TTL, e.g. 330, it is the steady state, with
                            expiries and refreshes, and the run takes that much longer)
          --out DIR         where <date>.md and <date>.json go (default bench/results)
        """;

    public int Clients { get; init; } = 1_000_000;

    public int DurationSeconds { get; init; } = 2;

    public int Runs { get; init; } = 3;

    public bool Tiny { get; init; }

    public string OutputDirectory { get; init; } = Path.Combine("bench", "results");

    /// <summary>Connections for the latency table (before and after): light, steady load.</summary>
    public int LatencyConnections { get; init; } = 4;

    /// <summary>Connections for the throughput ratios (plaintext, cached and uncached GET, pgbench).</summary>
    public int ThroughputConnections { get; init; } = 32;

    /// <summary>
    /// Requests per second offered to the reads with a p99 target (and to the plaintext app), spread over
    /// the latency table's connections by random waits: their tail at a steady load, not at saturation.
    /// </summary>
    public int PacedRate { get; init; } = 1000;

    public IReadOnlyList<int> ConcurrencySteps { get; init; } = [16, 32, 64, 128, 256, 512];

    /// <summary>Rows per <c>\copy</c> into the clients table (COPY-in baseline).</summary>
    public int CopyInRows => Math.Clamp(Clients / 20, 1_000, 50_000);

    /// <summary>How deep the deep search page is (rows skipped): OFFSET before, a keyset cursor after.</summary>
    public int DeepPageOffset => Math.Max(100, Clients / 10);

    /// <summary>Zipf exponent of the skewed read workload (YCSB's "zipfian" constant).</summary>
    public double ZipfExponent { get; init; } = 0.99;

    /// <summary>
    /// Least seconds of untimed load on every read before a configuration is measured: the JIT's optimizing
    /// tier compiles a method only after it has run a few dozen times, in the background. The warm-up
    /// goes on until the server's CPU per request settles, up to <see cref="MaxWarmupSeconds"/>.
    /// </summary>
    public int WarmupSeconds { get; init; } = 8;

    /// <summary>
    /// Most seconds of warm-up, settled or not (the results then say "not settled"). The slowest warm-up
    /// seen, on a busy machine, had its CPU per request within 10 % of its settled value by 36 s; 60 s
    /// took the run past 10 minutes.
    /// </summary>
    public int MaxWarmupSeconds { get; init; } = 40;

    /// <summary>
    /// Seconds of Zipf reads after the cache is cleared before hit rates are measured. The default fits
    /// the run in 10 minutes: the cache is still filling (no entry has reached the find TTL yet), so
    /// the measured rate is bounded by first requests for the long tail. A warm-up past the TTL
    /// (<c>--zipf-warmup 330</c>) measures the steady state, with expiries and eager refreshes.
    /// </summary>
    public int ZipfWarmupSeconds { get; init; } = 60;

    public int StampedeRequests { get; init; } = 500;

    public static BenchOptions? Parse(IReadOnlyList<string> args, out string? error)
    {
        error = null;
        var options = new BenchOptions();
        if (args.Contains("--tiny"))
        {
            options = options with
            {
                Tiny = true,
                Clients = 10_000,
                DurationSeconds = 1,
                Runs = 1,
                ZipfWarmupSeconds = 1,
                WarmupSeconds = 1,
                MaxWarmupSeconds = 2,
                ConcurrencySteps = [16, 64],
            };
        }

        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg == "--tiny")
            {
                continue;
            }

            if (arg is "--help" or "-h")
            {
                error = "";
                return null;
            }

            if (i + 1 >= args.Count)
            {
                error = $"'{arg}' needs a value, or is unknown.";
                return null;
            }

            var value = args[++i];
            switch (arg)
            {
                case "--clients" when Positive(value, 50_000_000) is { } clients:
                    options = options with { Clients = clients };
                    break;
                case "--duration" when Positive(value, 600) is { } seconds:
                    options = options with { DurationSeconds = seconds };
                    break;
                case "--runs" when Positive(value, 50) is { } runs:
                    options = options with { Runs = runs };
                    break;
                case "--paced-rate" when Positive(value, 100_000) is { } rate:
                    options = options with { PacedRate = rate };
                    break;
                case "--zipf-warmup" when Positive(value, 3_600) is { } zipfWarmup:
                    options = options with { ZipfWarmupSeconds = zipfWarmup };
                    break;
                case "--out":
                    options = options with { OutputDirectory = value };
                    break;
                default:
                    error = $"Unknown argument or bad value: '{arg} {value}'.";
                    return null;
            }
        }

        return options;
    }

    private static int? Positive(string text, int max) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= 1 && value <= max ? value : null;
}
