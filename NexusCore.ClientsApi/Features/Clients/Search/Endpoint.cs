using FastEndpoints;
using Npgsql;
using NexusCore.ClientsApi.Caching;
using NexusCore.ClientsApi.Features.Clients.Query;

namespace NexusCore.ClientsApi.Features.Clients.Search;

/// <summary>
/// <c>GET /api/v1/optimized/clients/search/advanced</c>: every filter (status and program type lists,
/// created/updated ranges), free text <c>q</c> over names and emails, sort, keyset pages and a count
/// mode (<c>exact</c>, <c>estimated</c>, <c>none</c>).
/// </summary>
public sealed class Endpoint(NpgsqlDataSource db, CursorProtector cursors, ReadCache cache) : EndpointWithoutRequest<ClientPage>
{
    public override void Configure()
    {
        Get("search/advanced");
        Group<OptimizedClientsGroup>();
        Roles(ApiRoles.Reader);
        Description(d => d.Produces<ClientPage>().Produces(304).ProducesProblemFE(400).ProducesProblemFE(401));
        Summary(s => s.Summary = "Advanced client search");
    }

    public override Task HandleAsync(CancellationToken ct) =>
        ClientPages.HandleAsync(this, db, cursors, cache, "search", allowed: null, ct);
}
