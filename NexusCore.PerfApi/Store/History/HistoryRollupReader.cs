using Microsoft.Extensions.Options;
using Npgsql;

namespace NexusCore.PerfApi.Store.History;

/// <summary>
/// Query roll-ups from both places they live, through the one seam every query figure is read by
/// (<see cref="IQueryRollupReader"/>): the minutes before <see cref="HistoryWriter.PersistedBefore"/> from Postgres
/// (compacted hours and minutes: <see cref="HistoryReader"/>), the minutes from it on from memory
/// (<see cref="IQueryRollupSource"/>). Every query is read from exactly one of the two, so nothing is counted twice. A
/// minute split by a restart has its first part in Postgres (written at shutdown) and the rest in memory: until this
/// run writes anything, that minute is read from both (the parts are disjoint); once it has, the whole minute is read
/// from Postgres. A range memory holds whole (after this run's first minute, within its retention) is read from memory
/// alone, without a round trip.
/// </summary>
/// <remarks>
/// The seam is synchronous, so Postgres is read with Npgsql's synchronous API. Ranges longer than
/// <see cref="MinuteGrainUpTo"/> come back from Postgres merged per key and hour (counted from the range's start, a
/// clock hour for the windows that read them), which every point width the readers use is a multiple of; they read
/// mostly compacted hour rows (<see cref="HistoryCompactor"/>), so a week is about 170 rows per key, not 10,080.
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

    /// <summary>Postgres keeps history for <see cref="HistoryOptions.Retention"/>.</summary>
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
        if (persistedTo > from)
        {
            try
            {
                var grain = to - from > MinuteGrainUpTo ? TimeSpan.FromHours(1) : TimeSpan.FromMinutes(1);
                rollups.AddRange(reader.Read(from, persistedTo, grain));
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
