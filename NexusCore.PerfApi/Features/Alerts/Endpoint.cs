using FastEndpoints;
using Microsoft.Extensions.Options;
using NexusCore.PerfApi.Analysis.Alerts;
using NexusCore.PerfApi.Contract;

namespace NexusCore.PerfApi.Features.Alerts;

/// <summary><c>GET /api/v1/performance/alerts</c> (reader): the active alerts, recent transitions and the thresholds.</summary>
public sealed class Endpoint(AlertBoard board, IOptionsMonitor<AlertOptions> options) : Endpoint<EmptyRequest, Response>
{
    public override void Configure()
    {
        Get("alerts");
        Group<PerformanceGroup>();
        Roles(ApiRoles.Reader);
        Description(d => d.WithName("getAlerts").ClearDefaultProduces().Produces<Response>().ProducesProblems(OpenApiDescriptions.KeyedRoute));
        Summary(s =>
        {
            s.Summary = "Active alerts and their recent starts and stops";
            s.RateLimited();
        });
    }

    public override async Task HandleAsync(EmptyRequest request, CancellationToken ct)
    {
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
