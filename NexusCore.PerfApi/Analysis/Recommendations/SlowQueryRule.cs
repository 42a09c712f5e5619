using System.Globalization;
using NexusCore.PerfApi.Store;

namespace NexusCore.PerfApi.Analysis.Recommendations;

/// <summary>
/// Statements with a run of at least SLOW_QUERY_THRESHOLD in the window: one recommendation saying how many
/// and which is the slowest ("3 queries over 1 s, consider adding indexes"). High priority when one reached
/// the slow-query alert threshold.
/// </summary>
public sealed class SlowQueryRule : IRecommendationRule
{
    public const int StatementPreviewLength = 160;

    public string Name => "slow_queries";

    public ValueTask<IReadOnlyList<Recommendation>> EvaluateAsync(RecommendationContext context, CancellationToken ct)
    {
        var store = context.Reader.Store;
        var slow = store.Statements.List(new StatementQuery(context.Window, MinMax: context.SlowQueryThreshold, Limit: int.MaxValue));
        if (slow.Count == 0)
        {
            return ValueTask.FromResult<IReadOnlyList<Recommendation>>([]);
        }

        var slowest = slow.MaxBy(s => s.WindowMaxMs)!;
        var threshold = context.SlowQueryThreshold.TotalSeconds;
        var evidence = new Dictionary<string, double>
        {
            ["slowStatements"] = slow.Count,
            ["thresholdSeconds"] = threshold,
            ["runsInWindow"] = slow.Sum(s => s.WindowCount),
            ["slowestMaxMs"] = Math.Round(slowest.WindowMaxMs, 3),
            ["slowestMeanMs"] = Math.Round(slowest.WindowMeanMs, 3),
            ["slowestRuns"] = slowest.WindowCount,
        };
        if (context.SlowQueryThreshold.Ticks * 100 >= store.Samples.ThresholdNanos)
        {
            evidence["slowRuns"] = store.Samples.Slowest(context.Window, context.SlowQueryThreshold, int.MaxValue).Count(s => s.Statement is not null);
        }

        var preview = slowest.Statement.Length > StatementPreviewLength ? slowest.Statement[..StatementPreviewLength] + "…" : slowest.Statement;
        var statements = slow.Count == 1 ? "1 query" : $"{slow.Count} queries";
        IReadOnlyList<Recommendation> advice =
        [
            new Recommendation(
                Name,
                RecommendationCategory.Query,
                RecommendationRules.PriorityFor(slowest.WindowMaxMs >= context.Alerts.SlowQuerySeconds * 1000),
                $"{statements} over {Format(threshold)} s, consider adding indexes",
                $"{statements} ran for at least {Format(threshold)} s in the last {context.WindowText}. The slowest, from {slowest.Service}, " +
                $"took {Format(slowest.WindowMaxMs)} ms (mean {Format(slowest.WindowMeanMs)} ms over {slowest.WindowCount} runs): {preview}. " +
                "Read their plans with EXPLAIN (ANALYZE, BUFFERS) and index the columns they filter and sort on; " +
                "GET /api/v1/performance/slow-queries lists them with their pg_stat_statements figures and a trace to open.",
                "A slow query holds a pooled connection for its whole run and keeps its caller waiting; under load it exhausts the pool.",
                null,
                evidence),
        ];
        return ValueTask.FromResult(advice);
    }

    internal static string Format(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
}
