using FastEndpoints;
using NexusCore.PerfApi.Analysis.Alerts;
using NexusCore.PerfApi.Contract;
using Npgsql;
using StackExchange.Redis;

namespace NexusCore.PerfApi.Features.Health;

/// <summary>
/// <c>GET /api/v1/performance/health</c> (anonymous): <c>{"status":"healthy|degraded|unhealthy"}</c> and nothing
/// else. Postgres down → unhealthy (503); Redis down or an active alert → degraded (the APIs still serve). The
/// reasons and figures (hosts and ports in errors, alert subjects built from telemetry, query and pool figures)
/// are for readers, on <c>/health/details</c>.
/// </summary>
public sealed class Endpoint(NpgsqlDataSource db, IConnectionMultiplexer redis, AlertBoard alerts) : Endpoint<EmptyRequest, Response>
{
    public override void Configure()
    {
        Get("health");
        Group<PerformanceGroup>();
        AllowAnonymous();
        Description(d => d.WithName("getHealth").ClearDefaultProduces().Produces<Response>(200).Produces<Response>(503)
            .ProducesProblems(OpenApiDescriptions.AnyRoute));
        Summary(s =>
        {
            s.Summary = "Health of PerfApi and its dependencies: the status word only";
            s.Description = "No key. 200 `healthy` or `degraded`; 503 `unhealthy` (Postgres does not answer). Why, and every figure, is on `health/details`.";
            s.Responses[503] = "Unhealthy: `{\"status\":\"unhealthy\"}`.";
            s.ResponseExamples[200] = new Response(HealthStatus.Healthy);
            s.ResponseExamples[503] = new Response(HealthStatus.Unhealthy);
            s.RateLimited();
        });
    }

    public override async Task HandleAsync(EmptyRequest request, CancellationToken ct)
    {
        var health = await Data.AssessAsync(db, redis, alerts, ct);
        await Send.ResponseAsync(new Response(health.Status), health.HttpStatus, ct);
    }
}
