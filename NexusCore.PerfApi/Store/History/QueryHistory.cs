using Microsoft.Extensions.Options;
using Npgsql;

namespace NexusCore.PerfApi.Store.History;

/// <summary>
/// A window's query figures from both places they live: the minutes before <see cref="HistoryWriter.PersistedBefore"/>
/// from Postgres, the minutes from it on from memory (<see cref="IQueryRollupSource"/>). Every query is read from
/// exactly one of the two, so nothing is counted twice. A minute split by a restart has its first part in Postgres
/// (written at shutdown) and the rest in memory: until this run writes anything, that minute is read from both
/// (the parts are disjoint); once it has, the whole minute is read from Postgres.
/// </summary>
public sealed class QueryHistory(
    HistoryReader reader,
    HistoryWriter writer,
    IQueryRollupSource memory,
    IOptions<TelemetryStoreOptions> store,
    TimeProvider time)
{
    /// <summary>This run's start: memory holds nothing older.</summary>
    public DateTimeOffset StartedAt => writer.StartedAt;

    /// <summary>
    /// Whether a window of <paramref name="span"/> needs Postgres: it reaches past the in-memory retention, or past this
    /// run's start while Postgres holds minutes of that part (after a restart). Otherwise, or when Postgres cannot say,
    /// memory alone is the window.
    /// </summary>
    public async Task<bool> NeededAsync(TimeSpan span, CancellationToken ct)
    {
        if (span > store.Value.Retention)
        {
            return true;
        }

        var (from, to) = Window(span);
        var (persistedTo, _) = Split(from, to);
        try
        {
            return from < StartedAt && persistedTo > from && await reader.AnyAsync(from, persistedTo, ct);
        }
        catch (NpgsqlException)
        {
            // Postgres away: memory still answers for what it holds.
            return false;
        }
    }

    /// <summary>The minutes of the last <paramref name="span"/> (the current, open minute included), per key, with points of <paramref name="pointWidth"/>.</summary>
    public async Task<HistoryWindow> ReadAsync(TimeSpan span, TimeSpan pointWidth, CancellationToken ct)
    {
        var (from, to) = Window(span);
        var (persistedTo, memoryFrom) = Split(from, to);
        var series = persistedTo > from
            ? (await reader.ReadAsync(from, persistedTo, pointWidth, ct)).ToDictionary(s => s.Key)
            : [];

        foreach (var rollup in memory.Rollups(memoryFrom, to))
        {
            if (!series.TryGetValue(rollup.Key, out var entry))
            {
                series[rollup.Key] = entry = new HistorySeries(rollup.Key);
            }

            var h = rollup.Durations;
            entry.Durations.Merge(h);
            entry.Errors += rollup.Errors;
            entry.AddPoint(from + (pointWidth * Math.Floor((rollup.Minute - from) / pointWidth)), h.Count, h.Sum, h.Max, rollup.Errors);
            if (rollup.Minute > entry.LastMinute)
            {
                entry.LastMinute = rollup.Minute;
            }
        }

        return new HistoryWindow(from, to, pointWidth, memoryFrom, series.Values.ToList());
    }

    /// <summary>
    /// Postgres is read before the first, memory from the second. Both are the writer's boundary, except while this run
    /// has written nothing: then the minute this run started in is read from both (an earlier run's part, this run's).
    /// </summary>
    private (DateTimeOffset PersistedTo, DateTimeOffset MemoryFrom) Split(DateTimeOffset from, DateTimeOffset to)
    {
        var boundary = writer.PersistedBefore;
        var persistedTo = boundary;
        var firstMinute = HistoryWriter.MinuteOf(StartedAt);
        if (!writer.HasWritten && boundary == firstMinute)
        {
            persistedTo = firstMinute + TimeSpan.FromMinutes(1);
        }

        return (Clamp(persistedTo, from, to), Clamp(boundary, from, to));
    }

    /// <summary>[from, to): the last <paramref name="span"/> of whole minutes, ending with the open one.</summary>
    private (DateTimeOffset From, DateTimeOffset To) Window(TimeSpan span)
    {
        var to = HistoryWriter.MinuteOf(time.GetUtcNow()) + TimeSpan.FromMinutes(1);
        return (to - span, to);
    }

    private static DateTimeOffset Clamp(DateTimeOffset value, DateTimeOffset from, DateTimeOffset to) =>
        value < from ? from : value > to ? to : value;
}

/// <summary>A window's figures per key; from <paramref name="MemoryFrom"/> on, minutes were read from memory.</summary>
public sealed record HistoryWindow(
    DateTimeOffset From,
    DateTimeOffset To,
    TimeSpan PointWidth,
    DateTimeOffset MemoryFrom,
    IReadOnlyList<HistorySeries> Series);

/// <summary>The roll-up source when no store provides one: nothing in memory to persist.</summary>
internal sealed class NoQueryRollups : IQueryRollupSource
{
    public IReadOnlyList<MinuteRollup> Rollups(DateTimeOffset from, DateTimeOffset to) => [];
}
