using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace NexusCore.ClientsApi.Caching;

/// <summary>The kinds of read the cache knows, each with its own TTL and statistics.</summary>
public enum QueryType
{
    /// <summary>Counts: the dashboard.</summary>
    Count,

    /// <summary>One client by id.</summary>
    Find,

    /// <summary>Lists, searches and by-ids.</summary>
    Search,

    /// <summary>Analytics over a date range.</summary>
    Analytics,
}

/// <summary>
/// Section <c>Cache</c>. The seed's flat names (<c>CACHE_TTL_FIND</c>, <c>CACHE_DEFAULT_TTL</c>, ...) reach these
/// keys through <see cref="NexusCore.ServiceDefaults.SeedSettings"/>. A query type's TTL is its own setting, else
/// <see cref="DefaultTtlSeconds"/> when that is set, else the type's default (its <see cref="DefaultValueAttribute"/>).
/// </summary>
public sealed class CacheOptions
{
    public const string Section = "Cache";

    private const int CountDefault = 60;
    private const int FindDefault = 300;
    private const int SearchDefault = 180;
    private const int AnalyticsDefault = 300;

    /// <summary>False turns caching off: every read goes to Postgres (the benchmark's "before").</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>When set, the TTL of every query type that has no TTL of its own set.</summary>
    [Range(1, 86_400)] public int? DefaultTtlSeconds { get; set; }

    [Range(1, 86_400), DefaultValue(CountDefault)] public int? CountTtlSeconds { get; set; }
    [Range(1, 86_400), DefaultValue(FindDefault)] public int? FindTtlSeconds { get; set; }
    [Range(1, 86_400), DefaultValue(SearchDefault)] public int? SearchTtlSeconds { get; set; }
    [Range(1, 86_400), DefaultValue(AnalyticsDefault)] public int? AnalyticsTtlSeconds { get; set; }

    /// <summary>
    /// Refresh-ahead: a read of an entry older than this fraction of its TTL is served from the cache
    /// while one query per instance refreshes the entry in the background, so entries read steadily
    /// never expire in front of a request. 0 turns it off (entries then expire and the next read waits
    /// for Postgres).
    /// </summary>
    [Range(0, 0.99)] public double EagerRefreshThreshold { get; set; } = 0.5;

    /// <summary>How long past its TTL an entry may still be served (marked stale) while Postgres is failing.</summary>
    [Range(0, 86_400)] public int FailSafeMaxSeconds { get; set; } = 3_600;

    /// <summary>Having served a stale entry, how long to wait before asking Postgres again.</summary>
    [Range(1, 3_600)] public int FailSafeThrottleSeconds { get; set; } = 5;

    /// <summary>When a stale entry exists, a slower query is left to finish in the background and the stale entry is served.</summary>
    [Range(1, 60_000)] public int FactorySoftTimeoutMs { get; set; } = 250;

    /// <summary>With nothing to fall back on, a query slower than this fails (503 with Retry-After) instead of hanging.</summary>
    [Range(1, 300_000)] public int FactoryHardTimeoutMs { get; set; } = 3_000;

    /// <summary>The in-process (L1) cache evicts beyond this many megabytes of responses.</summary>
    [Range(1, 16_384)] public int MaxMemoryMb { get; set; } = 256;

    /// <summary>
    /// After a write, its invalidation is repeated once after this delay, so a read that was already
    /// running against the old data when the write committed cannot keep a stale entry alive.
    /// </summary>
    [Range(0, 60_000)] public int InvalidationRepeatMs { get; set; } = 1_000;

    public TimeSpan Ttl(QueryType type) => TimeSpan.FromSeconds(TtlSeconds(type).Seconds);

    /// <summary>The TTL in force for <paramref name="type"/>, and the key of the setting that gives a type its own.</summary>
    public (string Key, int Seconds) TtlSeconds(QueryType type) => type switch
    {
        QueryType.Count => (Key(nameof(CountTtlSeconds)), CountTtlSeconds ?? DefaultTtlSeconds ?? CountDefault),
        QueryType.Find => (Key(nameof(FindTtlSeconds)), FindTtlSeconds ?? DefaultTtlSeconds ?? FindDefault),
        QueryType.Search => (Key(nameof(SearchTtlSeconds)), SearchTtlSeconds ?? DefaultTtlSeconds ?? SearchDefault),
        QueryType.Analytics => (Key(nameof(AnalyticsTtlSeconds)), AnalyticsTtlSeconds ?? DefaultTtlSeconds ?? AnalyticsDefault),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    private static string Key(string property) => $"{Section}:{property}";
}
