using FastEndpoints;

namespace NexusCore.ClientsApi.Features.Clients;

/// <summary>The <c>/api/v1/optimized/clients</c> routes: the seed's optimized endpoints, paths unchanged.</summary>
public sealed class OptimizedClientsGroup : Group
{
    public OptimizedClientsGroup() => Configure("optimized/clients", endpoint => endpoint.Description(d => d.WithTags("Clients (optimized)")));
}
