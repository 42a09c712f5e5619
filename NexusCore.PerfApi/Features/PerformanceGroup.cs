using FastEndpoints;

namespace NexusCore.PerfApi.Features;

/// <summary>The <c>/api/v1/performance</c> routes.</summary>
public sealed class PerformanceGroup : Group
{
    public PerformanceGroup() => Configure("performance", endpoint => endpoint.Description(d => d.WithTags("Performance")));
}
