namespace NexusCore.PerfApi.Analysis.Recommendations;

/// <summary>
/// One kind of advice. Every registered rule (see <see cref="RecommendationRules.AddRecommendationRules"/>) is
/// asked in turn; a rule returns nothing when its data does not call for advice. Rules that need more than the
/// context (the database, configuration) take it in their constructor: the index advisor is such a rule.
/// </summary>
public interface IRecommendationRule
{
    /// <summary>A stable id, lower case with underscores (<c>slow_queries</c>), in every recommendation it makes.</summary>
    string Name { get; }

    ValueTask<IReadOnlyList<Recommendation>> EvaluateAsync(RecommendationContext context, CancellationToken ct);
}
