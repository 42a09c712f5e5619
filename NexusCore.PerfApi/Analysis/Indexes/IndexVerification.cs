using System.Collections.Concurrent;

namespace NexusCore.PerfApi.Analysis.Indexes;

/// <summary>What the advisor concluded about an index it built, once it watched the traffic after the build.</summary>
public enum VerificationVerdict
{
    /// <summary>Still watching: the window has not ended and not enough executions arrived.</summary>
    Verifying,

    /// <summary>The statements it serves got faster by the threshold and the table's writes did not get slower beyond theirs.</summary>
    Kept,

    /// <summary>It did not pay: dropped with <c>DROP INDEX CONCURRENTLY</c>, and not proposed again for <c>RollbackQuarantine</c>.</summary>
    RolledBack,

    /// <summary>It did not pay, but <c>VerifyReportOnly</c> is set: left in place, said here, not proposed again.</summary>
    WouldRollBack,

    /// <summary>Too few executions of the statements it serves within the window to judge: left in place.</summary>
    Inconclusive,

    /// <summary>It did not pay, and the drop failed: <see cref="Verification.Rollback"/> is the statement to run.</summary>
    RollbackFailed,
}

/// <summary>Executions and calls-weighted mean of a group of statements before the build and since it (pg_stat_statements deltas).</summary>
/// <param name="ChangePercent">(after − before) / before of the means; null when either side has no executions.</param>
public sealed record VerificationFigures(long CallsBefore, double? MeanMsBefore, long CallsAfter, double? MeanMsAfter, double? ChangePercent)
{
    public static VerificationFigures From(LatencyReading before, LatencyReading after)
    {
        var meanBefore = before.MeanMs;
        var meanAfter = after.MeanMs;
        double? change = meanBefore is > 0 && meanAfter is { } a ? IndexAnalyzer.Round((a - meanBefore.Value) / meanBefore.Value * 100) : null;
        return new VerificationFigures(before.Calls, Round(meanBefore), after.Calls, Round(meanAfter), change);
    }

    private static double? Round(double? value) => value is { } v ? Math.Round(v, 3) : null;
}

/// <summary>
/// The verification of an applied index: the evidence (reads: the statements it was built for; writes: the
/// application's INSERT, UPDATE and DELETE statements on its table), the verdict and why, and the rollback.
/// </summary>
/// <param name="Deadline">When the verdict is given at the latest (the build's end plus <c>VerifyWindow</c>).</param>
/// <param name="WriteStatements">The write statements counted (texts as pg_stat_statements shows them, at most 20).</param>
/// <param name="Rollback">The <c>DROP INDEX CONCURRENTLY</c> run (or to run) when the verdict is against the index.</param>
/// <param name="NotProposedUntil">When the same index may be proposed again, for a verdict against it.</param>
public sealed record Verification(
    VerificationVerdict Verdict,
    string Reason,
    DateTimeOffset Deadline,
    DateTimeOffset? DecidedAt,
    VerificationFigures Reads,
    VerificationFigures Writes,
    IReadOnlyList<string> WriteStatements,
    double MinReadImprovementPercent,
    double MaxWriteSlowdownPercent,
    string? Rollback,
    DateTimeOffset? NotProposedUntil);

/// <summary>The verdict rule, apart from the database so that it reads as the README says it.</summary>
internal static class VerificationRule
{
    /// <summary>Whether enough ran to decide before the window ends: the reads, and the writes when the table had any.</summary>
    public static bool Enough(VerificationFigures reads, VerificationFigures writes, long executions) =>
        reads.CallsAfter >= executions && (writes.CallsBefore == 0 || writes.CallsAfter >= executions);

    public static (VerificationVerdict Verdict, string Reason) Decide(VerificationFigures reads, VerificationFigures writes, IndexAdvisorOptions options)
    {
        if (reads.CallsAfter < options.MinCallsAfter || reads.ChangePercent is not { } readChange)
        {
            return (VerificationVerdict.Inconclusive,
                $"the statements it serves ran {reads.CallsAfter} times since the build (at least {options.MinCallsAfter} are needed to judge): left in place");
        }

        double? writeChange = writes.CallsAfter >= options.MinCallsAfter ? writes.ChangePercent : null;
        var readsFaster = readChange <= -options.MinReadImprovementPercent;
        var writesSlower = writeChange > options.MaxWriteSlowdownPercent;
        var readsText = readsFaster
            ? $"reads {-readChange:0.#} % faster (at least {options.MinReadImprovementPercent:0.#} % needed)"
            : $"reads {Signed(readChange)} (at least {options.MinReadImprovementPercent:0.#} % faster needed)";
        var writesText = writeChange is { } w
            ? $"writes {Signed(w)} (at most {options.MaxWriteSlowdownPercent:0.#} % slower allowed)"
            : "no writes on the table to compare";
        return readsFaster && !writesSlower
            ? (VerificationVerdict.Kept, $"{readsText}; {writesText}")
            : (options.VerifyReportOnly ? VerificationVerdict.WouldRollBack : VerificationVerdict.RolledBack, $"{readsText}; {writesText}");
    }

    private static string Signed(double change) => change >= 0 ? $"{change:0.#} % slower" : $"{-change:0.#} % faster";
}

/// <summary>
/// Indexes the verification judged against (rolled back, or would have been): not proposed again until their
/// quarantine ends. Keyed by the recommendation's id (schema, table and columns), kept in memory like the applications.
/// </summary>
public sealed class RollbackRegistry(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, (DateTimeOffset Until, string Reason)> _quarantined = new(StringComparer.Ordinal);

    public void Quarantine(string recommendationId, DateTimeOffset until, string reason) => _quarantined[recommendationId] = (until, reason);

    /// <summary>Why the recommendation is not proposed now, or null when it may be.</summary>
    public string? Refusal(string recommendationId)
    {
        if (!_quarantined.TryGetValue(recommendationId, out var entry))
        {
            return null;
        }

        if (entry.Until <= time.GetUtcNow())
        {
            _quarantined.TryRemove(new KeyValuePair<string, (DateTimeOffset, string)>(recommendationId, entry));
            return null;
        }

        return $"{entry.Reason}; not proposed again until {entry.Until:O}";
    }
}
