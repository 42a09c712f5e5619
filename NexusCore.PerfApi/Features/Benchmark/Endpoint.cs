using FastEndpoints;
using Microsoft.Extensions.Options;
using NexusCore.PerfApi.Benchmark;
using NexusCore.PerfApi.Contract;
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
        // No body at all runs the defaults; a body must be JSON (JsonBodyWhenPresent answers 415 otherwise).
        JsonBodyWhenPresent.Apply(Definition);
        Description(d => d.WithName("runBenchmark").ClearDefaultAccepts().WithMetadata(new OptionalJsonBody(typeof(Request)))
            .ClearDefaultProduces().Produces<Response>()
            .ProducesProblems([.. OpenApiDescriptions.KeyedRoute, .. OpenApiDescriptions.BodyRoute, 409]));
        Summary(s =>
        {
            s.Summary = "Benchmark ClientsApi's read routes for a few seconds";
            s.Description = "Runs with the caller's own key. Every field is optional; the defaults and bounds are in section `Benchmark` " +
                            "(durationSeconds at most 10, requestsPerOperation at most 1000, concurrency at most 8 by default). " +
                            "409 `benchmark_running` while another one runs.";
            s.ExampleRequest = new Request { DurationSeconds = 2, RequestsPerOperation = 50, Concurrency = 2, Operations = ["dashboard", "search"] };
            s.RateLimited();
        });
    }

    public override async Task HandleAsync(Request request, CancellationToken ct)
    {
        var settings = options.CurrentValue;
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
            await Send.ResultAsync(TypedResults.Problem(
                detail: "A benchmark is already running; retry when it has finished.",
                statusCode: StatusCodes.Status409Conflict,
                extensions: new Dictionary<string, object?> { ["code"] = "benchmark_running" }));
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
}
