using FastEndpoints;
using NexusCore.ClientsApi.Caching;
using NexusCore.ClientsApi.Extensions;

namespace NexusCore.ClientsApi.Features.Clients.Get;

/// <summary><c>GET /api/v1/clients/{id}</c>: one client (cached; its ETag is the client's version), or 404.</summary>
public sealed class Endpoint(LookupDatabase db, ReadCache cache) : Endpoint<Request, Client>
{
    /// <summary>The route's name and operation id; a create's Location names it.</summary>
    public const string Name = "getClient";

    public override void Configure()
    {
        Get("{id}");
        Group<ClientsGroup>();
        Roles(ApiRoles.Reader);
        Description(d => d.ClearDefaultProduces().WithName(Name).Produces<Client>().Produces(304).Problems(404, 503));
        Summary(s =>
        {
            s.Summary = "Get a client by id";
            s.Description = "One client; its ETag is \"id.version\", which every update changes. Role: reader.";
            s.CachedReadHeaders(etag: true);
            s.RetryAfterHeaders();
        });
    }

    public override async Task HandleAsync(Request request, CancellationToken ct)
    {
        var result = await cache.GetOrNullAsync(
            QueryType.Find,
            $"find:{request.Id}",
            [CacheInvalidator.Client(request.Id), CacheInvalidator.Finds],
            token => Data.FindAsync(db.Source, request.Id, token),
            ClientETag.For,
            ct);

        if (result is null)
        {
            await Send.ResultAsync(ClientProblems.NotFound(request.Id));
            return;
        }

        await CachedReads.SendAsync(HttpContext, result, ct);
    }
}
