using Microsoft.Extensions.Options;
using Npgsql;

namespace NexusCore.PerfApi.Store.History;

/// <summary>
/// Query roll-ups from both places they live, through the one seam every query figure is read by
/// (<see cref="IQueryRollupReader"/>): the minutes before <see cref="HistoryWriter.PersistedBefore"/> from Postgres,
/// the minutes from it on from memory (<see cref="IQueryRollupSource"/>). Every query is read from exactly one of the
/// two, so nothing is counted twice. A minute split by a restart has its first part in Postgres (written at shutdown)
/// and the rest in memory: until this run writes anything, that minute is read from both (the parts are disjoint);
/// once it has, the whole minute is read from Postgres. A range memory holds whole (after this run's first minute,
/// within its retention) is read from memory alone, without a round trip.
/// </summary>
/// <remarks>
/// The seam is synchronous, so Postgres is read with Npgsql's synchronous API. Ranges longer than
/// <see cref="MinuteGrainUpTo"/> come back from Postgres merged per key and hour (the roll-up's minute is the hour's
/// start, counted from the range's start), which every point width the readers use (1 h, 6 h) is a multiple of.
/// </remarks>
public sealed class HistoryRollupReader(
    HistoryReader reader,
    HistoryWriter writer,
    IQueryRollupSource memory,
    IOptions<TelemetryStoreOptions> store,
    IOptions<HistoryOptions> options,
    TimeProvider time) : IQueryRollupReader
{
    /// <summary>Ranges up to this long are read per minute; longer ones per hour.</summary>
    public static readonly TimeSpan MinuteGrainUpTo = TimeSpan.FromHours(2);

    /// <summary>Long ranges' persisted parts kept at most (one per range start; the oldest replaced beyond).</summary>
    public const int MaxCachedRanges = 8;

    private readonly Lock _gate = new();
    private readonly List<CachedRange> _cache = [];

    /// <summary>How many long ranges' persisted parts are cached now (at most <see cref="MaxCachedRanges"/>).</summary>
    public int CachedRanges
    {
        get
        {
            lock (_gate)
            {
                return _cache.Count;
            }
        }
    }

    /// <summary>Reads of a long range answered from the cache (its rows unchanged), since start.</summary>
    public long CacheHits => Interlocked.Read(ref _cacheHits);

    private long _cacheHits;

    /// <summary>Postgres keeps minutes for <see cref="HistoryOptions.Retention"/>.</summary>
    public DateTimeOffset? HeldSince => time.GetUtcNow() - options.Value.Retention;

    public IReadOnlyList<MinuteRollup> Read(DateTimeOffset from, DateTimeOffset to)
    {
        var memoryReach = time.GetUtcNow() - store.Value.Retention;
        if (from > HistoryWriter.MinuteOf(writer.StartedAt) && from >= memoryReach)
        {
            return memory.Rollups(from, to);
        }

        var (persistedTo, memoryFrom) = Split(from, to);
        var rollups = new List<MinuteRollup>();
        var longRange = to - from > MinuteGrainUpTo;
        if (longRange && Cached(from, to, memoryReach) is { } cached && Unchanged(cached, memoryReach))
        {
            Interlocked.Increment(ref _cacheHits);
            // Memory is read from where the cached read stopped: every minute since is still there.
            rollups.AddRange(cached.Rollups.Select(r => r with { Durations = r.Durations.Clone() }));
            rollups.AddRange(memory.Rollups(cached.MemoryFrom, to));
            return rollups;
        }

        if (persistedTo > from)
        {
            try
            {
                var persisted = reader.Read(from, persistedTo, longRange ? TimeSpan.FromHours(1) : TimeSpan.FromMinutes(1), out var rows);
                if (longRange)
                {
                    Cache(new CachedRange(from, persistedTo, memoryFrom, rows, persisted));
                    persisted = persisted.Select(r => r with { Durations = r.Durations.Clone() }).ToList();
                }

                rollups.AddRange(persisted);
            }
            catch (NpgsqlException) when (from >= memoryReach)
            {
                // Postgres away: memory still answers for what it holds (this run's minutes), as before history.
                return memory.Rollups(from, to);
            }
            catch (NpgsqlException ex)
            {
                throw new HistoryUnavailableException(ex);
            }
        }

        rollups.AddRange(memory.Rollups(memoryFrom, to));
        return rollups;
    }

    /// <summary>
    /// A long range's persisted part read earlier for the same start. It is used while memory still holds every minute
    /// from where it stopped, and while the rows it merged are unchanged (checked by <see cref="Unchanged"/>: one
    /// index-only count instead of merging them again): at most until the start moves on, which it does every minute,
    /// so a long window merges in Postgres once a minute however often it is asked for.
    /// </summary>
    private CachedRange? Cached(DateTimeOffset from, DateTimeOffset to, DateTimeOffset memoryReach)
    {
        lock (_gate)
        {
            var hit = _cache.Find(c => c.From == from);
            var memoryHolds = hit is not null && hit.MemoryFrom >= memoryReach && hit.MemoryFrom >= HistoryWriter.MinuteOf(writer.StartedAt);
            return hit is not null && (memoryHolds || to <= hit.MemoryFrom) ? hit : null;
        }
    }

    /// <summary>The cached range's rows are still what they were (one index-only count); unreadable counts as changed, unless memory answers.</summary>
    private bool Unchanged(CachedRange cached, DateTimeOffset memoryReach)
    {
        try
        {
            return reader.Rows(cached.From, cached.PersistedTo) == cached.Rows;
        }
        catch (NpgsqlException) when (cached.From >= memoryReach)
        {
            return false;
        }
        catch (NpgsqlException ex)
        {
            throw new HistoryUnavailableException(ex);
        }
    }

    private void Cache(CachedRange range)
    {
        lock (_gate)
        {
            _cache.RemoveAll(c => c.From == range.From);
            if (_cache.Count >= MaxCachedRanges)
            {
                _cache.RemoveAt(0);
            }

            _cache.Add(range);
        }
    }

    private sealed record CachedRange(DateTimeOffset From, DateTimeOffset PersistedTo, DateTimeOffset MemoryFrom, long Rows, IReadOnlyList<MinuteRollup> Rollups);

    /// <summary>
    /// Postgres is read before the first, memory from the second. Both are the writer's boundary, except while this run
    /// has written nothing: then the minute this run started in is read from both (an earlier run's part, this run's).
    /// </summary>
    private (DateTimeOffset PersistedTo, DateTimeOffset MemoryFrom) Split(DateTimeOffset from, DateTimeOffset to)
    {
        var boundary = writer.PersistedBefore;
        var persistedTo = boundary;
        var firstMinute = HistoryWriter.MinuteOf(writer.StartedAt);
        if (!writer.HasWritten && boundary == firstMinute)
        {
            persistedTo = firstMinute + TimeSpan.FromMinutes(1);
        }

        return (Clamp(persistedTo, from, to), Clamp(boundary, from, to));
    }

    private static DateTimeOffset Clamp(DateTimeOffset value, DateTimeOffset from, DateTimeOffset to) =>
        value < from ? from : value > to ? to : value;
}

/// <summary>A range reaching past what memory holds could not be read from Postgres; the endpoint answers 503.</summary>
public sealed class HistoryUnavailableException(NpgsqlException inner)
    : Exception("Query history could not be read from the database.", inner)
{
    /// <summary>PostgreSQL's SQLSTATE when it refused the read; never its message text.</summary>
    public string? SqlState => (InnerException as PostgresException)?.SqlState;
}
