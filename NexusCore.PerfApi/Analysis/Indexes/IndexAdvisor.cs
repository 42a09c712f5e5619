using Microsoft.Extensions.Options;
using NexusCore.PerfApi.Analysis.Performance;
using NexusCore.ServiceDefaults;

namespace NexusCore.PerfApi.Analysis.Indexes;

/// <summary>An analysis as a read gets it.</summary>
/// <param name="Refreshed">Whether the analysis started after the read asked for it.</param>
/// <param name="NextRefreshAt">The earliest a read may start a new analysis (see <see cref="IndexAdvisorOptions.MinRefreshInterval"/>).</param>
public sealed record AnalysisRead(IndexAnalysis Analysis, bool Refreshed, DateTimeOffset NextRefreshAt);

/// <summary>
/// What the index endpoints and the recommendation rule ask: an analysis (reused for
/// <see cref="IndexAdvisorOptions.AnalysisCacheDuration"/>, one running at a time, and none started sooner than
/// <see cref="IndexAdvisorOptions.MinRefreshInterval"/> after the previous one ended) and the indexes to retire.
/// An analysis plans dozens of statements: a reader looping on <c>refresh=true</c> gets the latest one back instead
/// of keeping the database busy.
/// </summary>
public sealed class IndexAdvisor
{
    private readonly IndexAnalyzer _analyzer;
    private readonly IndexRetirement _retirement;
    private readonly IOptionsMonitor<IndexAdvisorOptions> _options;
    private readonly IOptionsMonitor<SlowQueryOptions> _slowQueries;
    private readonly TimeProvider _time;
    private readonly RollbackRegistry _rollbacks;
    private readonly RegressionWatch _regressions;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private IndexAnalysis? _cached;
    /// <summary>When the last analysis ended (UTC ticks; 0 before the first): read without the gate, so kept atomic.</summary>
    private long _lastEndedTicks;
    private long _generation;

    public IndexAdvisor(
        IndexAnalyzer analyzer,
        IndexRetirement retirement,
        IOptionsMonitor<IndexAdvisorOptions> options,
        IOptionsMonitor<SlowQueryOptions> slowQueries,
        RollbackRegistry rollbacks,
        RegressionWatch regressions,
        TimeProvider time)
    {
        _regressions = regressions;
        _rollbacks = rollbacks;
        _analyzer = analyzer;
        _retirement = retirement;
        _options = options;
        _slowQueries = slowQueries;
        _time = time;
    }

    public IndexAdvisorOptions Options => _options.CurrentValue;

