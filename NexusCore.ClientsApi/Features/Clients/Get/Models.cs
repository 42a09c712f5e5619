namespace NexusCore.ClientsApi.Features.Clients.Get;

public sealed class Request
{
    public long Id { get; init; }
}
