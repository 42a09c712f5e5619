using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace NexusCore.Bench;

/// <summary>What one run measures and for how long; <c>--tiny</c> is the smoke test's scale.</summary>
public sealed record BenchOptions
{
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

    /// <summary>The smoke test's scale (<c>--tiny</c>), before any other option is applied.</summary>
    public static BenchOptions TinyScale { get; } = new()
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

/// <summary>
/// bench/run's command line (System.CommandLine): each option with its description, default and bounds, so
/// <c>bench/run --help</c> prints them all. <c>--tiny</c> sets the smoke test's scale; options given beside it win.
/// </summary>
public static class BenchCommandLine
{
    private static readonly BenchOptions Full = new();

    public static readonly Option<bool> Tiny = new("--tiny")
    {
        Description = "10,000 clients, 1 s per measurement, 1 run each, two concurrency steps (what the test runs; numbers are only a smoke signal)",
    };

    public static readonly Option<int> Clients = Positive("--clients", "N", "clients to seed", Full.Clients, 50_000_000);

    public static readonly Option<int> Duration = Positive("--duration", "SECONDS", "seconds per measurement run", Full.DurationSeconds, 600);

    public static readonly Option<int> Runs = Positive("--runs", "N", "runs per measurement; the median is reported", Full.Runs, 50);

    public static readonly Option<int> PacedRate = Positive(
        "--paced-rate", "N", "requests/s offered steadily (random waits) for the p99 reads' paced figures", Full.PacedRate, 100_000);

    public static readonly Option<int> ZipfWarmup = Positive(
        "--zipf-warmup",
        "SECONDS",
        "seconds of Zipf reads from a cleared cache before its hit rate is measured (past the find TTL, e.g. 330, it is the steady state, with expiries and refreshes, and the run takes that much longer)",
        Full.ZipfWarmupSeconds,
        3_600);

    public static readonly Option<string> Out = new("--out")
    {
        Description = "where <date>.md and <date>.json go",
        HelpName = "DIR",
        DefaultValueFactory = _ => Full.OutputDirectory,
    };

    /// <summary>The command whose action runs the benchmark with the options parsed.</summary>
    public static RootCommand Create(Func<BenchOptions, ParseResult, CancellationToken, Task<int>> run)
    {
        var command = new RootCommand(
            "The benchmark: boots the stack in local mode, seeds, measures the seed's operations before and after, and writes bench/results/<date>.md and .json. "
            + "bench/run also takes --no-build (use what is built) and --configuration Release|Debug (default Release).")
        {
            Tiny, Clients, Duration, Runs, PacedRate, ZipfWarmup, Out,
        };
        command.SetAction((parsed, ct) => run(From(parsed), parsed, ct));
        return command;
    }

    /// <summary>The options a parsed command line asks for: the full or tiny scale, then each option given.</summary>
    public static BenchOptions From(ParseResult parsed)
    {
        var options = parsed.GetValue(Tiny) ? BenchOptions.TinyScale : new BenchOptions();
        return options with
        {
            Clients = Given(parsed, Clients) ?? options.Clients,
            DurationSeconds = Given(parsed, Duration) ?? options.DurationSeconds,
            Runs = Given(parsed, Runs) ?? options.Runs,
            PacedRate = Given(parsed, PacedRate) ?? options.PacedRate,
            ZipfWarmupSeconds = Given(parsed, ZipfWarmup) ?? options.ZipfWarmupSeconds,
            OutputDirectory = parsed.GetValue(Out) ?? options.OutputDirectory,
        };
    }

    /// <summary>An option's value when it was given, not defaulted (so <c>--tiny</c>'s scale stands unless overridden).</summary>
    private static int? Given(ParseResult parsed, Option<int> option) =>
        parsed.GetResult(option) is { Implicit: false } ? parsed.GetValue(option) : null;

    /// <summary>A whole number from 1 to <paramref name="max"/>, digits only (no sign, no spaces).</summary>
    private static Option<int> Positive(string name, string helpName, string description, int fullDefault, int max) => new(name)
    {
        Description = $"{description} (1 to {max.ToString("N0", CultureInfo.InvariantCulture)})",
        HelpName = helpName,
        DefaultValueFactory = _ => fullDefault,
        CustomParser = result =>
        {
            if (result.Tokens.Count == 0)
            {
                return fullDefault;
            }

            var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
            if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= 1 && value <= max)
            {
                return value;
            }

            result.AddError($"{name} must be a whole number from 1 to {max.ToString("N0", CultureInfo.InvariantCulture)}, not '{text}'.");
            return default;
        },
    };
}
