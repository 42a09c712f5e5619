using FastEndpoints;
using Npgsql;
using NexusCore.ClientsApi.Caching;
using NexusCore.ClientsApi.Features.Clients.Query;

namespace NexusCore.ClientsApi.Features.Clients.Analytics;

/// <summary>
/// <c>GET /api/v1/optimized/clients/analytics/performance?from=&amp;to=&amp;granularity=</c>: new clients per
/// day, week or month by program type and status, their status distribution, and the active-rate trend.
/// Days are UTC; the default range is the last 30 days.
/// </summary>
public sealed class Endpoint(NpgsqlDataSource db, TimeProvider clock, ReadCache cache) : EndpointWithoutRequest<Response>
{
    public override void Configure()
    {
        Get("analytics/performance");
        Group<OptimizedClientsGroup>();
        Roles(ApiRoles.Reader);
        Description(d => d.Produces<Response>().ProducesProblemFE(400));
        Summary(s => s.Summary = "Client analytics over a date range");
    }

    public override async Task HandleAsync(CancellationToken ct)
    {
        var errors = new List<QueryError>();
        var query = AnalyticsQuery.Parse(HttpContext.Request.Query, DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime), errors);
        if (query is null)
        {
            await this.SendQueryErrorsAsync(errors, ct);
            return;
        }

        var result = await cache.GetAsync(
            QueryType.Analytics,
            $"analytics:{query.From:O}:{query.To:O}:{query.Granularity}",
            [CacheInvalidator.Counts],
            token => Data.ReadAsync(db, query, token),
            etag: null,
            ct);
        await ReadCache.SendAsync(HttpContext, result!, ct);
    }
}
