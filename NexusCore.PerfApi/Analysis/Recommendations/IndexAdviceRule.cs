using System.Globalization;
using NexusCore.PerfApi.Analysis.Indexes;

namespace NexusCore.PerfApi.Analysis.Recommendations;

/// <summary>
/// The index advisor's advice among the optimization recommendations (category <c>index</c>): each index to create,
/// with the statement and the planner's cost before and after, and each index to retire, with its drop statement
/// and what it costs. Reads the advisor's cached analysis (see <see cref="IndexAdvisorOptions.AnalysisCacheDuration"/>).
/// </summary>
public sealed class IndexAdviceRule(IndexAdvisor advisor) : IRecommendationRule
{
    public const int QueryPreviewLength = 200;

    private const double BytesPerMb = 1024 * 1024;

    public string Name => "index_advisor";

    public async ValueTask<IReadOnlyList<Recommendation>> EvaluateAsync(RecommendationContext context, CancellationToken ct)
    {
        var analysis = (await advisor.AnalysisAsync(refresh: false, ct)).Analysis;
        var retire = await advisor.RetireAsync(null, ct);
        var advice = new List<Recommendation>();
        foreach (var index in analysis.Recommendations)
        {
            advice.Add(Create(index, context));
        }

        foreach (var index in retire)
        {
            advice.Add(Drop(index, advisor.Options.UnusedWindow));
        }

        foreach (var regression in await advisor.RegressionsAsync(ct))
        {
            advice.Add(Regressed(regression));
        }

        return advice;
    }

    private Recommendation Create(IndexRecommendation index, RecommendationContext context)
    {
        var top = index.Queries[0];
        var columns = string.Join(", ", index.Columns);
        var proven = index.Proof == IndexProof.Hypopg;
        var priority = !proven
            ? RecommendationPriority.Low
            : RecommendationRules.PriorityFor(top.MeanMs >= context.SlowQueryThreshold.TotalMilliseconds);
        var title = proven
            ? $"Index {index.Schema}.{index.Table} ({columns}): planner cost −{Format(index.SavingPercent ?? 0)} %"
            : $"Consider an index on {index.Schema}.{index.Table} ({columns}) (heuristic: HypoPG unavailable)";
        var statements = index.Queries.Count == 1 ? "1 statement filters, joins or sorts" : $"{index.Queries.Count} statements filter, join or sort";
        var proof = proven
            ? $"With a hypothetical index (HypoPG) the planner's cost of its generic plan falls from {Format(top.CostBefore)} to {Format(top.CostAfter ?? 0)}."
            : $"Its generic plan reads the whole table filtering on {columns} (cost {Format(top.CostBefore)}); without HypoPG the gain is not proven.";
        var evidence = new Dictionary<string, double>
        {
            ["statements"] = index.Queries.Count,
            ["calls"] = top.Calls,
            ["meanExecTimeMs"] = top.MeanMs,
            ["totalExecTimeMs"] = index.Queries.Sum(q => q.TotalMs),
            ["costBefore"] = top.CostBefore,
            ["tableRows"] = index.TableRows,
            ["tableSizeMb"] = Math.Round(index.TableSizeBytes / BytesPerMb, 2),
        };
        if (top.CostAfter is { } after)
        {
            evidence["costAfter"] = after;
            evidence["savingPercent"] = top.SavingPercent ?? 0;
        }

        if (index.SavedMsPerHour is { } saved)
        {
            evidence["savedMsPerHour"] = saved;
        }

        if (index.EstimatedSizeBytes is { } size)
        {
            evidence["estimatedIndexSizeMb"] = Math.Round(size / BytesPerMb, 2);
        }

        return new Recommendation(
            Name,
            RecommendationCategory.Index,
            priority,
            title,
            $"{statements} on {index.Schema}.{index.Table} ({columns}). The busiest ({top.Source}" +
            $"{(top.Telemetry is { } seen ? $"; run by {string.Join(", ", seen.Services)}" : "")}): {Preview(top.Query)}, {top.Calls} calls, mean {Format(top.MeanMs)} ms. {proof} " +
            $"Apply it with POST {index.Apply} (admin): it is built concurrently, without blocking writes.",
            index.EstimatedSizeBytes is { } bytes
                ? $"About {Format(bytes / BytesPerMb)} MB of index; every insert and non-HOT update of the table writes one more index entry."
                : "Every insert and non-HOT update of the table writes one more index entry.",
            index.Statement,
            evidence);
    }

