using FastEndpoints;

namespace NexusCore.ClientsApi.Features.Clients.Delete;

public sealed class Request
{
    public long Id { get; init; }

    [FromHeader("If-Match", IsRequired = false)]
    public string? IfMatch { get; init; }
}
