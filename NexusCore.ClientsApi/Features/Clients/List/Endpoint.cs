using FastEndpoints;
using Npgsql;
using NexusCore.ClientsApi.Caching;
using NexusCore.ClientsApi.Features.Clients.Query;

namespace NexusCore.ClientsApi.Features.Clients.List;

/// <summary>
/// <c>GET /api/v1/clients</c>: clients filtered by status and program type, sorted, in keyset pages
/// (<c>limit</c> 1–200, <c>cursor</c> from the previous page's <c>nextCursor</c>).
/// </summary>
public sealed class Endpoint(NpgsqlDataSource db, CursorSigner signer, ReadCache cache) : EndpointWithoutRequest<ClientPage>
{
    public override void Configure()
    {
        Get("");
        Group<ClientsGroup>();
        Roles(ApiRoles.Reader);
        Description(d => d.Produces<ClientPage>().Produces(304).ProducesProblemFE(400).ProducesProblemFE(401));
        Summary(s => s.Summary = "List clients (status, programType, sort, order, limit, cursor)");
    }

    public override async Task HandleAsync(CancellationToken ct)
    {
        var errors = new List<QueryError>();
        var query = ClientQueryParser.ParsePage(HttpContext.Request.Query, signer, errors, ClientQueryParser.ListParameters);
        if (query is null)
        {
            await this.SendQueryErrorsAsync(errors, ct);
            return;
        }

        var result = await cache.GetAsync(
            QueryType.Search,
            "list:" + query.Canonical(),
            [CacheInvalidator.Lists],
            token => ClientPages.ReadAsync(db, signer, query, token),
            etag: null,
            ct);
        await ReadCache.SendAsync(HttpContext, result!, ct);
    }
}
