using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Caching.Memory;
using ZiggyCreatures.Caching.Fusion;

namespace NexusCore.ClientsApi.Caching;

/// <summary>
/// Cache statistics as OpenTelemetry metrics on the service's meter: <c>nexuscore.cache.hits</c>,
/// <c>.misses</c>, <c>.stale</c>, <c>.refreshes</c> (by <c>query.type</c>), and the in-process cache's <c>.entries</c> and
/// <c>.size</c> (bytes). The same figures are served by <c>GET /api/v1/cache/statistics</c>.
/// </summary>
public sealed class CacheMetrics
{
    public const string MeterName = "NexusCore.ClientsApi";

    private readonly Counter<long> _hits;
    private readonly Counter<long> _misses;
    private readonly Counter<long> _stale;
    private readonly Counter<long> _refreshes;
    private readonly ConcurrentDictionary<QueryType, Tally> _tallies = new();
    private readonly MemoryCache _memory;

    public CacheMetrics(IMeterFactory meters, MemoryCache memory, IFusionCache cache)
    {
        _memory = memory;
        var meter = meters.Create(MeterName);
        _hits = meter.CreateCounter<long>("nexuscore.cache.hits", "{request}", "Reads served from the cache within their TTL");
        _misses = meter.CreateCounter<long>("nexuscore.cache.misses", "{request}", "Reads that queried Postgres");
        _stale = meter.CreateCounter<long>("nexuscore.cache.stale", "{request}", "Reads served past their TTL because Postgres failed");
        _refreshes = meter.CreateCounter<long>("nexuscore.cache.refreshes", "{refresh}", "Entries refreshed ahead of their TTL, in the background, because a read found them past the eager-refresh threshold");
        cache.Events.EagerRefresh += (_, e) => RecordRefresh(e.Key);
        meter.CreateObservableGauge("nexuscore.cache.entries", () => Entries, "{entry}", "Entries in the in-process cache");
        meter.CreateObservableGauge("nexuscore.cache.size", () => SizeBytes, "By", "Estimated size of the in-process cache");
    }

    public long Entries => _memory.GetCurrentStatistics()?.CurrentEntryCount ?? _memory.Count;

    public long SizeBytes => _memory.GetCurrentStatistics()?.CurrentEstimatedSize ?? 0;

    public void Record(QueryType type, CacheOutcome outcome)
    {
        var tag = new KeyValuePair<string, object?>("query.type", Name(type));
        var tally = _tallies.GetOrAdd(type, static _ => new Tally());
        switch (outcome)
        {
            case CacheOutcome.Hit:
                _hits.Add(1, tag);
                Interlocked.Increment(ref tally.Hits);
                break;
            case CacheOutcome.Stale:
                _stale.Add(1, tag);
                Interlocked.Increment(ref tally.Stale);
                break;
            case CacheOutcome.Miss or CacheOutcome.Bypass:
                _misses.Add(1, tag);
                Interlocked.Increment(ref tally.Misses);
                break;
        }
    }

    /// <summary>Counts an eager refresh of the entry <paramref name="key"/> under its query type.</summary>
    private void RecordRefresh(string key)
    {
        if (ReadCache.TypeOfKey(key) is not { } type)
        {
            return;
        }

        _refreshes.Add(1, new KeyValuePair<string, object?>("query.type", Name(type)));
        Interlocked.Increment(ref _tallies.GetOrAdd(type, _ => new Tally()).Refreshes);
    }

    /// <summary>Counts since this process started.</summary>
    public IReadOnlyDictionary<QueryType, (long Hits, long Misses, long Stale, long Refreshes)> Snapshot() =>
        Enum.GetValues<QueryType>().ToDictionary(
            t => t,
            t => _tallies.TryGetValue(t, out var tally)
                ? (Interlocked.Read(ref tally.Hits), Interlocked.Read(ref tally.Misses), Interlocked.Read(ref tally.Stale), Interlocked.Read(ref tally.Refreshes))
                : (0L, 0L, 0L, 0L));

    /// <summary>The query type's name in tags and keys (<c>find</c>), made once rather than on every read.</summary>
    public static string Name(QueryType type) => (uint)type < (uint)Names.Length ? Names[(int)type] : type.ToString().ToLowerInvariant();

    private static readonly string[] Names = Enum.GetValues<QueryType>().Select(t => t.ToString().ToLowerInvariant()).ToArray();

    private sealed class Tally
    {
        public long Hits;
        public long Misses;
        public long Stale;
        public long Refreshes;
    }
}
