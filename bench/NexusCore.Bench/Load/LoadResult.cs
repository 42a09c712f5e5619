namespace NexusCore.Bench.Load;

/// <summary>One timed run of one workload. Latencies in milliseconds.</summary>
public sealed record LoadResult(
    double Seconds,
    long Requests,
    long Errors,
    double P50Ms,
    double P90Ms,
    double P95Ms,
    double P99Ms,
    double MaxMs,
    double MeanMs)
{
    /// <summary>CPU the server process spent per request during the run (microseconds), when it could be read.</summary>
    public double? ServerCpuUs { get; init; }

    public double Rps => Seconds > 0 ? Requests / Seconds : 0;

    /// <summary>From raw latencies in microseconds (the .NET load generator and pgbench logs).</summary>
    public static LoadResult FromLatencies(double seconds, long errors, List<double> latenciesUs)
    {
        latenciesUs.Sort();
        double At(double p) => latenciesUs.Count == 0 ? 0 : latenciesUs[Math.Min(latenciesUs.Count - 1, (int)Math.Ceiling(p * latenciesUs.Count) - 1)] / 1000;
        return new LoadResult(
            seconds,
            latenciesUs.Count,
            errors,
            At(0.50),
            At(0.90),
            At(0.95),
            At(0.99),
            latenciesUs.Count == 0 ? 0 : latenciesUs[^1] / 1000,
            latenciesUs.Count == 0 ? 0 : latenciesUs.Average() / 1000);
    }
}

/// <summary>The median of several runs of one workload, each figure taken separately; errors are summed.</summary>
public sealed record Measurement(
    string Tool,
    int Connections,
    int Runs,
    double Rps,
    double P50Ms,
    double P90Ms,
    double P95Ms,
    double P99Ms,
    double MaxMs,
    double MeanMs,
    long Requests,
    long Errors)
{
    /// <summary>Median CPU microseconds the server process spent per request (HTTP measurements only).</summary>
    public double? ServerCpuUs { get; init; }

    public static Measurement Median(string tool, int connections, IReadOnlyList<LoadResult> runs) => new(
        tool,
        connections,
        runs.Count,
        Stats.Median(runs.Select(r => r.Rps)),
        Stats.Median(runs.Select(r => r.P50Ms)),
        Stats.Median(runs.Select(r => r.P90Ms)),
        Stats.Median(runs.Select(r => r.P95Ms)),
        Stats.Median(runs.Select(r => r.P99Ms)),
        runs.Max(r => r.MaxMs),
        Stats.Median(runs.Select(r => r.MeanMs)),
        runs.Sum(r => r.Requests),
        runs.Sum(r => r.Errors))
    {
        ServerCpuUs = runs.All(r => r.ServerCpuUs is not null) ? Math.Round(Stats.Median(runs.Select(r => r.ServerCpuUs!.Value)), 1) : null,
    };
}

public static class Stats
{
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        if (sorted.Count == 0)
        {
            return 0;
        }

        var middle = sorted.Count / 2;
        return sorted.Count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
