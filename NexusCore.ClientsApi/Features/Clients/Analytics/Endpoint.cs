using FastEndpoints;
using Npgsql;
using NexusCore.ClientsApi.Caching;
using NexusCore.ClientsApi.Extensions;

namespace NexusCore.ClientsApi.Features.Clients.Analytics;

/// <summary>
/// <c>GET /api/v1/optimized/clients/analytics/performance?from=&amp;to=&amp;granularity=</c>: new clients per
/// day, week or month by program type and status, their status distribution, and the active-rate trend.
/// Days are UTC; the default range is the last 30 days.
/// </summary>
public sealed class Endpoint(NpgsqlDataSource db, TimeProvider clock, ReadCache cache) : Endpoint<Request, Response>
{
    public override void Configure()
    {
        Get("analytics/performance");
        Group<OptimizedClientsGroup>();
        Roles(ApiRoles.Reader);
        Description(d => d.ClearDefaultProduces().WithName("getClientAnalytics").Produces<Response>().Produces(304).Problems(503));
        Summary(s =>
        {
            s.Summary = "Client analytics over a date range";
            s.Description = "New clients per day, week or month by program type and status, their status distribution, and the active-rate trend. Days are UTC. Role: reader.";
            s.CachedReadHeaders(etag: true);
            s.RetryAfterHeaders();
        });
    }

    public override async Task HandleAsync(Request request, CancellationToken ct)
    {
        var query = AnalyticsQuery.Of(request, DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime), out var error);
        if (query is null)
        {
            ValidationFailures.Add(error!);
            ThrowIfAnyErrors();
        }

        var result = await cache.GetAsync(
            QueryType.Analytics,
            $"analytics:{query!.From:O}:{query.To:O}:{query.Granularity}",
            [CacheInvalidator.Counts],
            token => Data.ReadAsync(db, query, token),
            etag: null,
            ct);
        await CachedReads.SendAsync(HttpContext, result!, ct);
    }
}
