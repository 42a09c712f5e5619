using FastEndpoints;
using Npgsql;
using NexusCore.ClientsApi.Caching;

namespace NexusCore.ClientsApi.Features.Clients.Dashboard;

/// <summary><c>GET /api/v1/optimized/clients/dashboard</c>: total, active, PRIME and LONGEVITY clients and the active rate, exact.</summary>
public sealed class Endpoint(NpgsqlDataSource db, ReadCache cache) : EndpointWithoutRequest<Response>
{
    public override void Configure()
    {
        Get("dashboard");
        Group<OptimizedClientsGroup>();
        Roles(ApiRoles.Reader);
        Options(route => route.WithMetadata(new NoQueryParametersMetadata()));
        Description(d => d.Produces<Response>().Produces(304));
        Summary(s => s.Summary = "Client dashboard metrics");
    }

    public override async Task HandleAsync(CancellationToken ct)
    {
        var result = await cache.GetAsync(QueryType.Count, "dashboard", [CacheInvalidator.Counts], token => Data.ReadAsync(db, token), etag: null, ct);
        await ReadCache.SendAsync(HttpContext, result!, ct);
    }
}
