using FastEndpoints;
using NexusCore.PerfApi.Contract;

namespace NexusCore.PerfApi.Features;

/// <summary>The <c>/api/v1/performance</c> routes, tagged <c>Performance</c>, each with the query-string rules (<see cref="QueryParameterRules"/>).</summary>
public sealed class PerformanceGroup : Group
{
    public PerformanceGroup() => Configure("performance", endpoint =>
    {
        endpoint.Description(d => d.WithTags("Performance"));
        QueryParameterRules.Apply(endpoint);
    });
}
