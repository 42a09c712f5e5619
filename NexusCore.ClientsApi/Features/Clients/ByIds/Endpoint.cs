using FastEndpoints;
using NexusCore.ClientsApi.Caching;
using NexusCore.ClientsApi.Extensions;

namespace NexusCore.ClientsApi.Features.Clients.ByIds;

/// <summary><c>POST /api/v1/optimized/clients/by-ids</c>: up to 1,000 clients in one query, in request order, with the missing ids.</summary>
public sealed class Endpoint(LookupDatabase db, ReadCache cache) : Endpoint<Request, Response>
{
    public override void Configure()
    {
        Post("by-ids");
        Group<OptimizedClientsGroup>();
        Roles(ApiRoles.Reader);
        Description(d => d.ClearDefaultProduces().WithName("getClientsByIds").Produces<Response>().Problems(413, 415, 503));
        Summary(s =>
        {
            s.Summary = "Clients by ids";
            s.Description = "Up to 1,000 clients in one query, in the order their ids were asked for, and the ids no client has. Role: reader.";
            s.ResponseHeaders.Add(new ResponseHeader(200, "X-Cache") { Description = "HIT, MISS, STALE or BYPASS: how the cache served this read." });
            s.ResponseHeaders.Add(new ResponseHeader(200, "Age") { Description = "Seconds since the cached value was read from Postgres." });
            s.RetryAfterHeaders();
            s.ExampleRequest = new Request { Ids = [1, 2, 3] };
        });
    }

    public override async Task HandleAsync(Request request, CancellationToken ct)
    {
        var ids = request.Ids!;
        var result = await cache.GetAsync(
            QueryType.Search,
            "by-ids:" + string.Join(',', ids),
            [CacheInvalidator.Lists],
            token => Data.FindAsync(db, ids, token),
            etag: ReadCache.NoETag,
            ct);
        await CachedReads.SendAsync(HttpContext, result!, ct);
    }
}
