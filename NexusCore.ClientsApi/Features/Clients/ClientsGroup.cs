using FastEndpoints;

namespace NexusCore.ClientsApi.Features.Clients;

/// <summary>The <c>/api/v1/clients</c> routes.</summary>
public sealed class ClientsGroup : Group
{
    public ClientsGroup() => Configure("clients", endpoint => endpoint.Description(d => d.WithTags("Clients")));
}
