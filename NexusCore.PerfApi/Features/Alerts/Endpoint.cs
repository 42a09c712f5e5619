using FastEndpoints;
using Microsoft.Extensions.Options;
using NexusCore.PerfApi.Analysis.Alerts;

namespace NexusCore.PerfApi.Features.Alerts;

/// <summary><c>GET /api/v1/performance/alerts</c> (reader): the active alerts, recent transitions and the thresholds.</summary>
public sealed class Endpoint(AlertBoard board, IOptionsMonitor<AlertOptions> options) : EndpointWithoutRequest<Response>
{
    public override void Configure()
    {
        Get("alerts");
        Group<PerformanceGroup>();
        Roles(ApiRoles.Reader);
        Description(d => d.Produces<Response>().ProducesProblemFE(400).ProducesProblemFE(401).ProducesProblemFE(403));
        Summary(s => s.Summary = "Active alerts and their recent starts and stops");
    }

    public override async Task HandleAsync(CancellationToken ct)
    {
        var parameters = new QueryParameters(HttpContext.Request.Query);
        if (parameters.Errors.Count > 0)
        {
            await this.SendQueryErrorsAsync(parameters.Errors, ct);
            return;
        }

        var settings = options.CurrentValue;
        await Send.OkAsync(
            new Response(
                board.LastEvaluatedAt,
                new Thresholds(
                    settings.SlowQuerySeconds,
                    settings.CacheHitRatePercent,
                    settings.MinCacheLookups,
                    settings.PoolUtilizationPercent,
                    settings.CacheSizeMb,
                    settings.Window.TotalSeconds,
                    settings.EvaluationInterval.TotalSeconds),
                board.Active,
                board.Recent),
            ct);
    }
}
