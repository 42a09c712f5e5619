using FastEndpoints;
using NexusCore.ClientsApi.Caching;

namespace NexusCore.ClientsApi.Features.Cache.Clear;

/// <summary><c>POST /api/v1/cache/clear</c> (admin): empties the cache on every instance, through the backplane.</summary>
public sealed class Endpoint(CacheInvalidator invalidator) : EndpointWithoutRequest
{
    public override void Configure()
    {
        Post("clear");
        Group<CacheGroup>();
        Roles(ApiRoles.Admin);
        Description(d => d.Produces(204));
        Summary(s => s.Summary = "Clear the client cache on every instance");
    }

    public override async Task HandleAsync(CancellationToken ct)
    {
        await invalidator.ClearAllAsync(ct);
        await Send.NoContentAsync(ct);
    }
}