    private Recommendation Drop(RetireAdvice index, TimeSpan window)
    {
        var why = index.Reasons[0] switch
        {
            RetireReason.Invalid => "invalid (a failed concurrent build left it)",
            RetireReason.Duplicate => $"a duplicate of {index.CoveredBy}",
            RetireReason.Prefix => $"a prefix of {index.CoveredBy}",
            _ => $"no scans for {FormatWindow(window)}",
        };
        var evidence = new Dictionary<string, double>
        {
            ["sizeMb"] = Math.Round(index.SizeBytes / BytesPerMb, 2),
            ["idxScanTotal"] = index.IdxScanTotal,
            ["observedSeconds"] = index.ObservedSeconds,
            ["windowSeconds"] = window.TotalSeconds,
        };
        if (index.ScansInWindow is { } scans)
        {
            evidence["scansInWindow"] = scans;
        }

        if (index.IndexWritesPerHour is { } writes)
        {
            evidence["indexWritesPerHour"] = writes;
        }

        return new Recommendation(
            Name,
            RecommendationCategory.Index,
            index.Reasons[0] == RetireReason.Invalid ? RecommendationPriority.Medium : RecommendationPriority.Low,
            $"Drop index {index.Schema}.{index.Index}: {why}",
            $"{index.Definition}. Reasons: {string.Join(", ", index.Reasons.Select(r => r.ToString().ToLowerInvariant()))}. " +
            "Dropping it concurrently does not block reads or writes.",
            $"It takes {Format(index.SizeBytes / BytesPerMb)} MB and is written on every insert and non-HOT update of {index.Schema}.{index.Table}" +
            (index.IndexWritesPerHour is { } perHour ? $" (about {Format(perHour)} entries an hour lately)." : "."),
            index.Statement,
            evidence);
    }

    private Recommendation Regressed(StatementRegression regression) => new(
        Name,
        RecommendationCategory.Index,
        RecommendationPriority.High,
        $"Regression: a statement is {Format(regression.ChangePercent)} % slower than its baseline",
        $"{Preview(regression.Query)}: mean {Format(regression.CurrentMeanMs)} ms over {Format(regression.CurrentSeconds)} s ({regression.CurrentCalls} calls), " +
        $"{Format(regression.BaselineMeanMs)} ms before ({regression.BaselineCalls} calls). " +
        (regression.Causes.Count > 0 ? "Likely cause: " + string.Join("; ", regression.Causes) + "." : "No cause visible in the statistics."),
        $"About {Format((regression.CurrentMeanMs - regression.BaselineMeanMs) * regression.CurrentCalls)} ms more statement time over the window.",
        regression.Recommendation,
        new Dictionary<string, double>
        {
            ["baselineMeanMs"] = regression.BaselineMeanMs,
            ["currentMeanMs"] = regression.CurrentMeanMs,
            ["changePercent"] = regression.ChangePercent,
            ["currentCalls"] = regression.CurrentCalls,
            ["baselineCalls"] = regression.BaselineCalls,
        });

    private static string Preview(string query) => query.Length > QueryPreviewLength ? query[..QueryPreviewLength] + "…" : query;

    private static string Format(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);

    private static string FormatWindow(TimeSpan window) =>
        window.TotalHours >= 1 && window.TotalHours % 1 == 0 ? $"{window.TotalHours:0} h"
        : window.TotalMinutes >= 1 && window.TotalMinutes % 1 == 0 ? $"{window.TotalMinutes:0} min"
        : $"{window.TotalSeconds:0} s";
}
