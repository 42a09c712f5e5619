using FastEndpoints;
using NexusCore.ClientsApi.Caching;
using NexusCore.ClientsApi.Extensions;

namespace NexusCore.ClientsApi.Features.Cache.Clear;

/// <summary>No parameters and no body.</summary>
public sealed class Request;

/// <summary><c>POST /api/v1/cache/clear</c> (admin): empties the cache on every instance, through the backplane.</summary>
public sealed class Endpoint(CacheInvalidator invalidator) : Endpoint<Request>
{
    public override void Configure()
    {
        Post("clear");
        Group<CacheGroup>();
        Roles(ApiRoles.Admin);
        Description(d => d.ClearDefaultProduces().WithName("clearCache").ClearDefaultAccepts().Produces(204).Problems(503));
        Summary(s =>
        {
            s.Summary = "Clear the client cache on every instance";
            s.Description = "Empties the cache on every instance, through the Redis backplane. Role: admin.";
            s.RetryAfterHeaders();
        });
    }

    public override async Task HandleAsync(Request request, CancellationToken ct)
    {
        await invalidator.ClearAllAsync(ct);
        await Send.NoContentAsync(ct);
    }
}
