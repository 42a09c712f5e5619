using FastEndpoints;
using Npgsql;
using NexusCore.ClientsApi.Caching;
using NexusCore.ClientsApi.Extensions;

namespace NexusCore.ClientsApi.Features.Clients.Dashboard;

/// <summary><c>GET /api/v1/optimized/clients/dashboard</c>: total, active, PRIME and LONGEVITY clients and the active rate, exact.</summary>
public sealed class Endpoint(NpgsqlDataSource db, ReadCache cache) : Endpoint<Request, Response>
{
    public override void Configure()
    {
        Get("dashboard");
        Group<OptimizedClientsGroup>();
        Roles(ApiRoles.Reader);
        Description(d => d.ClearDefaultProduces().WithName("getClientDashboard").Produces<Response>().Produces(304).Problems(503));
        Summary(s =>
        {
            s.Summary = "Client dashboard metrics";
            s.Description = "Total, active, PRIME and LONGEVITY clients and the active rate (percent, two decimals), exact. Role: reader.";
            s.CachedReadHeaders(etag: true);
            s.RetryAfterHeaders();
        });
    }

    public override async Task HandleAsync(Request request, CancellationToken ct)
    {
        var result = await cache.GetAsync(QueryType.Count, "dashboard", [CacheInvalidator.Counts], token => Data.ReadAsync(db, token), etag: null, ct);
        await CachedReads.SendAsync(HttpContext, result!, ct);
    }
}
