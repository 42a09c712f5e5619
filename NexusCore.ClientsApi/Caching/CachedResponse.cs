namespace NexusCore.ClientsApi.Caching;

/// <summary>A serialized JSON response as cached in memory and in Redis, with its ETag, when Postgres produced it, and how many rows it holds.</summary>
public sealed record CachedResponse(byte[] Body, string ETag, DateTime ProducedAt, int Rows);

/// <summary>
/// A response that knows how many rows it holds, for the query's telemetry (others count as one).
/// Implementations mark <see cref="Rows"/> <c>[JsonIgnore]</c> themselves: System.Text.Json does not
/// read attributes from an interface a record implements, and the count is not part of the API.
/// </summary>
public interface IRowCount
{
    int Rows { get; }
}

public enum CacheOutcome
{
    /// <summary>Served from the cache, within its TTL.</summary>
    Hit,

    /// <summary>Produced by Postgres for this request.</summary>
    Miss,

    /// <summary>Served past its TTL because Postgres failed or was too slow (fail-safe).</summary>
    Stale,

    /// <summary>Caching is off.</summary>
    Bypass,
}

public sealed record CacheResult(CachedResponse Response, CacheOutcome Outcome, TimeSpan Age);
