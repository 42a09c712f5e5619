using FastEndpoints;

namespace NexusCore.ClientsApi.Features.Cache;

/// <summary>The <c>/api/v1/cache</c> routes (admin).</summary>
public sealed class CacheGroup : Group
{
    public CacheGroup() => Configure("cache", endpoint => endpoint.Description(d => d.WithTags("Cache")));
}
