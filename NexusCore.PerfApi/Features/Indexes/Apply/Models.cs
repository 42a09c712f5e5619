using NexusCore.PerfApi.Analysis.Indexes;
namespace NexusCore.PerfApi.Features.Indexes.Apply;

/// <summary>The recommendation (route) and, optionally, how long the build may wait for locks.</summary>
/// <param name="LockTimeoutSeconds">The build's lock_timeout; default <c>IndexAdvisor:LockTimeout</c> (10 s), 0.01 to 600.</param>
public sealed class Request
{
    public string Id { get; init; } = "";

    public double? LockTimeoutSeconds { get; init; }
}
