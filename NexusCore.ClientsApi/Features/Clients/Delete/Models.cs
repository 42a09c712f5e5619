namespace NexusCore.ClientsApi.Features.Clients.Delete;

public sealed class Request
{
    public long Id { get; init; }
}
