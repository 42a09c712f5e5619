using FastEndpoints;
using Npgsql;
using NexusCore.ClientsApi.Caching;
using NexusCore.ClientsApi.Extensions;
using NexusCore.ClientsApi.Features.Clients.Query;

namespace NexusCore.ClientsApi.Features.Clients.List;

/// <summary>
/// <c>GET /api/v1/clients</c>: clients filtered by status and program type, sorted, in keyset pages
/// (<c>limit</c> 1–200, <c>cursor</c> from the previous page's <c>nextCursor</c>).
/// </summary>
public sealed class Endpoint(NpgsqlDataSource db, CursorProtector cursors, ReadCache cache) : Endpoint<Request, ClientPage>
{
    public override void Configure()
    {
        Get("");
        Group<ClientsGroup>();
        Roles(ApiRoles.Reader);
        Description(d => d.ClearDefaultProduces().WithName("listClients").Produces<ClientPage>().Produces(304).Problems(503));
        Summary(s =>
        {
            s.Summary = "List clients";
            s.Description = "Clients filtered by status and program type, sorted, in keyset pages: pass a page's nextCursor as cursor for the next. Role: reader.";
            s.CachedReadHeaders(etag: true);
            s.RetryAfterHeaders();
        });
    }

    public override Task HandleAsync(Request request, CancellationToken ct) => ClientPages.SendAsync(
        this, db, cursors, cache, "list", ClientQueryRules.Filter(request.Status, request.ProgramType),
        request.Sort, request.Order, request.Limit, CountMode.None, request.Cursor, ct);
}
