namespace NexusCore.PerfApi.Store;

/// <summary>
/// Metric names the performance endpoints read. Npgsql renamed its pool metrics when it adopted the stable
/// database semantic conventions (Npgsql 10, which NexusCore uses), so both generations are listed; the store
/// keeps whatever arrives under the name it arrived with.
/// </summary>
public static class WellKnownMetrics
{
    /// <summary>Npgsql 8/9: open connections, attribute <c>state</c> = idle | used and <c>pool.name</c>.</summary>
    public const string ConnectionsUsage = "db.client.connections.usage";

    /// <summary>Npgsql 8/9: the pool's maximum size, attribute <c>pool.name</c>.</summary>
    public const string ConnectionsMax = "db.client.connections.max";

    /// <summary>Npgsql 10: open connections, attributes <c>db.client.connection.state</c> and <c>db.client.connection.pool.name</c>.</summary>
    public const string ConnectionCount = "db.client.connection.count";

    /// <summary>Npgsql 10: the pool's maximum size, attribute <c>db.client.connection.pool.name</c>.</summary>
    public const string ConnectionMax = "db.client.connection.max";

    /// <summary>
    /// A setting in force (ClientsApi's cache TTLs and pool sizes), attributes <c>nexuscore.setting.name</c>,
    /// <c>nexuscore.setting.key</c> and <c>query.type</c> or <c>db.client.connection.pool.name</c>.
    /// </summary>
    public const string Setting = "nexuscore.setting";

    public const string CacheHits = "nexuscore.cache.hits";

    public const string CacheMisses = "nexuscore.cache.misses";

    /// <summary>Reads served past their TTL because Postgres failed: hits, for the hit rate.</summary>
    public const string CacheStale = "nexuscore.cache.stale";

    public const string CacheEntries = "nexuscore.cache.entries";

    public const string CacheSize = "nexuscore.cache.size";

    /// <summary>
    /// Query latency, a base-2 exponential histogram in seconds with attributes query type, table, operation, cache
    /// hit and (when the query failed) <c>error.type</c>: the source of every query figure (<see cref="QueryRollupStore"/>).
    /// </summary>
    public const string QueryDuration = "nexuscore.query.duration";
}