    /// <summary>
    /// The latest analysis if it is recent enough; with <paramref name="refresh"/>, one that started after this
    /// call (waiting for a running one only when it started after the call too), unless the previous analysis
    /// ended less than <see cref="IndexAdvisorOptions.MinRefreshInterval"/> ago: then the latest one, not refreshed.
    /// </summary>
    public async Task<AnalysisRead> AnalysisAsync(bool refresh, CancellationToken ct)
    {
        var askedAt = _time.GetUtcNow();
        if (!refresh && Fresh(askedAt) is { } cached)
        {
            return Read(cached, askedAt);
        }

        await _gate.WaitAsync(ct);
        try
        {
            var current = Volatile.Read(ref _cached);
            if (current is not null)
            {
                if (refresh ? current.StartedAt >= askedAt : Fresh(askedAt) is not null)
                {
                    return Read(current, askedAt);
                }

                // Rate limit: no new analysis yet; the latest one, and when the next may start.
                if (_time.GetUtcNow() < NextRefreshAt())
                {
                    return Read(current, askedAt);
                }
            }

            var generation = Interlocked.Read(ref _generation);
            IndexAnalysis analysis;
            try
            {
                analysis = await _analyzer.AnalyzeAsync(_options.CurrentValue, _slowQueries.CurrentValue.Threshold, ct);
                await _retirement.CheckPlansAsync(_options.CurrentValue, ct);
            }
            finally
            {
                Volatile.Write(ref _lastEndedTicks, _time.GetUtcNow().UtcTicks);
            }

            if (Interlocked.Read(ref _generation) == generation)
            {
                Volatile.Write(ref _cached, analysis);
            }

            return Read(analysis, askedAt);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Forgets the cached analysis (an index was built or dropped: the advice changed), so the next read analyses
    /// whatever the interval: there is no analysis left to give instead. Builds run one at a time.
    /// </summary>
    public void Invalidate()
    {
        Interlocked.Increment(ref _generation);
        Volatile.Write(ref _cached, null);
    }

    /// <summary>Statements slower now than in their baseline, with the likely causes.</summary>
    public Task<IReadOnlyList<StatementRegression>> RegressionsAsync(CancellationToken ct) => _regressions.EvaluateAsync(_options.CurrentValue, ct);

    /// <summary>Indexes to retire, unused meaning no scans over <paramref name="unusedWindow"/> (default <see cref="IndexAdvisorOptions.UnusedWindow"/>).</summary>
    public Task<IReadOnlyList<RetireAdvice>> RetireAsync(TimeSpan? unusedWindow, CancellationToken ct) =>
        _retirement.EvaluateAsync(_options.CurrentValue, unusedWindow ?? _options.CurrentValue.UnusedWindow, ct);

    private AnalysisRead Read(IndexAnalysis analysis, DateTimeOffset askedAt) => new(Ranked(WithoutRolledBack(analysis)), analysis.StartedAt >= askedAt, NextRefreshAt());

    /// <summary>
    /// Each recommendation with the time it would save per hour of current traffic: for each statement it serves, its
    /// executions per hour (pg_stat_statements over the last hour watched: only calls that reached the database, so
    /// those the cache answered are not counted) × its mean × the planner's saving; sorted by it, heuristic advice
    /// (no proven saving) last.
    /// </summary>
    private IndexAnalysis Ranked(IndexAnalysis analysis)
    {
        if (analysis.Recommendations.Count == 0)
        {
            return analysis;
        }

        var rates = _regressions.CallsPerHour();
        var ranked = analysis.Recommendations.Select(r =>
        {
            double? saved = null;
            foreach (var query in r.Queries)
            {
                if (query.SavingPercent is { } saving && rates.TryGetValue(query.Query, out var perHour))
                {
                    saved = (saved ?? 0) + perHour * query.MeanMs * saving / 100;
                }
            }

            return r with { SavedMsPerHour = saved is { } s ? Math.Round(s, 1) : null };
        });
        return analysis with
        {
            Recommendations = ranked.OrderByDescending(r => r.SavedMsPerHour.HasValue).ThenByDescending(r => r.SavedMsPerHour ?? 0).ToList(),
        };
    }

    /// <summary>
    /// The analysis without the recommendations whose index was applied and judged against (<see cref="RollbackRegistry"/>):
    /// their statements say so instead, so the same index is not proposed again until the quarantine ends.
    /// </summary>
    private IndexAnalysis WithoutRolledBack(IndexAnalysis analysis)
    {
        var refused = analysis.Recommendations.Select(r => (Recommendation: r, Refusal: _rollbacks.Refusal(r.Id))).Where(r => r.Refusal is not null).ToList();
        if (refused.Count == 0)
        {
            return analysis;
        }

        var byQuery = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (recommendation, refusal) in refused)
        {
            foreach (var query in recommendation.Queries)
            {
                byQuery.TryAdd(query.Query, refusal!);
            }
        }

        return analysis with
        {
            Recommendations = analysis.Recommendations.Except(refused.Select(r => r.Recommendation)).ToList(),
            Statements = analysis.Statements
                .Select(s => s.Outcome == StatementOutcome.Recommended && byQuery.TryGetValue(s.Query, out var why) ? s with { Outcome = StatementOutcome.RolledBack, Detail = why } : s)
                .ToList(),
        };
    }

    private DateTimeOffset NextRefreshAt() => Volatile.Read(ref _lastEndedTicks) is > 0 and var ended
        ? new DateTimeOffset(ended, TimeSpan.Zero) + _options.CurrentValue.MinRefreshInterval
        : _time.GetUtcNow();

    private IndexAnalysis? Fresh(DateTimeOffset now) =>
        Volatile.Read(ref _cached) is { } cached && now - cached.StartedAt < _options.CurrentValue.AnalysisCacheDuration ? cached : null;
}
