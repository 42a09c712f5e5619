using FastEndpoints;
using NexusCore.PerfApi.Analysis.Alerts;
using Npgsql;
using StackExchange.Redis;

namespace NexusCore.PerfApi.Features.Health;

/// <summary>
/// <c>GET /api/v1/performance/health</c> (anonymous): <c>{"status":"healthy|degraded|unhealthy"}</c> and nothing
/// else. Postgres down → unhealthy (503); Redis down or an active alert → degraded (the APIs still serve). The
/// reasons and figures (hosts and ports in errors, alert subjects built from telemetry, query and pool figures)
/// are for readers, on <c>/health/details</c>.
/// </summary>
public sealed class Endpoint(NpgsqlDataSource db, IConnectionMultiplexer redis, AlertBoard alerts) : EndpointWithoutRequest<Response>
{
    public override void Configure()
    {
        Get("health");
        Group<PerformanceGroup>();
        AllowAnonymous();
        Description(d => d.Produces<Response>(200).Produces<Response>(503).ProducesProblemFE(400));
        Summary(s => s.Summary = "Health of PerfApi and its dependencies: the status word only");
    }

    public override async Task HandleAsync(CancellationToken ct)
    {
        var parameters = new QueryParameters(HttpContext.Request.Query);
        if (parameters.Errors.Count > 0)
        {
            await this.SendQueryErrorsAsync(parameters.Errors, ct);
            return;
        }

        var health = await Data.AssessAsync(db, redis, alerts, ct);
        await Send.ResponseAsync(new Response(health.Status), health.HttpStatus, ct);
    }
}
