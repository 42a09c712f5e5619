using Microsoft.Extensions.Options;

namespace NexusCore.PerfApi.Store.History;

/// <summary>
/// A window's query figures from both places they live: the minutes before <see cref="HistoryWriter.PersistedBefore"/>
/// from Postgres, the minutes from it on from memory (<see cref="IQueryRollupSource"/>). Every minute is read from
/// exactly one of the two, so nothing is counted twice, and a minute split by a restart (its first part written at
/// shutdown, the rest by the next run) is read whole from Postgres once the next run has written its part.
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
    /// run's start while Postgres holds minutes of that part (after a restart). Otherwise memory alone is the window.
    /// </summary>
    public async Task<bool> NeededAsync(TimeSpan span, CancellationToken ct)
    {
        if (span > store.Value.Retention)
        {
            return true;
        }

        var (from, to) = Window(span);
        var boundary = Clamp(writer.PersistedBefore, from, to);
        return from < StartedAt && boundary > from && await reader.AnyAsync(from, boundary, ct);
    }

    /// <summary>The minutes of the last <paramref name="span"/> (the current, open minute included), per key, with points of <paramref name="pointWidth"/>.</summary>
    public async Task<HistoryWindow> ReadAsync(TimeSpan span, TimeSpan pointWidth, CancellationToken ct)
    {
        var (from, to) = Window(span);
        var boundary = Clamp(writer.PersistedBefore, from, to);
        var series = boundary > from
            ? (await reader.ReadAsync(from, boundary, pointWidth, ct)).ToDictionary(s => s.Key)
            : [];

        foreach (var rollup in memory.Rollups(boundary, to))
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

        return new HistoryWindow(from, to, pointWidth, boundary, series.Values.ToList());
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

/// <summary>A window's figures per key; minutes before <paramref name="PersistedBefore"/> were read from Postgres, the rest from memory.</summary>
public sealed record HistoryWindow(
    DateTimeOffset From,
    DateTimeOffset To,
    TimeSpan PointWidth,
    DateTimeOffset PersistedBefore,
    IReadOnlyList<HistorySeries> Series);

/// <summary>The roll-up source when no store provides one: nothing in memory to persist.</summary>
internal sealed class NoQueryRollups : IQueryRollupSource
{
    public IReadOnlyList<MinuteRollup> Rollups(DateTimeOffset from, DateTimeOffset to) => [];
}
