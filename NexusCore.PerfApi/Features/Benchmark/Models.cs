using FastEndpoints;
using FluentValidation;
using Microsoft.Extensions.Options;
using NexusCore.PerfApi.Benchmark;
using NexusCore.PerfApi.Contract;

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

/// <summary>The request's values against the bounds configured in section <c>Benchmark</c> (read at start).</summary>
public sealed class Validator : Validator<Request>
{
    public Validator(IOptions<BenchmarkOptions> options)
    {
        var settings = options.Value;
        var duration = $"durationSeconds must be greater than 0 and at most {settings.MaxDurationSeconds}.";
        RuleFor(r => r.DurationSeconds)
            .GreaterThan(0.0).WithMessage(duration).WithErrorCode("duration_out_of_range")
            .LessThanOrEqualTo(settings.MaxDurationSeconds).WithMessage(duration).WithErrorCode("duration_out_of_range");
        RuleFor(r => r.RequestsPerOperation).InclusiveBetween(1, settings.MaxRequestsPerOperation)
            .WithMessage($"requestsPerOperation must be from 1 to {settings.MaxRequestsPerOperation}.").WithErrorCode("requests_out_of_range");
        RuleFor(r => r.Concurrency).InclusiveBetween(1, settings.MaxConcurrency)
            .WithMessage($"concurrency must be from 1 to {settings.MaxConcurrency}.").WithErrorCode("concurrency_out_of_range");
        RuleFor(r => r.Operations)
            .MinItems(1).WithMessage("operations must name at least one operation, or be left out for all.").WithErrorCode("operations_empty")
            .MaxItems(BenchmarkOperations.Names.Count)
            .WithMessage($"operations may name at most {BenchmarkOperations.Names.Count} operations.").WithErrorCode("operations_too_many");
        RuleForEach(r => r.Operations ?? Array.Empty<string>()).OverrideIndexer((_, _, _, _) => string.Empty)
            .OneOf(BenchmarkOperations.Names).OverridePropertyName("operations")
            .WithMessage((_, name) => $"'{name}' is not an operation. Known: {string.Join(", ", BenchmarkOperations.Names)}.").WithErrorCode("operation_unknown");
    }
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
