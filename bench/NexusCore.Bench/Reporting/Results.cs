using NexusCore.Bench.Load;

namespace NexusCore.Bench.Reporting;

/// <summary>Everything one run measured; written as bench/results/&lt;date&gt;.json and rendered as .md.</summary>
public sealed class BenchResults
{
    public required string Date { get; init; }
    public required string Mode { get; init; }
    public required string Command { get; init; }
    public required int Clients { get; init; }
    public required int DurationSeconds { get; init; }
    public required int Runs { get; init; }
    public required MachineInfo Machine { get; init; }
    public Dictionary<string, string> Tools { get; } = [];
    public Dictionary<string, string> Definitions { get; } = [];
    public Dictionary<string, double> SetupSeconds { get; } = [];

    /// <summary>Each configuration's warm-up: how long, and its server CPU per request round by round.</summary>
    public Dictionary<string, string> Warmups { get; } = [];
    public double SeedRowsPerSecond { get; set; }
    public List<OperationResult> Operations { get; } = [];
    public List<NamedMeasurement> Measurements { get; } = [];
    public Dictionary<string, double> Baselines { get; } = [];
    public List<RatioResult> Ratios { get; } = [];
    public ConcurrencyResult? Concurrency { get; set; }
    public CacheResult? Cache { get; set; }
    public TelemetryResult? Telemetry { get; set; }
    public List<TargetResult> Targets { get; } = [];
    public List<StatementStat> UncachedStatements { get; } = [];
    public List<StatementStat> WriteStatements { get; } = [];
    public List<string> Notes { get; } = [];
    public double TotalSeconds { get; set; }
    public string? LoadAverageAtEnd { get; set; }
}

/// <summary>
/// One row of the seed's table: the same operation before and after, as a time (lower is better).
/// <c>Improvement</c> is 1 − after/before, in percent ("85% faster" in the seed's words).
/// </summary>
public sealed record OperationResult(
    string Key,
    string Title,
    string Unit,
    double Before,
    double? AfterUncached,
    double After,
    double ImprovementPercent,
    double? ImprovementUncachedPercent,
    string BeforeDefinition,
    string AfterDefinition);

/// <summary>A measurement with its name and the configuration it ran against.</summary>
public sealed record NamedMeasurement(string Name, string Configuration, Measurement Result);

public sealed record RatioResult(string Name, string Numerator, double NumeratorValue, string Denominator, double DenominatorValue, double Ratio, double Target)
{
    public bool Met => Ratio >= Target;
}

public sealed record ConcurrencyStep(int Connections, Measurement Result, bool Held);

public sealed record ConcurrencyResult(string Workload, IReadOnlyList<ConcurrencyStep> Steps, int? HighestHeld);

public sealed record ZipfWindow(int Index, long Requests, double Seconds, long Hits, long Misses, double HitRatePercent, double IdealHitRatePercent);

/// <summary>
/// The steady-state hit rate a perfect TTL cache reaches under the Zipf workload at a request rate, with
/// ClientsApi's eager-refresh threshold and without refresh (see Zipf.SteadyStateHitRate).
/// </summary>
public sealed record ZipfModel(double RequestsPerSecond, double TtlSeconds, double EagerRefreshThreshold, double HitRatePercent, double HitRatePercentWithoutRefresh);

public sealed record StampedeRun(string Configuration, int Requests, long DatabaseQueries, int Ok, int Misses, int Hits, double Seconds);

public sealed record CacheResult(
    double CachedGetP50Ms,
    double PlaintextP50Ms,
    double AliveP50Ms,
    double L1OverheadMicroseconds,
    double L1OverheadVsAliveMicroseconds,
    double ZipfExponent,
    int ZipfWarmupSeconds,
    IReadOnlyList<ZipfWindow> ZipfWindows,
    double ZipfHitRatePercent,
    double ZipfIdealHitRatePercent,
    IReadOnlyList<ZipfModel> ZipfSteadyState,
    IReadOnlyList<StampedeRun> Stampede)
{
    /// <summary>Whether the Zipf warm-up outlasted the find TTL: its hit rate is then the steady state's, else the cache was still filling.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool ZipfPastTtl => ZipfWarmupSeconds > (ZipfSteadyState.FirstOrDefault()?.TtlSeconds ?? 0);
}

/// <summary>One statement's figures from pg_stat_statements while the uncached reads (or the writes) ran.</summary>
public sealed record StatementStat(string Query, long Calls, double MeanMs, double RowsPerCall, double BufferHitPercent);

public sealed record TargetResult(string Source, string Target, string Measured, bool Met, string? Note = null);

public sealed record MachineInfo(int Cores, string Cpu, double MemoryGb, string Os, string Kernel, string Runtime, string LoadAverageAtStart, string GitCommit)
{
    public static MachineInfo Read(string repoRoot)
    {
        static string ReadFirst(string path, Func<string, bool> match, Func<string, string> value)
        {
            try
            {
                return File.ReadLines(path).Where(match).Select(value).FirstOrDefault() ?? "?";
            }
            catch (IOException)
            {
                return "?";
            }
        }

        var memKb = ReadFirst("/proc/meminfo", l => l.StartsWith("MemTotal:", StringComparison.Ordinal),
            l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
        var commit = Tool.RunAsync("git", ["-C", repoRoot, "describe", "--always", "--dirty", "--abbrev=12"]).GetAwaiter().GetResult();
        return new MachineInfo(
            Environment.ProcessorCount,
            ReadFirst("/proc/cpuinfo", l => l.StartsWith("model name", StringComparison.Ordinal), l => l.Split(':', 2)[1].Trim()),
            double.TryParse(memKb, out var kb) ? Math.Round(kb / 1024 / 1024, 1) : 0,
            ReadFirst("/etc/os-release", l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal), l => l.Split('=', 2)[1].Trim('"')),
            ReadFirst("/proc/sys/kernel/osrelease", _ => true, l => l.Trim()),
            System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription,
            LoadAverage(),
            commit.ExitCode == 0 ? commit.Stdout.Trim() : "?");
    }

    /// <summary>The 1, 5 and 15 minute load averages: a busy machine makes every figure worse.</summary>
    public static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "?";
        }
    }
}

/// <summary>PerfApi's percentile of a series against the exact nearest rank of the same requests' spans.</summary>
public sealed record PercentileCheck(
    string Series, long ExactCount, long PerfApiCount, double ExactP50Ms, double? PerfApiP50Ms, double ExactP99Ms, double? PerfApiP99Ms, double? P99ErrorPercent);

/// <summary>Issue 24's telemetry figures: percentile accuracy and ingest throughput.</summary>
public sealed class TelemetryResult
{
    public List<PercentileCheck> Percentiles { get; init; } = [];
    public double ReplaySeconds { get; set; }
    public long ReplayPayloads { get; set; }
    public long ReplayRefused { get; set; }
    public long ReplayItemsSent { get; set; }
    public long ReplayItemsReceived { get; set; }
    public double ReplayItemsPerSecond { get; set; }
    public double? ReplayCpuSeconds { get; set; }
    public double? ReplayItemsPerCpuSecond { get; set; }
    public double? PerfApiRssBeforeMb { get; set; }
    public double? PerfApiRssPeakMb { get; set; }
}
