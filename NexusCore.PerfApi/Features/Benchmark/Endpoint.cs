using FastEndpoints;
using Microsoft.Extensions.Options;
using NexusCore.PerfApi.Benchmark;
using NexusCore.PerfApi.Integrations;

namespace NexusCore.PerfApi.Features.Benchmark;

/// <summary>
/// <c>POST /api/v1/performance/benchmark</c> (admin): a short, bounded benchmark of ClientsApi's read routes
/// (dashboard, search, get by id, by ids, analytics) with the caller's own key (PerfApi holds none); per operation: requests, errors,
/// mean and p50/p95/p99 ms and a rating. One at a time: 409 while one runs.
/// </summary>
public sealed class Endpoint(BenchmarkRunner runner, ClientsApiClient clientsApi, IOptionsMonitor<BenchmarkOptions> options)
    : Endpoint<Request, Response>
{
    public override void Configure()
    {
        Post("benchmark");
        Group<PerformanceGroup>();
        Roles(ApiRoles.Admin);
        // No body at all runs the defaults; a body must be JSON (checked in HandleAsync, answered as a problem).
        Description(d => d.ClearDefaultAccepts().Produces<Response>().ProducesProblemFE(400).ProducesProblemFE(401).ProducesProblemFE(403).ProducesProblemFE(409));
        Summary(s => s.Summary = "Benchmark ClientsApi's read routes for a few seconds");
    }

    public override async Task HandleAsync(Request request, CancellationToken ct)
    {
        if (HasBody(HttpContext.Request) && !HttpContext.Request.HasJsonContentType())
        {
            await SendProblemAsync(StatusCodes.Status415UnsupportedMediaType, "content_type_unsupported", "The body, when there is one, must be JSON (application/json).");
            return;
        }

        var settings = options.CurrentValue;
        var parameters = new QueryParameters(HttpContext.Request.Query);
        var errors = parameters.Errors.Concat(Check(request, settings)).ToList();
        if (errors.Count > 0)
        {
            await this.SendQueryErrorsAsync(errors, ct);
            return;
        }

        var names = request.Operations?.Distinct(StringComparer.Ordinal).ToList() ?? [.. BenchmarkOperations.Names];
        var plan = new BenchmarkPlan(
            TimeSpan.FromSeconds(request.DurationSeconds ?? settings.DefaultDurationSeconds),
            request.RequestsPerOperation ?? settings.DefaultRequestsPerOperation,
            request.Concurrency ?? settings.DefaultConcurrency,
            BenchmarkOperations.All.Where(o => names.Contains(o.Name)).ToList(),
            new RatingThresholds(settings.ExcellentP95Ms, settings.GoodP95Ms));

        var startedAt = DateTimeOffset.UtcNow;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var results = await runner.TryRunAsync(clientsApi, ApiKeyAuthentication.PresentedKey(HttpContext.Request)!, plan, ct);
        if (results is null)
        {
            await SendProblemAsync(StatusCodes.Status409Conflict, "benchmark_running", "A benchmark is already running; retry when it has finished.");
            return;
        }

        await Send.OkAsync(
            new Response(
                startedAt,
                System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds,
                new Settings(plan.Duration.TotalSeconds, plan.RequestsPerOperation, plan.Concurrency, plan.Operations.Select(o => o.Name).ToList()),
                plan.Ratings,
                results),
            ct);
    }

    /// <summary>The request's values against the configured bounds.</summary>
    internal static IEnumerable<QueryError> Check(Request request, BenchmarkOptions settings)
    {
        if (request.DurationSeconds is { } duration && !(duration > 0 && duration <= settings.MaxDurationSeconds))
        {
            yield return new("durationSeconds", $"durationSeconds must be greater than 0 and at most {settings.MaxDurationSeconds}.", "duration_out_of_range");
        }

        if (request.RequestsPerOperation is { } requests && (requests < 1 || requests > settings.MaxRequestsPerOperation))
        {
            yield return new("requestsPerOperation", $"requestsPerOperation must be from 1 to {settings.MaxRequestsPerOperation}.", "requests_out_of_range");
        }

        if (request.Concurrency is { } concurrency && (concurrency < 1 || concurrency > settings.MaxConcurrency))
        {
            yield return new("concurrency", $"concurrency must be from 1 to {settings.MaxConcurrency}.", "concurrency_out_of_range");
        }

        if (request.Operations is { } operations)
        {
            if (operations.Length == 0)
            {
                yield return new("operations", "operations must name at least one operation, or be left out for all.", "operations_empty");
            }

            foreach (var name in operations.Where(name => !BenchmarkOperations.Names.Contains(name)))
            {
                yield return new("operations", $"'{name}' is not an operation. Known: {string.Join(", ", BenchmarkOperations.Names)}.", "operation_unknown");
            }
        }
    }

    private static bool HasBody(HttpRequest request) =>
        request.ContentLength is > 0 || (request.ContentLength is null && request.Headers.TransferEncoding.Count > 0) || request.ContentType is not null;

    private Task SendProblemAsync(int status, string code, string detail) =>
        Send.ResultAsync(TypedResults.Problem(detail: detail, statusCode: status, extensions: new Dictionary<string, object?> { ["code"] = code }));
}
