using FastEndpoints;
using Npgsql;
using NexusCore.ClientsApi.Caching;
using NexusCore.ClientsApi.Extensions;
using NexusCore.ClientsApi.Features.Clients.Query;

namespace NexusCore.ClientsApi.Features.Clients.Search;

/// <summary>
/// <c>GET /api/v1/optimized/clients/search/advanced</c>: every filter (status and program type lists,
/// created/updated ranges), free text <c>q</c> over names and emails, sort, keyset pages and a count
/// mode (<c>exact</c>, <c>estimated</c>, <c>none</c>).
/// </summary>
public sealed class Endpoint(NpgsqlDataSource db, CursorProtector cursors, ReadCache cache) : Endpoint<Request, ClientPage>
{
    public override void Configure()
    {
        Get("search/advanced");
        Group<OptimizedClientsGroup>();
        Roles(ApiRoles.Reader);
        Description(d => d.ClearDefaultProduces().WithName("searchClients").Produces<ClientPage>().Produces(304).Problems(503));
        Summary(s =>
        {
            s.Summary = "Search clients";
            s.Description = "Every filter, free text q over names and emails, sort, keyset pages and a count of the matches. Role: reader.";
            s.CachedReadHeaders(etag: true);
            s.RetryAfterHeaders();
        });
    }

    public override Task HandleAsync(Request request, CancellationToken ct) => ClientPages.SendAsync(
        this, db, cursors, cache, "search",
        ClientQueryRules.Filter(request.Status, request.ProgramType, request.CreatedFrom, request.CreatedTo, request.UpdatedFrom, request.UpdatedTo, request.Q),
        request.Sort, request.Order, request.Limit, request.Count, request.Cursor, ct);
}
