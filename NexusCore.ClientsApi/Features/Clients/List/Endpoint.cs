using FastEndpoints;
using Npgsql;
using NexusCore.ClientsApi.Caching;
using NexusCore.ClientsApi.Features.Clients.Query;

namespace NexusCore.ClientsApi.Features.Clients.List;

/// <summary>
/// <c>GET /api/v1/clients</c>: clients filtered by status and program type, sorted, in keyset pages
/// (<c>limit</c> 1–200, <c>cursor</c> from the previous page's <c>nextCursor</c>).
/// </summary>
public sealed class Endpoint(NpgsqlDataSource db, CursorProtector cursors, ReadCache cache) : EndpointWithoutRequest<ClientPage>
{
    public override void Configure()
    {
        Get("");
        Group<ClientsGroup>();
        Roles(ApiRoles.Reader);
        Description(d => d.Produces<ClientPage>().Produces(304).ProducesProblemFE(400).ProducesProblemFE(401));
        Summary(s => s.Summary = "List clients (status, programType, sort, order, limit, cursor)");
    }

    public override Task HandleAsync(CancellationToken ct) =>
        ClientPages.HandleAsync(this, db, cursors, cache, "list", ClientQueryParser.ListParameters, ct);
}
