using Microsoft.Extensions.Options;
using NexusCore.PerfApi.Performance;

namespace NexusCore.PerfApi.Features.Indexes.Advisor;

/// <summary>
/// What the index endpoints and the recommendation rule ask: an analysis (reused for
/// <see cref="IndexAdvisorOptions.AnalysisCacheDuration"/>, one running at a time) and the indexes to retire.
/// </summary>
public sealed class IndexAdvisor
{
    private readonly IndexAnalyzer _analyzer;
    private readonly IndexRetirement _retirement;
    private readonly IOptionsMonitor<IndexAdvisorOptions> _options;
    private readonly IOptionsMonitor<SlowQueryOptions> _slowQueries;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private IndexAnalysis? _cached;
    private long _generation;

    public IndexAdvisor(
        IndexAnalyzer analyzer,
        IndexRetirement retirement,
        IOptionsMonitor<IndexAdvisorOptions> options,
        IOptionsMonitor<SlowQueryOptions> slowQueries,
        TimeProvider time)
    {
        _analyzer = analyzer;
        _retirement = retirement;
        _options = options;
        _slowQueries = slowQueries;
        _time = time;
    }

    public IndexAdvisorOptions Options => _options.CurrentValue;

    /// <summary>
    /// The latest analysis if it is recent enough; with <paramref name="refresh"/>, one that started after this
    /// call (waiting for a running one only when it started after the call too).
    /// </summary>
    public async Task<IndexAnalysis> AnalysisAsync(bool refresh, CancellationToken ct)
    {
        var askedAt = _time.GetUtcNow();
        if (!refresh && Fresh(askedAt) is { } cached)
        {
            return cached;
        }

        await _gate.WaitAsync(ct);
        try
        {
            var current = Volatile.Read(ref _cached);
            if (current is not null && (refresh ? current.StartedAt >= askedAt : Fresh(askedAt) is not null))
            {
                return current;
            }

            var generation = Interlocked.Read(ref _generation);
            var analysis = await _analyzer.AnalyzeAsync(_options.CurrentValue, _slowQueries.CurrentValue.Threshold, ct);
            if (Interlocked.Read(ref _generation) == generation)
            {
                Volatile.Write(ref _cached, analysis);
            }

            return analysis;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Forgets the cached analysis (an index was built or dropped: the advice changed).</summary>
    public void Invalidate()
    {
        Interlocked.Increment(ref _generation);
        Volatile.Write(ref _cached, null);
    }

    /// <summary>Indexes to retire, unused meaning no scans over <paramref name="unusedWindow"/> (default <see cref="IndexAdvisorOptions.UnusedWindow"/>).</summary>
    public Task<IReadOnlyList<RetireAdvice>> RetireAsync(TimeSpan? unusedWindow, CancellationToken ct) =>
        _retirement.EvaluateAsync(_options.CurrentValue, unusedWindow ?? _options.CurrentValue.UnusedWindow, ct);

    private IndexAnalysis? Fresh(DateTimeOffset now) =>
        Volatile.Read(ref _cached) is { } cached && now - cached.StartedAt < _options.CurrentValue.AnalysisCacheDuration ? cached : null;
}
