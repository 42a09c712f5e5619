using NexusCore.PerfApi.Benchmark;
namespace NexusCore.PerfApi.Features.Benchmark;

/// <summary>Every field is optional; the defaults and bounds are in section <c>Benchmark</c>.</summary>
/// <param name="DurationSeconds">The whole run's time budget, shared equally by the operations.</param>
/// <param name="RequestsPerOperation">Each operation stops after this many requests, or when its share of the time is up.</param>
/// <param name="Concurrency">Requests in flight at once, per operation.</param>
/// <param name="Operations">A subset of <see cref="BenchmarkOperations.Names"/>; all when absent.</param>
public sealed class Request
{
    public double? DurationSeconds { get; init; }

    public int? RequestsPerOperation { get; init; }

    public int? Concurrency { get; init; }

    public string[]? Operations { get; init; }
}

public enum BenchmarkRating
{
    Excellent,
    Good,
    Poor,
}

public sealed record Response(
    DateTimeOffset StartedAt,
    double ElapsedMs,
    Settings Settings,
    RatingThresholds RatingThresholds,
    IReadOnlyList<OperationResult> Operations);

public sealed record Settings(double DurationSeconds, int RequestsPerOperation, int Concurrency, IReadOnlyList<string> Operations);

/// <summary>Rated on p95: at most <see cref="ExcellentP95Ms"/> excellent, at most <see cref="GoodP95Ms"/> good, else poor; any error makes it poor.</summary>
public sealed record RatingThresholds(double ExcellentP95Ms, double GoodP95Ms);

/// <summary>One operation's requests against ClientsApi, timed from sending to the last byte of the response.</summary>
/// <param name="Errors">Requests that failed, timed out or did not answer 2xx.</param>
/// <param name="P50Ms">Exact nearest-rank percentiles of every request's time; null when none ran.</param>
/// <param name="Rating">Null when the operation was skipped.</param>
/// <param name="StatusCodes">Answers by HTTP status (<c>timeout</c> and <c>unreachable</c> for requests without one).</param>
/// <param name="Cache">Answers by ClientsApi's <c>X-Cache</c> header (HIT, MISS, STALE, BYPASS).</param>
/// <param name="Skipped">Why the operation did not run (no client to read), or null.</param>
public sealed record OperationResult(
    string Operation,
    string Method,
    string Route,
    int Requests,
    int Errors,
    double? MeanMs,
    double? P50Ms,
    double? P95Ms,
    double? P99Ms,
    double? MinMs,
    double? MaxMs,
    double RequestsPerSecond,
    BenchmarkRating? Rating,
    IReadOnlyDictionary<string, int> StatusCodes,
    IReadOnlyDictionary<string, int> Cache,
    string? Skipped);
