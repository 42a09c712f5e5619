namespace NexusCore.PerfApi.Analysis.Recommendations;

public enum RecommendationCategory
{
    Query,
    Cache,
    ConnectionPool,
    Memory,
    Index,
}

public enum RecommendationPriority
{
    High,
    Medium,
    Low,
}

/// <summary>One piece of advice and the numbers behind it.</summary>
/// <param name="Rule">The <see cref="IRecommendationRule.Name"/> that made it.</param>
/// <param name="Impact">What the problem costs, or what acting on it gains.</param>
/// <param name="Action">The concrete change to try (a setting and its value), when there is one.</param>
/// <param name="Evidence">The figures that triggered it, by name (camelCase, units in the name).</param>
public sealed record Recommendation(
    string Rule,
    RecommendationCategory Category,
    RecommendationPriority Priority,
    string Title,
    string Description,
    string Impact,
    string? Action,
    IReadOnlyDictionary<string, double> Evidence);
