namespace NexusCore.PerfApi.Features.Indexes.Applications;

public sealed class Request
{
    /// <summary>The application's id, from the <c>Location</c> that applying answered with.</summary>
    public string ApplicationId { get; init; } = "";
}
